#!/usr/bin/env bash
# The one test command: sets up what the tests need on a fresh machine, then runs them.
#   - as root: installs and starts the local single-node SLURM (scripts/slurm-dev.sh start)
#   - as root: installs OpenSSH's server when missing (the ssh push test runs a real sshd)
#   - builds trackit and runs the whole test suite (unit + integration, one binary)
#   - then fuzzes the parsers that read foreign text for a bounded time (scripts/fuzz.sh:
#     FUZZ_SECONDS per target, default 15; FUZZ_SECONDS=0 skips it)
# Extra arguments go to `cargo test` (e.g. scripts/test.sh policy:: to run some tests); with
# extra arguments the fuzzing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/slurm-dev.sh ]; then
    if [ "$(id -u)" = 0 ]; then
        scripts/slurm-dev.sh start
    else
        echo "test.sh: not root, so the local SLURM cluster is not started; SLURM tests will say why they skip" >&2
    fi
fi

if [ ! -x /usr/sbin/sshd ] && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null; }
fi

cargo test --locked "$@"

if [ $# -eq 0 ] && [ "${FUZZ_SECONDS:-15}" != 0 ]; then
    scripts/fuzz.sh
fi
