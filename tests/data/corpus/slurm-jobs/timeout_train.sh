#!/bin/bash
#SBATCH --job-name=train_resnet
#SBATCH --time=0:01
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import time, math
for epoch in range(1000):
    loss = 2.3 * math.exp(-epoch / 20)
    print(f"epoch {epoch:4d} | loss {loss:.4f} | lr 3.0e-04", flush=True)
    time.sleep(4)
PY
