#!/bin/bash
#SBATCH --job-name=grep_true
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
python3 -c 'print("simulation finished, energy -12.5")' > sim-$SLURM_JOB_ID.out
# count warnings from the previous run, if any
nwarn=$(grep -c WARNING previous-run.log || true)
echo "warnings in previous run: ${nwarn:-0}"
errs=$(grep -i error sim-$SLURM_JOB_ID.out || true)
echo "errors: ${errs:-none}"
echo "all done"
