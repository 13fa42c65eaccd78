#!/bin/bash
#SBATCH --job-name=smooth
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --export=NONE
#SBATCH --output=%x-%j.out
# trackutils lives in ~/pylib, put on PYTHONPATH by the user's interactive ~/.bashrc; the batch
# shell reads no .bashrc and --export=NONE passes nothing on.
echo "host $(hostname), PYTHONPATH='${PYTHONPATH:-}'"
srun python3 -c "
import trackutils
print(trackutils.smooth([1, 2, 3]))
"
