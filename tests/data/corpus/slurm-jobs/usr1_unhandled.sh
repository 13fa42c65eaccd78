#!/bin/bash
#SBATCH --job-name=finetune_nohandler
#SBATCH --time=00:05:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# The same `scancel --signal=USR1 <jobid>`, sent to a program with no handler for it.
source venv/bin/activate
srun python3 -u -c "
import time
step = 0
while True:
    step += 1
    if step % 10 == 0:
        print(f'step {step} loss {1.0 / step:.4f}', flush=True)
    time.sleep(0.2)
"
