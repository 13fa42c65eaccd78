#!/usr/bin/env bash
# The one test command: sets up what the tests need on a fresh machine, then runs them.
#   - as root: installs and starts the local single-node SLURM (scripts/slurm-dev.sh start) and
#     installs the OpenSSH server the remote-cluster and ssh-push tests start on loopback
#   - builds trackit and runs the whole test suite (unit + integration, one binary)
#   - then fuzzes the parsers that read foreign text for a bounded time (scripts/fuzz.sh:
#     FUZZ_SECONDS per target, default 15; FUZZ_SECONDS=0 skips it)
# Tests that need SLURM or sshd fail when those are missing; TRACKIT_SKIP_CLUSTER_TESTS=1 skips
# them on purpose (a developer's machine without root). CI never sets it.
# Extra arguments go to `cargo test` (e.g. scripts/test.sh policy:: to run some tests); with
# extra arguments the fuzzing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
    scripts/slurm-dev.sh start
    if [ ! -x /usr/sbin/sshd ]; then
        echo "test.sh: installing openssh-server for the ssh tests" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >/dev/null; }
    fi
    mkdir -p /run/sshd
elif [ "${TRACKIT_SKIP_CLUSTER_TESTS:-}" != 1 ]; then
    echo "test.sh: not root, so SLURM and sshd cannot be set up; the tests that need them will fail (TRACKIT_SKIP_CLUSTER_TESTS=1 skips them on purpose)" >&2
fi

cargo test --locked "$@"

if [ $# -eq 0 ] && [ "${FUZZ_SECONDS:-15}" != 0 ]; then
    scripts/fuzz.sh
fi
