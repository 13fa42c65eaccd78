#!/bin/bash
#SBATCH --time=00:02:00
#SBATCH --mem=300M
# A Python process that asks for more address space than the job allows.
ulimit -v 400000
python3 -c "
buf = bytearray(1024 * 1024 * 1024)
print(len(buf))
"
