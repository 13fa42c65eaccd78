#!/bin/bash
#SBATCH --job-name=quickstart
#SBATCH --mem=100M
#SBATCH --time=00:05:00
#SBATCH --output=slurm-%j.out
# Needs about 150 MB: the first attempt at 100M is OOM-killed, trackit doubles --mem and relaunches.
python3 train.py --epochs 5
