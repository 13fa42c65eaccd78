#!/bin/bash
#SBATCH --job-name=pip_refused
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# the lab's package mirror (not running on the compute node)
python3 -m venv venv-$SLURM_JOB_ID
source venv-$SLURM_JOB_ID/bin/activate
pip install --index-url http://127.0.0.1:3141/simple/ --retries 1 --timeout 5 tqdm
python3 -c 'import tqdm; print("ok")'
