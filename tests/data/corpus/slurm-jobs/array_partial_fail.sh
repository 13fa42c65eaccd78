#!/bin/bash
#SBATCH --job-name=sweep
#SBATCH --array=1-3
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x_%A_%a.out
set -euo pipefail
source venv/bin/activate
LR=$(sed -n "${SLURM_ARRAY_TASK_ID}p" <<'P'
0.001
1e-3x
0.0003
P
)
echo "task ${SLURM_ARRAY_TASK_ID}: lr=${LR}"
srun python3 -c "
import sys
lr = float(sys.argv[1])
for epoch in range(3):
    print(f'epoch {epoch} lr {lr} val_acc {0.7 + epoch * 0.05:.2f}')
print('finished')
" "$LR"
