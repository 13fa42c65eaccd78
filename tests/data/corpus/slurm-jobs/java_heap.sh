#!/bin/bash
#SBATCH --job-name=kmer_index
#SBATCH --time=00:03:00
#SBATCH --mem=400M
#SBATCH --output=%x-%j.out
# The indexer's heap (-Xmx64m, from an old wrapper) is far below what the genome needs.
mkdir -p java_src
cat > java_src/KmerIndex.java <<'J'
import java.util.*;
public class KmerIndex {
    public static void main(String[] a) {
        List<long[]> blocks = new ArrayList<>();
        for (int i = 1; ; i++) {
            blocks.add(new long[1 << 20]);
            if (i % 8 == 0) System.out.println("indexed " + (i / 8) + " chromosome chunk(s)");
        }
    }
}
J
java -Xmx64m java_src/KmerIndex.java
