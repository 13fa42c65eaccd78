#!/bin/bash
#SBATCH --job-name=stage_configs
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
mkdir -p run_001
echo "staging configs into run_001"
cp configs/*.yaml run_001/
echo "staged"
