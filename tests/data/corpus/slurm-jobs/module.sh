#!/bin/bash
#SBATCH --job-name=gromacs
#SBATCH --time=5
#SBATCH --output=%x-%j.out
module load gromacs/2023.2
gmx mdrun -deffnm md
