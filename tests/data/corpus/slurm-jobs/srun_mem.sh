#!/bin/bash
#SBATCH --job-name=srun_mem
#SBATCH --mem=250M
#SBATCH --time=5
#SBATCH --output=%x-%j.out
echo "step 1: small preprocessing"
srun --mem=60M python3 -c 'print("prep ok")'
echo "step 2: assemble"
srun --mem=60M python3 -c '
chunks = []
for i in range(20):
    chunks.append(bytearray(10 * 1024 * 1024))
    print("chunk", i, flush=True)
'
echo "assembly step exited with $?"
