#!/bin/bash
#SBATCH --job-name=calledprocess
#SBATCH --time=5
#SBATCH --output=%x-%j.out
cat > align-$SLURM_JOB_ID.sh <<'SH'
#!/bin/bash
echo "aligning $1"
if [ "$2" -gt 8 ]; then echo "error: --threads must be at most 8" >&2; exit 2; fi
SH
chmod +x align-$SLURM_JOB_ID.sh
python3 - <<'PY'
import os, subprocess
samples = ["s1", "s2"]
for s in samples:
    subprocess.run([f"./align-{os.environ['SLURM_JOB_ID']}.sh", s, "16"], check=True)
PY
