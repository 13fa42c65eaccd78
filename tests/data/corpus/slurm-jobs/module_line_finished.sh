#!/bin/bash
#SBATCH --job-name=bootstrap_ci
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# Copied from the old cluster's template: the module lines fail here (no module system on this
# cluster), and the analysis runs with the system python and finishes.
module load python/3.11
module load gcc/12.2.0
srun python3 -c "
import random, statistics
random.seed(3)
data = [random.gauss(10, 2) for _ in range(500)]
means = sorted(statistics.mean(random.choices(data, k=len(data))) for _ in range(200))
print(f'mean {statistics.mean(data):.3f}  95% CI [{means[5]:.3f}, {means[194]:.3f}]')
"
