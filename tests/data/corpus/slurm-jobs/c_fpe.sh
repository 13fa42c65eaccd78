#!/bin/bash
#SBATCH --job-name=histogram
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > hist.c <<'C'
#include <stdio.h>
int main(int argc, char **argv) {
    int nbins = argc - 1;
    int n = 1000;
    printf("binning %d values\n", n);
    fflush(stdout);
    printf("per bin: %d\n", n / nbins);
    return 0;
}
C
gcc -O0 -o hist hist.c && ./hist
