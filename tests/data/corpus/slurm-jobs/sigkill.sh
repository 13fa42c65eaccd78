#!/bin/bash
#SBATCH --job-name=worker
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "worker started"
python3 -c "import os, signal, time; print('processing batch 1', flush=True); time.sleep(2); os.kill(os.getpid(), signal.SIGKILL)"
