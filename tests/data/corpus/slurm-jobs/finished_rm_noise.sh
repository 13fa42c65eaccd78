#!/bin/bash
#SBATCH --job-name=postproc
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Cleans a scratch folder that does not exist yet, then does its work and finishes.
rm -r tmp_frames/*
mkdir -p tmp_frames
for i in 1 2 3; do echo "frame $i" > tmp_frames/f$i.txt; done
ls tmp_frames | wc -l
echo "post-processing done"
