#!/bin/bash
#SBATCH --job-name=train
#SBATCH --mem=100M
#SBATCH --time=1
#SBATCH --output=logs/%j.out

# set up the environment
source venv/bin/activate
python train.py --epochs 10
