#!/bin/bash
#SBATCH --job-name=counts
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# Step 1 is allowed to "fail" (|| true) because it sometimes warns; step 2 then reads what it made.
sort -k2,2 reads/sample_A.tsv > sorted_A.tsv || true
python3 -c "
import statistics
vals = [int(l.split()[1]) for l in open('sorted_A.tsv')]
print('median count', statistics.median(vals))
"
