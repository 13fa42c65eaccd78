#!/bin/bash
#SBATCH --job-name=eval_ckpt
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import pickle
path = "/scratch/users/alice/runs/exp42/checkpoint_best.pkl"
print(f"loading {path}")
with open(path, "rb") as f:
    state = pickle.load(f)
PY
