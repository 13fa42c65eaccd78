#!/bin/bash
#SBATCH --job-name=lbm
#SBATCH --ntasks=1
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# The solver runs as an srun step and crashes.
cat > lbm.c <<'C'
#include <stdio.h>
#include <string.h>
int main(void) {
    char *grid = (char *)0x10;
    puts("lattice 128^3, 19 velocities");
    fflush(stdout);
    memset(grid, 0, 4096);
    return 0;
}
C
gcc -o lbm lbm.c
srun ./lbm
