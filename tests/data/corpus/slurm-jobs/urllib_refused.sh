#!/bin/bash
#SBATCH --job-name=urllib_refused
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import urllib.request
url = "http://127.0.0.1:8765/datasets/train.csv"
print("downloading", url, flush=True)
urllib.request.urlretrieve(url, "train.csv")
PY
