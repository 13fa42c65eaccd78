#!/bin/bash
#SBATCH --job-name=oom_sort
#SBATCH --mem=64M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
echo "sorting reads"
python3 -c "import sys; [print(i) for i in range(3000000)]" | sort -S 500M -n > /dev/null
echo "sorted"
