#!/bin/bash
#SBATCH --job-name=features
#SBATCH --mem=120M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Builds a feature matrix as Python lists of floats in a job that asked for 120M.
echo "building feature matrix"
python3 - <<'PY'
rows = []
for i in range(200):
    rows.append([float(j) for j in range(50000)])
    if i % 20 == 0:
        print(f"row block {i}: {len(rows)} rows", flush=True)
print("matrix ready", len(rows))
PY
echo "python exit: $?"
