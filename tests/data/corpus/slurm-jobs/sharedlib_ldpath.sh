#!/bin/bash
#SBATCH --job-name=solver
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A solver linked against the lab's own libsparse.so, run with LD_LIBRARY_PATH pointing at a
# lib/ directory that is not there.
mkdir -p build
cat > build/sparse.c <<'C'
double sparse_dot(const double *a, const double *b, int n) { double s = 0; for (int i = 0; i < n; i++) s += a[i] * b[i]; return s; }
C
cat > build/solver.c <<'C'
#include <stdio.h>
double sparse_dot(const double *a, const double *b, int n);
int main(void) { double a[2] = {1, 2}, b[2] = {3, 4}; printf("dot %f\n", sparse_dot(a, b, 2)); return 0; }
C
gcc -shared -fPIC -o build/libsparse.so build/sparse.c
gcc -o solver build/solver.c -Lbuild -lsparse
rm -rf build
export LD_LIBRARY_PATH=$HOME/opt/sparse/lib
echo "running solver"
./solver
