#!/bin/bash
#SBATCH --job-name=srun_time
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "step 1: simulate"
srun --time=1 python3 -c '
import time
for t in range(100):
    print("t =", t, flush=True)
    time.sleep(5)
'
echo "simulate step exited with $?"
