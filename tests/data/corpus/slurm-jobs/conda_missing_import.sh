#!/bin/bash
#SBATCH --job-name=qc_report
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# `conda activate` as in an interactive shell; conda is not initialised (nor installed) in the
# batch shell, so the job runs with the system python, which lacks the env's packages.
conda activate qc-env
srun python3 -c "
import pysam
bam = pysam.AlignmentFile('sample.bam')
print(bam.mapped)
"
