#!/bin/bash
#SBATCH --job-name=featurize
#SBATCH --mem=300M
#SBATCH --ntasks=1
#SBATCH --time=00:05:00
#SBATCH --output=%x-%j.out
# The featurizer runs as a step with its own --mem; the script has no `set -e`, so it goes on
# to the summary step after the first step is killed.
module purge 2>/dev/null || true
echo "[$(date +%T)] featurize: start"
srun --mem=120M python3 -u -c "
buf = []
for i in range(1, 60):
    buf.append(b'\x01' * (4 * 1024 * 1024))
    if i % 5 == 0:
        print(f'featurized {i * 1000} molecules', flush=True)
print('wrote features.npz')
"
echo "[$(date +%T)] summary"
ls -1 features.npz 2>/dev/null | wc -l
echo "[$(date +%T)] all steps finished"
