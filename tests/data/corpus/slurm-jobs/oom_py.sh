#!/bin/bash
#SBATCH --job-name=oom_py
#SBATCH --mem=100M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "loading dataset into memory"
python3 - <<'PY'
import time
chunks = []
for i in range(40):
    chunks.append(bytearray(20 * 1024 * 1024))
    print(f"loaded shard {i}: {20*(i+1)} MiB", flush=True)
    time.sleep(0.1)
print("done")
PY
