#!/bin/bash
#SBATCH --job-name=vae
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import math
lr = 5.0
w = 1.0
for step in range(400):
    grad = 2 * w
    w -= lr * grad
    loss = w * w
    print(f"step {step} loss {loss:.4g}", flush=True)
    if math.isinf(loss) or math.isnan(loss):
        raise FloatingPointError(f"loss became {loss} at step {step}; aborting")
PY
