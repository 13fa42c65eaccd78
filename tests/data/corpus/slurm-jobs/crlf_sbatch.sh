#!/bin/bash
#SBATCH --job-name=crlf_sbatch
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "starting analysis"
python3 -c "print(42)"
