#!/bin/bash
#SBATCH --job-name=crlf_sourced
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# env.sh was edited on a Windows laptop (the job writes it here as it was uploaded)
printf 'export DATA=/tmp\r\nexport NTHREADS=1\r\n\r\nmodule_setup() {\r\n  echo "env ready"\r\n}\r\n' > env-$SLURM_JOB_ID.sh
source env-$SLURM_JOB_ID.sh
module_setup
cd "$DATA" && echo "working in $(pwd)"
