#!/bin/bash
#SBATCH --job-name=optional_warning
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import sys, json, warnings
try:
    import ujson as fastjson
except ImportError:
    warnings.warn("ujson is not installed; falling back to the standard json module (slower)", ImportWarning)
    print("WARNING: optional module 'ujson' not found, using json", file=sys.stderr)
    fastjson = json
data = [{"id": i, "v": i * 0.5} for i in range(1000)]
s = fastjson.dumps(data)
print("wrote", len(s), "bytes")
print("done")
PY
