#!/bin/bash
#SBATCH --job-name=legacy_tool
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# Code written for an older Python: collections.Mapping was removed in 3.10.
python3 - <<'PY'
from collections import Mapping


def flatten(d, prefix=""):
    for k, v in d.items():
        yield from flatten(v, prefix + k + ".") if isinstance(v, Mapping) else [(prefix + k, v)]
print(dict(flatten({"a": {"b": 1}})))
PY
