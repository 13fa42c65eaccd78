#!/bin/bash
#SBATCH --job-name=ulimit_v_memerror
#SBATCH --mem=300M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# keep the address space inside the request so the job fails cleanly instead of swapping
ulimit -v $(( SLURM_MEM_PER_NODE * 1024 ))
echo "virtual memory limit: $(ulimit -v) kB"
python3 - <<'PY'
rows = []
for i in range(100):
    rows.append([float(j) for j in range(250000)])
    if i % 10 == 0:
        print(f"parsed block {i}", flush=True)
print("parsed", len(rows), "blocks")
PY
