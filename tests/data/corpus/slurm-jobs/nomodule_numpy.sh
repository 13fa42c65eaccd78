#!/bin/bash
#SBATCH --job-name=analysis
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > analyse.py <<'PY'
import sys
import numpy as np

data = np.loadtxt(sys.argv[1])
print(data.mean())
PY
echo "python: $(which python3)"
python3 analyse.py measurements.txt
