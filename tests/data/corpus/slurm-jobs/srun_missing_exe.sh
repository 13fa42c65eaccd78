#!/bin/bash
#SBATCH --job-name=cfd
#SBATCH --ntasks=1
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# The step names a binary that was built in another directory.
echo "launching solver"
srun ./bin/cfd_solver --case cavity
