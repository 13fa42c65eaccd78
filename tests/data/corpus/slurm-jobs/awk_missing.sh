#!/bin/bash
#SBATCH --job-name=count_genes
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "summing counts"
gawk -F'\t' '{ s[$1] += $2 } END { for (g in s) print g, s[g] }' results/featureCounts/counts.tsv > gene_totals.txt
