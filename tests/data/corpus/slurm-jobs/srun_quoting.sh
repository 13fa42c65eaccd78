#!/bin/bash
#SBATCH --job-name=assemble
#SBATCH --mem=150M
#SBATCH --ntasks=1
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# The assembler runs as an srun step and outgrows the job's memory.
# (As submitted: the b"..." inside the double-quoted python3 -c ends the shell string early,
# so Python sees bx01 - a shell quoting bug. srun_oom.sh is the corrected script.)
echo "assembling contigs"
srun python3 -c "
import time
graph = []
for i in range(100):
    graph.append(b"\x01" * (8 * 1024 * 1024))
    print(f'nodes loaded: {(i + 1) * 8} MiB', flush=True)
    time.sleep(0.05)
"
