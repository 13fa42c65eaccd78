#!/bin/bash
#SBATCH --job-name=ulimit_v_exec
#SBATCH --mem=200M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# site advice copied from an old cluster wiki: cap virtual memory at 50 MB per process
ulimit -v 50000
echo "starting preprocessing on $(hostname)"
python3 -c 'import json, csv; print("python ok")'
echo "exit code $?"
