#!/bin/bash
#SBATCH --job-name=reduce
#SBATCH --time=00:01:00
#SBATCH --mem=100M
#SBATCH --output=slurm-%j.out
set -euo pipefail
echo "reduce: waiting for all 4 shards in ./shards"
# The program blocks forever on a lock that a crashed earlier job left behind, and prints nothing.
srun python3 -c "
import fcntl, os, time
os.makedirs('shards', exist_ok=True)
fd = os.open('shards/.lock', os.O_CREAT | os.O_RDWR)
while True:
    time.sleep(3600)
"
echo "reduce: done"
