"""The local quick start: a tiny "training run" that logs a loss per epoch and writes its
metrics to outputs/ beside this file.

A fresh checkout has no outputs/ folder, so the first attempt fails when it opens its metrics
file (FileNotFoundError), as a real run does when its output folder was never created. trackit's
built-in policy diagnoses a missing output folder inside the repository, creates it and relaunches;
the second attempt trains and fills the results table.
"""
import argparse
import json
import math
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

out = Path(__file__).resolve().parent / "outputs"
print(f"training for {args.epochs} epochs, metrics in {out}", flush=True)
with open(out / "metrics.jsonl", "w") as log:
    for epoch in range(1, args.epochs + 1):
        loss = 1.0 / math.sqrt(epoch) + 0.05
        accuracy = 1.0 - loss / 2
        print(f"epoch {epoch} loss {loss:.4f} accuracy {accuracy:.4f}", flush=True)
        log.write(json.dumps({"epoch": epoch, "loss": loss, "accuracy": accuracy}) + "\n")
        time.sleep(0.5)
print("done", flush=True)
