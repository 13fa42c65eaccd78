#!/bin/bash
#SBATCH --job-name=per_sample
#SBATCH --array=1-2
#SBATCH --time=5
#SBATCH --output=%x-%A_%a.out
# One task per sample; sample 2's input was never staged.
echo "S1 ACGT" > sample_1.txt
SAMPLE=sample_${SLURM_ARRAY_TASK_ID}.txt
echo "task $SLURM_ARRAY_TASK_ID: $SAMPLE"
python3 -c "
import sys
with open(sys.argv[1]) as f:
    print('reads:', len(f.read().split()))
" "$SAMPLE"
