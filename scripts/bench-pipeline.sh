#!/usr/bin/env bash
# What watching a pipeline costs the scheduler: a 3-step pipeline (prepare -> a 100-task train
# array -> evaluate) with the default (polite) polling policy. All three steps are submitted at
# once, held (--hold) so they stay PENDING and use no cluster resources; SLURM's afterok
# dependencies chain them. Shims count every scheduler call. Usage:
#   scripts/bench-pipeline.sh [MINUTES]        (default 30)
# Needs a running cluster (scripts/slurm-dev.sh start) and a built trackit (cargo build --release).
set -euo pipefail
MINUTES=${1:-30}
cd "$(dirname "$0")/.."
BIN=${TRACKIT_BIN:-$PWD/target/release/trackit}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
dir=$(mktemp -d /tmp/trackit-bench-pipeline.XXXXXX)
trap 'scancel --user="$(id -un)" --name=bench-pipe >/dev/null 2>&1 || true' EXIT
mkdir -p "$dir/shims"
for c in squeue sacct scontrol sbatch; do
    printf '#!/bin/sh\necho %s >> %s/calls.log\nexec %s "$@"\n' "$c" "$dir" "$(command -v $c)" > "$dir/shims/$c"
    chmod +x "$dir/shims/$c"
done
for s in prepare train evaluate; do
    printf '#!/bin/bash\n#SBATCH --job-name=bench-pipe\n#SBATCH --output=%s/%s-%%A_%%a.log\nsleep 600\n' "$dir" "$s" > "$dir/$s.sh"
done
cat > "$dir/pipeline.lua" <<'LUA'
return { name = "bench", steps = {
  { name = "prepare", sbatch = { "--hold", "prepare.sh" } },
  { name = "train", sbatch = { "--hold", "--array=0-99", "train.sh" }, after = { "prepare" } },
  { name = "evaluate", sbatch = { "--hold", "evaluate.sh" }, after = { "train" } },
} }
LUA
(cd "$dir" && exec env PATH="$dir/shims:$PATH" "$BIN" --quiet --no-git pipeline pipeline.lua >/dev/null 2>&1) &
pid=$!
sleep $((MINUTES * 60))
tick=$(getconf CLK_TCK)
cpu=$(awk -v t="$tick" '{printf "%.2f s", ($14+$15)/t}' /proc/$pid/stat)
rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)
tasks=$(squeue -h -r --name=bench-pipe | wc -l)
sq=$(grep -c '^squeue' "$dir/calls.log" || true); sa=$(grep -c '^sacct' "$dir/calls.log" || true)
sb=$(grep -c '^sbatch' "$dir/calls.log" || true); sc=$(grep -c '^scontrol' "$dir/calls.log" || true)
echo "| case | minutes | jobs and tasks watched | sbatch | squeue calls | sacct calls | scontrol calls | tracker CPU time | tracker peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| 3-step pipeline, 100-task array | $MINUTES | $tasks | $sb | $sq | $sa | $sc | $cpu | $rss |"
kill "$pid" 2>/dev/null || true
