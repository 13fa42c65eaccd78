#!/bin/bash
#SBATCH --job-name=mcmc
#SBATCH --time=00:01:00
#SBATCH --mem=100M
#SBATCH --output=%x_%j.log
set -euo pipefail
source venv/bin/activate
# The sampler prints every few seconds and is still going when the time limit comes.
srun python3 -u -c "
import random, time
random.seed(1)
ll = -5231.4
for it in range(1, 100000):
    ll += random.gauss(0.3, 1.0)
    if it % 500 == 0:
        print(f'iter {it:6d}  logL {ll:10.2f}  accept 0.23', flush=True)
    time.sleep(0.004)
" | tee chain_${SLURM_JOB_ID}.txt
