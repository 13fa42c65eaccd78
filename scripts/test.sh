#!/usr/bin/env bash
# The one test command: sets up what the tests need on a fresh machine, then runs them.
#   - as root: installs and starts the local single-node SLURM (scripts/slurm-dev.sh start)
#   - builds trackit and runs the whole test suite (unit + integration, one binary)
# Extra arguments go to `cargo test` (e.g. scripts/test.sh policy:: to run some tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/slurm-dev.sh ]; then
    if [ "$(id -u)" = 0 ]; then
        scripts/slurm-dev.sh start
    else
        echo "test.sh: not root, so the local SLURM cluster is not started; SLURM tests will say why they skip" >&2
    fi
fi

cargo test --locked "$@"
