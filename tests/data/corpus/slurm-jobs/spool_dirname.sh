#!/bin/bash
#SBATCH --job-name=pipeline
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -e
# Finds its config next to "itself": under sbatch, $0 is slurmd's spool copy of the script.
SCRIPT_DIR=$(dirname "$0")
source "$SCRIPT_DIR/config.sh"
echo "samples: $SAMPLES"
