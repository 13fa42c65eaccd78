#!/bin/bash
#SBATCH --job-name=collate
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
batch = [[0.1] * 128, [0.2] * 128, [0.3] * 127]
print(f"collating {len(batch)} samples")
for i, x in enumerate(batch):
    assert len(x) == 128, f"sample {i} has length {len(x)}, expected 128"
print("ok")
PY
