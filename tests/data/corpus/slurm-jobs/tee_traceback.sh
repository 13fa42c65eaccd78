#!/bin/bash
#SBATCH --job-name=tokenize
#SBATCH --time=5
#SBATCH --output=%x-%j.out
set -o pipefail
# The program's output also goes to a log file through tee.
python3 -u - 2>&1 <<'PY' | tee tokenize.log
import json
records = ['{"id": 1, "text": "hello"}', '{"id": 2, "text": "wor']
for line in records:
    rec = json.loads(line)
    print("tokenized", rec["id"])
PY
