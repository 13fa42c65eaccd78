#!/bin/bash
#SBATCH --job-name=align
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# The job works in a scratch folder, but the program still reads its input by the path that was
# right in the submit directory.
mkdir -p /tmp/scratch_$SLURM_JOB_ID
cd /tmp/scratch_$SLURM_JOB_ID
echo "working in $(pwd)"
srun python3 -c "
import csv
with open('data/samples.csv') as f:
    rows = list(csv.reader(f))
print(len(rows), 'samples')
"
