#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Reads its parameters from a file "beside the script": under sbatch, $0 is slurmd's spool copy.
HERE=$(dirname "$0")
LR=$(cat "$HERE/params.txt")
echo "lr=$LR"
python3 -c "import sys; lr = float(sys.argv[1]); print('training with', lr)" "$LR"
