#!/bin/bash
#SBATCH --job-name=embed_cache
#SBATCH --mem=500M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A Python job whose address space is capped (as sites do with ulimit -v) preallocates a cache.
ulimit -v 300000
python3 - <<'PY'
import array
print("allocating embedding cache for 5000000 tokens x 64 dims")
cache = array.array("d", bytes(8 * 5_000_000 * 64))
print(len(cache))
PY
