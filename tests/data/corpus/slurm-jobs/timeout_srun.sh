#!/bin/bash
#SBATCH --job-name=md_sim
#SBATCH -t 1
#SBATCH --ntasks=1
#SBATCH --output=%x-%j.out
# The simulation runs as an srun step; the job's time limit ends it.
echo "starting MD on $SLURM_JOB_NODELIST"
srun bash -c 'for s in $(seq 0 1000 200000); do echo "step $s E=-$((12000 + s % 7)).5"; sleep 3; done'
echo "srun exit: $?"
