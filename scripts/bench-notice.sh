#!/usr/bin/env bash
# How soon trackit notices that a SLURM job ended: a job that fails after MINUTES minutes
# (default 4), watched with the default (polite) policy, once with exit files (the default)
# and once without (`exit_files = false`: squeue polling alone). Prints one table row per case:
# the job's end (sacct End), when trackit recorded the failure, the delay, and the scheduler
# calls the tracker made. Usage:
#   scripts/bench-notice.sh [MINUTES]
# Needs a running cluster (scripts/slurm-dev.sh start) and a built trackit (cargo build --release).
set -euo pipefail
MINUTES=${1:-4}
cd "$(dirname "$0")/.."
BIN=${TRACKIT_BIN:-$PWD/target/release/trackit}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
WORK=$(mktemp -d /tmp/trackit-bench-notice.XXXXXX)

run_case() {   # $1 label, $2 exit_files true|false
    local dir="$WORK/$1"; mkdir -p "$dir/shims"
    for c in squeue sacct scontrol sbatch; do
        printf '#!/bin/sh\necho %s >> %s/calls.log\nexec %s "$@"\n' "$c" "$dir" "$(command -v $c)" > "$dir/shims/$c"
        chmod +x "$dir/shims/$c"
    done
    printf 'local base = require("trackit.default")\nreturn trackit.extend(base, { settings = { max_attempts = 1, exit_files = %s } })\n' "$2" > "$dir/policy.lua"
    printf '#!/bin/bash\n#SBATCH --output=%s/out-%%j.log\n#SBATCH --time=%d\necho working\nsleep %d\necho "something broke" >&2\nexit 1\n' \
        "$dir" $((MINUTES + 5)) $((MINUTES * 60)) > "$dir/job.sh"
    (cd "$dir" && exec env PATH="$dir/shims:$PATH" "$BIN" --no-git --json --policy policy.lua sbatch job.sh > "$dir/events.jsonl" 2>"$dir/stderr.log") &
    echo $! > "$dir/tracker.pid"
}

run_case with_exit_files true
run_case squeue_only false
wait

echo "| case | job ended (sacct End) | trackit saw FAILED | delay | squeue calls | sacct calls |"
echo "|---|---|---|---|---|---|"
for c in with_exit_files squeue_only; do
    dir="$WORK/$c"
    job=$(grep -o '"job":"[0-9]*"' "$dir/events.jsonl" | head -1 | grep -o '[0-9]*')
    end=$(sacct -n -X -P -j "$job" -o End | head -1)
    end_s=$(date -d "$end" +%s)
    seen=$(grep '"event":"state"' "$dir/events.jsonl" | grep '"FAILED"' | head -1 | grep -o '"at":"[^"]*"' | cut -d'"' -f4)
    seen_s=$(date -d "$seen" +%s)
    sq=$(grep -c '^squeue' "$dir/calls.log" || true); sa=$(grep -c '^sacct' "$dir/calls.log" || true)
    echo "| $c | $end | $seen | $((seen_s - end_s)) s | $sq | $sa |"
done
