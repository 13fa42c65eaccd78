#!/bin/bash
#SBATCH --job-name=brokenpool_kill
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import os, signal, time
from concurrent.futures import ProcessPoolExecutor
def work(i):
    time.sleep(0.5)
    if i == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return i * i
if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as ex:
        for r in ex.map(work, range(8)):
            print("result", r, flush=True)
PY
