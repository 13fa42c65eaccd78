#!/bin/bash
#SBATCH --job-name=sweep_cfg
#SBATCH --array=0-1
#SBATCH --time=5
#SBATCH --output=%x-%A_%a.out
# Each array task picks a config line; task 1's line is malformed.
printf 'lr=0.01 wd=1e-4\nlr=0.001 wd=\n' > configs.txt
LINE=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" configs.txt)
echo "task $SLURM_ARRAY_TASK_ID: $LINE"
python3 -c "
import sys
cfg = dict(kv.split('=') for kv in sys.argv[1:])
print('lr', float(cfg['lr']), 'wd', float(cfg['wd']))
" $LINE
