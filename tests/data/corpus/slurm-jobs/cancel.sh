#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --time=10
#SBATCH --output=%x-%j.out
for i in $(seq 1 60); do echo "trial $i"; sleep 5; done
