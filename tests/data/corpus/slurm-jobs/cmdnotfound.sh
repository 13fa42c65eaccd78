#!/bin/bash
#SBATCH --job-name=align
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "aligning sample S1"
samtools view -b S1.sam > S1.bam
echo "exit: $?"
samtools index S1.bam
