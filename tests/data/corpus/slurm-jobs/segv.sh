#!/bin/bash
#SBATCH --job-name=native_ext
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "calling the extension"
python3 -c "import ctypes; ctypes.string_at(0)"
