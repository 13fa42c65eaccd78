#!/bin/bash
#SBATCH --job-name=signal_ckpt
#SBATCH --time=2
#SBATCH --signal=B:USR1@60
#SBATCH --output=%x-%j.out
checkpoint() {
  echo "caught SIGUSR1 at $(date +%T): time limit near, writing checkpoint"
  echo "$step" > ckpt-$SLURM_JOB_ID.txt
  echo "checkpoint written at step $step, exiting; resubmit to continue"
  exit 0
}
trap checkpoint USR1
step=0
while true; do
  step=$((step + 1))
  echo "step $step"
  sleep 5 &
  wait $!
done
