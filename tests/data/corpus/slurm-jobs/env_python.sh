#!/bin/bash
#SBATCH --job-name=env_python
#SBATCH --time=5
#SBATCH --output=%x-%j.out
# clean environment for reproducibility
export PATH=/usr/local/bin:/usr/bin:/bin
cat > prep-$SLURM_JOB_ID.py <<'PY'
#!/usr/bin/env python
print("preprocessing")
PY
chmod +x prep-$SLURM_JOB_ID.py
echo "running preprocessing"
./prep-$SLURM_JOB_ID.py
