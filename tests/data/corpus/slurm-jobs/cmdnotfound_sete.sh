#!/bin/bash
#SBATCH --job-name=map_reads
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -euo pipefail
echo "[$(date +%T)] mapping sample NA12878"
bwa mem -t 1 ref/GRCh38.fa reads/NA12878_R1.fq.gz reads/NA12878_R2.fq.gz > NA12878.sam
echo "done"
