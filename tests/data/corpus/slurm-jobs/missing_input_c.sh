#!/bin/bash
#SBATCH --job-name=heat2d
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A C solver that reports its own missing input file.
cat > heat.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    const char *fn = argc > 1 ? argv[1] : "params.in";
    FILE *f = fopen(fn, "r");
    if (!f) { fprintf(stderr, "ERROR: could not open file %s\n", fn); exit(2); }
    fclose(f);
    return 0;
}
C
gcc -o heat heat.c
echo "heat2d: grid 512x512"
./heat input/heat_params.in
