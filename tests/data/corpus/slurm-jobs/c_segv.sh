#!/bin/bash
#SBATCH --job-name=particles
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > nbody.c <<'C'
#include <stdio.h>
#include <stdlib.h>
typedef struct { double x, v; } P;
int main(void) {
    P *ps = NULL;
    int n = 1000;
    printf("initialising %d particles\n", n);
    fflush(stdout);
    for (int i = 0; i < n; i++) ps[i].x = i;
    return 0;
}
C
gcc -O0 -g -o nbody nbody.c
./nbody
