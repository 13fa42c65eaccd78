#!/bin/bash
#SBATCH --job-name=vae
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
source venv/bin/activate
srun python3 -u -c "
import math
def kl(logvar):
    return 0.5 * (math.exp(logvar) - logvar - 1)
loss = 1.2
logvar = 0.0
for step in range(1, 200):
    logvar += 40.0 * step / 10
    try:
        loss = 0.9 * loss + kl(logvar)
    except OverflowError:
        loss = float('nan')
    print(f'step {step} loss {loss}', flush=True)
    assert not math.isnan(loss), f'loss is nan at step {step}'
"
