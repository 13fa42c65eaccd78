#!/bin/bash
#SBATCH --job-name=spectra
#SBATCH --time=5
#SBATCH --output=%x-%j.out
python3 - <<'PY'
import ctypes
print("loading FFTW")
fftw = ctypes.CDLL("libfftw3.so.3")
PY
