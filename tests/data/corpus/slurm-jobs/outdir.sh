#!/bin/bash
#SBATCH --time=00:02:00
#SBATCH --mem=200M
# Writes its results into a directory that nobody created.
python3 -c "
import csv
with open('results/run1/summary.csv', 'w') as f:
    csv.writer(f).writerow(['step', 'loss'])
"
