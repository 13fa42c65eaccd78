#!/bin/bash
#SBATCH --job-name=ulimit_n
#SBATCH --time=5
#SBATCH --output=%x-%j.out
ulimit -n 128
mkdir -p shards-$SLURM_JOB_ID
python3 - <<'PY'
import os
d = f"shards-{os.environ['SLURM_JOB_ID']}"
handles = []
for i in range(500):
    handles.append(open(f"{d}/part-{i:04d}.csv", "w"))
    if i % 50 == 0:
        print(f"opened shard {i}", flush=True)
for h in handles:
    h.close()
PY
rm -rf shards-$SLURM_JOB_ID
