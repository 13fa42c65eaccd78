#!/bin/bash
#SBATCH --job-name=train_mlp
#SBATCH --partition=debug
#SBATCH --cpus-per-task=1
#SBATCH --mem=200M
#SBATCH --time=00:05:00
#SBATCH --output=%x-%j.out
# A training loop that keeps every batch's activations for a "diagnostics" dump: memory grows
# each step until the cgroup limit kills it.
source venv/bin/activate
echo "python: $(which python3)"
srun python3 -u - <<'PY'
import random, math
random.seed(0)
history = []
loss = 2.3
for epoch in range(1, 4):
    for step in range(1, 201):
        acts = bytearray(4 * 1024 * 1024)   # this batch's activations, kept for the dump
        history.append(acts)
        loss = loss * 0.995 + random.random() * 0.01
        if step % 20 == 0:
            print(f"epoch {epoch} step {step:4d}/200 loss {loss:.4f} lr 3.0e-04", flush=True)
print("training done")
PY
