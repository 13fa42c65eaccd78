#!/bin/bash
#SBATCH --job-name=prepare
#SBATCH --output=logs/prepare-%j.out
#SBATCH --time=5
# Makes the dataset the training steps read.
python3 - <<'PY'
import json, random
random.seed(0)
rows = [[random.random() for _ in range(4)] for _ in range(2000)]
json.dump(rows, open("data.json", "w"))
print(f"wrote {len(rows)} rows")
PY
