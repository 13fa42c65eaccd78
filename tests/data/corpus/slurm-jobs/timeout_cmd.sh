#!/bin/bash
#SBATCH --job-name=timeout_cmd
#SBATCH --time=10
#SBATCH --output=%x-%j.out
# give the solver 20 s, leave the rest of the allocation for post-processing
timeout 20s python3 - <<'PY'
import time
for it in range(1000):
    print(f"iteration {it} residual {1.0/(it+1):.3e}", flush=True)
    time.sleep(2)
PY
rc=$?
echo "solver exited with $rc"
exit $rc
