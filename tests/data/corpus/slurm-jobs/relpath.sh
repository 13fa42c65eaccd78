#!/bin/bash
#SBATCH --job-name=preprocess
#SBATCH --time=5
#SBATCH --chdir=/tmp
#SBATCH --output=/tmp/diag-stage/slurm/%x-%j.out
python3 - <<'PY'
import csv
print("reading training table")
with open("data/train.csv") as f:
    rows = list(csv.reader(f))
print(len(rows))
PY
