#!/bin/bash
#SBATCH --job-name=run_exp
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Runs train.py "from the script's directory", which under sbatch is slurmd's spool.
cd "$(dirname "$0")"
python3 train.py --epochs 10
