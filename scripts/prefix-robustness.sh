#!/usr/bin/env bash
# The same logs as a launcher or logger would write them: every line of a corpus split behind
# `srun --label`'s task number, torchrun's rank, a Ray worker's prefix, a timestamp or docker
# compose's service name. A diagnosis that reads the program's words scores the same on each.
#
#   scripts/prefix-robustness.sh [TRACKIT] [SPLIT...]     (default: target/debug/trackit dev test)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/trackit}
shift || true
splits=${*:-dev test}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A prefix=(
  [none]=''
  [srun-label]='0: '
  [torchrun-rank]='[rank0]: '
  [ray-worker]='(RayTrainWorker pid=4242) '
  [timestamp]='2025-03-01 12:00:01,123 '
  [compose]='trainer-1  | '
)
for split in $splits; do
  for name in none srun-label torchrun-rank ray-worker timestamp compose; do
    dir="$work/$split-$name"
    mkdir -p "$dir/logs"
    cp "tests/data/corpus/$split/labels.json" "$dir/"
    p=${prefix[$name]}
    for f in tests/data/corpus/"$split"/logs/*.log; do
      awk -v p="$p" '{ print p $0 }' "$f" > "$dir/logs/$(basename "$f")"
    done
    printf '%-5s %-14s ' "$split" "$name"
    # `policy test` exits 1 when a case fails; the score is what is wanted here.
    { "$bin" --policy lua/trackit/default.lua policy test --json "$dir" || true; } | scripts/confusion.py --summary | awk 'NR == 1'
  done
done
