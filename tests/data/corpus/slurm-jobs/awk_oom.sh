#!/bin/bash
#SBATCH --job-name=dedup
#SBATCH --mem=60M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Deduplicates read names with an awk hash that outgrows the job's memory.
echo "deduplicating"
seq 1 5000000 | awk '{ seen["read_" $1 "_ACGTACGTACGTACGTACGT"]++ } END { print length(seen), "unique" }'
echo "awk exit: $?"
