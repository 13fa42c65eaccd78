#!/bin/bash
#SBATCH --output=logs/train-%j.out
#SBATCH --time=5
# One sweep member: a tiny least-squares fit with learning rate $1, metrics to results-$1.json.
LR=$1
python3 - "$LR" <<'PY'
import json, sys
lr = float(sys.argv[1])
rows = json.load(open("data.json"))
w = [0.0] * 3
history = []
for epoch in range(1, 6):
    loss = 0.0
    for r in rows:
        pred = sum(wi * xi for wi, xi in zip(w, r[:3]))
        err = pred - r[3]
        loss += err * err
        w = [wi - lr * err * xi for wi, xi in zip(w, r[:3])]
    loss /= len(rows)
    history.append({"epoch": epoch, "loss": round(loss, 5)})
    print(f"Epoch {epoch}/5 loss={loss:.5f}", flush=True)
json.dump(history, open(f"results-{lr}.json", "w"))
PY
