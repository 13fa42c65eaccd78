#!/bin/bash
#SBATCH --job-name=train_cfg
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
config = {"lr": 3e-4, "batch_size": 32}
print("config:", config)
warmup = config["warmup_steps"]
PY
