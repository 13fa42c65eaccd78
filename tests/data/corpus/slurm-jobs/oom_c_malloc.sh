#!/bin/bash
#SBATCH --job-name=kmer_count
#SBATCH --mem=80M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# A C k-mer counter that grows its table past the job's memory.
cat > kmer.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    size_t chunk = 16 << 20, total = 0;
    for (int i = 0; i < 64; i++) {
        char *p = malloc(chunk);
        if (!p) { fprintf(stderr, "malloc failed\n"); return 1; }
        memset(p, 1, chunk);
        total += chunk;
        printf("table size %zu MiB\n", total >> 20);
        fflush(stdout);
    }
    return 0;
}
C
gcc -O0 -o kmer kmer.c && ./kmer
