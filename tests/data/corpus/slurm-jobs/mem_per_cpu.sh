#!/bin/bash
#SBATCH --job-name=mem_per_cpu
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem-per-cpu=100M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "building k-mer index"
python3 - <<'PY'
index = {}
for i in range(5_000_000):
    index[f"kmer{i:09d}"] = i
    if i % 500_000 == 0:
        print(f"{i} k-mers", flush=True)
print("index size", len(index))
PY
