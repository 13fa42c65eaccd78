#!/bin/bash
#SBATCH --job-name=fit_model
#SBATCH --time=5
#SBATCH --output=%x-%j.out
mkdir -p src
cat > src/fit.py <<'PY'
import argparse
import json

from sklearn.model_selection import train_test_split


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    print(p.parse_args())


if __name__ == "__main__":
    main()
PY
python3 src/fit.py --seed 3
