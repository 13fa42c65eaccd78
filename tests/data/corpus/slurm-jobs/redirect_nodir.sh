#!/bin/bash
#SBATCH --job-name=blast_chunk
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Redirects its output into a directory that was never created.
echo "chunk 7: 1200 queries"
python3 -c "print('\n'.join(f'q{i}\tsubj{i%13}\t98.{i%10}' for i in range(5)))" > out/chunk_07/hits.tsv
