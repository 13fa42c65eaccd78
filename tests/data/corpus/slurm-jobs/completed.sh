#!/bin/bash
#SBATCH --job-name=eval
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import warnings, math
warnings.warn("error bars are not computed for fewer than 3 seeds")
losses = [0.9, 0.5, float("nan"), 0.3]
for i, l in enumerate(losses):
    print(f"step {i} loss {l}")
print("eval accuracy 0.873 (errors: 127 of 1000)")
print("Finished evaluation, results written to results.json")
PY
