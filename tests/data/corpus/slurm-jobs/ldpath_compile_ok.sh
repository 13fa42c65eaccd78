#!/bin/bash
#SBATCH --job-name=solver
#SBATCH --time=00:02:00
#SBATCH --mem=200M
#SBATCH --output=%x-%j.out
set -euo pipefail
# Builds against the lab's libkernels.so in ./lib (found at link time through -L) but never puts
# ./lib on LD_LIBRARY_PATH or an rpath: the loader cannot find it at run time.
mkdir -p lib build
cat > build/kernels.c <<'C'
double dot(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }
C
cat > build/solver.c <<'C'
#include <stdio.h>
double dot(const double *a, const double *b, int n);
int main(void) { double a[3] = {1, 2, 3}; printf("residual %g\n", dot(a, a, 3)); return 0; }
C
gcc -shared -fPIC -o lib/libkernels.so build/kernels.c
gcc -o build/solver build/solver.c -Llib -lkernels
echo "build ok"
srun ./build/solver
