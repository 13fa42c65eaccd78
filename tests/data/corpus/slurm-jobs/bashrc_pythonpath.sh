#!/bin/bash
#SBATCH --job-name=smooth
#SBATCH --time=00:02:00
#SBATCH --mem=100M
#SBATCH --output=%x-%j.out
# trackutils lives in ~/pylib, put on PYTHONPATH by the user's interactive ~/.bashrc; the shell
# sbatch was run from had not read it (a fresh login shell from a workflow tool), and the batch
# shell reads no .bashrc either.
source venv/bin/activate
echo "host $(hostname), PYTHONPATH='${PYTHONPATH:-}'"
srun python3 -c "
from trackutils import smooth
print(smooth([1, 2, 3]))
"
