#!/bin/bash
#SBATCH --job-name=requeue
#SBATCH --time=5
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=%x-%j.out
echo "start $(date +%T) restart count ${SLURM_RESTART_COUNT:-0}"
for i in $(seq 1 8); do echo "step $i"; sleep 3; done
echo "finished"
