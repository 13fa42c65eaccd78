#!/bin/bash
#SBATCH --job-name=train_torch
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "starting training on $(hostname)"
python3 - <<'PY'
import json
import torch
print(torch.__version__)
PY
