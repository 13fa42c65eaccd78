#!/bin/bash
#SBATCH --job-name=ulimit_s
#SBATCH --time=5
#SBATCH --output=%x-%j.out
ulimit -s 1024
cat > flood.c <<'C'
#include <stdio.h>
#include <stdlib.h>
/* recursive flood fill over a grid */
static int grid[2000][2000];
static long fill(int x, int y) {
    if (x < 0 || y < 0 || x >= 2000 || y >= 2000 || grid[x][y]) return 0;
    grid[x][y] = 1;
    return 1 + fill(x + 1, y) + fill(x - 1, y) + fill(x, y + 1) + fill(x, y - 1);
}
int main(void) {
    printf("filling region from (0,0)\n");
    fflush(stdout);
    printf("filled %ld cells\n", fill(0, 0));
    return 0;
}
C
gcc -O0 -o flood-$SLURM_JOB_ID flood.c
./flood-$SLURM_JOB_ID
