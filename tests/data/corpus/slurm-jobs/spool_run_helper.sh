#!/bin/bash
#SBATCH --job-name=prep
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
# Calls a helper script kept next to this one, by $0's folder: slurmd's spool under sbatch.
echo "preparing data on $(hostname)"
"$(dirname "$0")/prepare_data.sh" --out data/
echo "done"
