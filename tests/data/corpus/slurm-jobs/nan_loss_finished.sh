#!/bin/bash
#SBATCH --job-name=vae_sweep
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
source venv/bin/activate
srun python3 -u -c "
import math
loss = 1.2
for step in range(1, 31):
    loss = loss * 0.9 if step < 12 else float('nan')
    if step % 3 == 0:
        print(f'step {step} loss {loss:.4f}', flush=True)
print('saved model to vae_last.pt')
print('done: 30 steps')
"
