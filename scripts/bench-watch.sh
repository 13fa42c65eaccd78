#!/usr/bin/env bash
# Measures what watching costs the cluster and the machine: scheduler calls, tracker CPU time
# and peak RSS while trackit watches (a) 1 job and (b) a 500-task array, with the default
# (polite) polling policy. Jobs are submitted held (--hold) so they stay PENDING and use no
# cluster resources; squeue still reports every task. Usage:
#   scripts/bench-watch.sh [MINUTES]        (default 10)
# Needs a running cluster (scripts/slurm-dev.sh start) and a built trackit (cargo build --release).
set -euo pipefail
MINUTES=${1:-10}
cd "$(dirname "$0")/.."
BIN=${TRACKIT_BIN:-$PWD/target/release/trackit}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
WORK=$(mktemp -d /tmp/trackit-bench-watch.XXXXXX)
trap 'scancel --user="$(id -un)" --name=bench-watch >/dev/null 2>&1 || true' EXIT

run_case() {   # $1 label, $2 extra sbatch args
    local dir="$WORK/$1"; mkdir -p "$dir/shims"
    for c in squeue sacct scontrol sbatch; do
        printf '#!/bin/sh\necho %s >> %s/calls.log\nexec %s "$@"\n' "$c" "$dir" "$(command -v $c)" > "$dir/shims/$c"
        chmod +x "$dir/shims/$c"
    done
    printf '#!/bin/bash\n#SBATCH --job-name=bench-watch\n#SBATCH --output=%s/out-%%A_%%a.log\nsleep 600\n' "$dir" > "$dir/job.sh"
    # exec: the recorded pid is trackit's own, not a subshell's.
    (cd "$dir" && exec env PATH="$dir/shims:$PATH" "$BIN" --quiet sbatch --hold $2 job.sh >/dev/null 2>&1) &
    echo $! > "$dir/tracker.pid"
}

run_case one ""
run_case array500 "--array=0-499"
sleep $((MINUTES * 60))

echo "| case | minutes | squeue calls | sacct calls | scontrol calls | squeue calls/hour | tracker CPU time | tracker peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
for c in one array500; do
    dir="$WORK/$c"; pid=$(cat "$dir/tracker.pid")
    tick=$(getconf CLK_TCK)
    cpu=$(awk -v t="$tick" '{printf "%.2f s", ($14+$15)/t}' /proc/$pid/stat)
    rss=$(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$pid/status)
    sq=$(grep -c '^squeue' "$dir/calls.log" || true); sa=$(grep -c '^sacct' "$dir/calls.log" || true); sc=$(grep -c '^scontrol' "$dir/calls.log" || true)
    per_hour=$(awk -v n="$sq" -v m="$MINUTES" 'BEGIN {printf "%.0f", n * 60 / m}')
    echo "| $c | $MINUTES | $sq | $sa | $sc | $per_hour | $cpu | $rss |"
    kill "$pid" 2>/dev/null || true
done
