#!/bin/bash
#SBATCH --job-name=mesh_refine
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > refine.c <<'C'
#include <assert.h>
#include <stdio.h>
static int cells_after(int level) { return level < 3 ? 4 * cells_after(level + 1) : -1; }
int main(void) {
    int n = cells_after(0);
    printf("refined mesh: %d cells\n", n);
    fflush(stdout);
    assert(n > 0 && "cell count must be positive");
    return 0;
}
C
gcc -o refine refine.c && ./refine
