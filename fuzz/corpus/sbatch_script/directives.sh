#!/bin/bash
#SBATCH -p gpu -t 1:00:00 --mem=8G
#SBATCH --gres=gpu:a100:2 --chdir=/scratch/x
#SBATCH --array=0-3%2

singularity exec --nv -B /data:/data img.sif python train.py
