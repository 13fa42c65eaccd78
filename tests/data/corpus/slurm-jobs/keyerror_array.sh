#!/bin/bash
#SBATCH --job-name=keyerror_array
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# meant to be submitted with --array=0-9
python3 - <<'PY'
import os
params = [0.1, 0.2, 0.5, 1.0, 2.0]
task = int(os.environ["SLURM_ARRAY_TASK_ID"])
print("running with lr", params[task])
PY
