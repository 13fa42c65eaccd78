#!/bin/bash
#SBATCH --job-name=bootstrap
#SBATCH --array=1-2
#SBATCH --time=10
#SBATCH --output=%x-%A_%a.out
# An array whose user cancels the whole array with scancel while its tasks run.
echo "bootstrap replicate $SLURM_ARRAY_TASK_ID of 2 (job $SLURM_ARRAY_JOB_ID)"
for i in $(seq 1 100); do echo "replicate $SLURM_ARRAY_TASK_ID: resample $i"; sleep 3; done
