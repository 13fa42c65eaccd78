#!/bin/bash
#SBATCH --job-name=mdsim
#SBATCH --time=00:02:00
#SBATCH --mem=200M
#SBATCH --output=%x-%j.out
# Core dumps on, as the lab's debugging notes say; the simulation writes past its neighbour list.
ulimit -c unlimited
cd "$SLURM_SUBMIT_DIR"
cat > md.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    int *neigh = NULL;
    for (int step = 0; step < 5; step++) printf("step %d energy %.3f\n", step, -1203.4 + step * 0.01);
    fflush(stdout);
    neigh[1 << 20] = 7;
    return 0;
}
C
gcc -O0 -g -o md md.c
./md
