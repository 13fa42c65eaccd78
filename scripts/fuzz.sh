#!/usr/bin/env bash
# Fuzzes the parsers that read foreign text (src/fuzzing.rs) with cargo-fuzz, for a bounded time:
# FUZZ_SECONDS per target (default 15; every [[bin]] of fuzz/Cargo.toml). Installs cargo-fuzz on a
# fresh machine. The stable toolchain builds the targets with RUSTC_BOOTSTRAP=1 and no sanitizer
# (-s none), so no nightly toolchain is needed. New inputs go to a scratch folder; the committed
# corpus (fuzz/corpus/<target>/) is read, never written. A crash leaves its input in
# fuzz/artifacts/<target>/ and fails the run: add that input to the corpus once fixed.
# Usage: scripts/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-15}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi
if ! command -v c++ >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q g++ >/dev/null   # libFuzzer is C++
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^trackit-fuzz$')
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export RUSTC_BOOTSTRAP=1
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "fuzz.sh: $t for ${seconds}s"
    status=0
    (cd fuzz && cargo fuzz run --sanitizer none "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) \
        >"$scratch/$t.log" 2>&1 || status=$?
    grep -E "^stat::(number_of_executed_units|new_units_added)|SUMMARY|panicked" "$scratch/$t.log" || true
    if [ "$status" != 0 ]; then
        tail -n 40 "$scratch/$t.log" >&2
        echo "fuzz.sh: $t failed (exit $status); a failing input is kept in fuzz/artifacts/$t/" >&2
        failed=1
    fi
done
exit "$failed"
