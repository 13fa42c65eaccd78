#!/bin/bash
#SBATCH --job-name=timeout_vs_slurm
#SBATCH --time=1
#SBATCH --output=%x-%j.out
# the solver gets 10 minutes; the job asked for 1
timeout 10m python3 - <<'PY'
import time
for it in range(1000):
    print(f"epoch {it} loss {1.0/(it+1):.4f}", flush=True)
    time.sleep(5)
PY
echo "solver exited with $?"
