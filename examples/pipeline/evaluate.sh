#!/bin/bash
#SBATCH --job-name=evaluate
#SBATCH --output=logs/evaluate-%j.out
#SBATCH --time=5
# Picks the best sweep member.
python3 - <<'PY'
import glob, json
best = min((json.load(open(f))[-1]["loss"], f) for f in glob.glob("results-*.json"))
json.dump({"best_loss": best[0], "from": best[1]}, open("best.json", "w"))
print("best", best)
PY
