#!/bin/bash
#SBATCH --job-name=wrf_post
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
# $WORKDIR is set in the user's login profile, not in the batch job.
cd "$WORKDIR/wrf/run_2026"
echo "post-processing in $(pwd)"
