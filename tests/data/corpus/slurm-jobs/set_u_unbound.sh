#!/bin/bash
#SBATCH --job-name=set_u_unbound
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -euo pipefail
echo "job $SLURM_JOB_ID on $SLURM_JOB_NODELIST"
OUT=$RESULTS_DIR/run-$SLURM_JOB_ID
mkdir -p "$OUT"
python3 -c 'print("training")' > "$OUT/log.txt"
