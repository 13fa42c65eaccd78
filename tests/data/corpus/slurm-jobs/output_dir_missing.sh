#!/bin/bash
#SBATCH --job-name=preproc
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=logs/%j.out
#SBATCH --error=logs/%j.err
# logs/ was never created in the submit directory.
echo "preprocessing started"
python3 -c "print('processed 1200 files')"
