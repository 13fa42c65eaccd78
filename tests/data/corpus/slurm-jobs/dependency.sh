#!/bin/bash
#SBATCH --job-name=after_train
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Submitted with --dependency=afterok on a job that failed (see the report).
echo "evaluating the trained model"
