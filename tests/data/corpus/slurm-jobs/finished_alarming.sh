#!/bin/bash
#SBATCH --job-name=eval
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
source venv/bin/activate
rm -r tmp_eval_cache 2>&1 || echo "no old cache"
srun python3 -u -c "
import warnings, sys
warnings.warn('dataset has 3 empty images; they will be skipped', RuntimeWarning)
print('ERROR: could not read image 17 (empty file), skipping', file=sys.stderr)
print('retrying download of weights: Connection reset by peer (attempt 1/3)', file=sys.stderr)
print('weights loaded on attempt 2')
for b in range(1, 6):
    print(f'batch {b}/5 acc {0.8 + b / 100:.2f}')
print('Killed 2 idle prefetch workers')
print('accuracy 0.852 (n=1200) written to eval.json')
"
