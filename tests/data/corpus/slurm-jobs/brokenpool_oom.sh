#!/bin/bash
#SBATCH --job-name=brokenpool_oom
#SBATCH --mem=150M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
from concurrent.futures import ProcessPoolExecutor
def work(n):
    buf = [bytearray(10 * 1024 * 1024) for _ in range(n)]
    return len(buf)
if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=2) as ex:
        for r in ex.map(work, [2, 3, 30, 4]):
            print("chunk done", r, flush=True)
PY
