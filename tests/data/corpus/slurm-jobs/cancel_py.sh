#!/bin/bash
#SBATCH --job-name=hparam_search
#SBATCH --time=10
#SBATCH --output=%x-%j.out
# Cancelled by its user with scancel a few trials in.
python3 - <<'PY'
import random, time
random.seed(1)
for trial in range(200):
    lr = 10 ** random.uniform(-5, -2)
    print(f"trial {trial} lr={lr:.2e} val_acc={random.uniform(0.6, 0.9):.3f}", flush=True)
    time.sleep(3)
PY
