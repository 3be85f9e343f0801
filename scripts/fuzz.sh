#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a given time each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 600 seconds, all targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz wants a nightly
# compiler for its sanitizer flags; on a stable toolchain the script sets
# RUSTC_BOOTSTRAP=1, which unlocks them (AddressSanitizer included). Set
# FUZZ_SANITIZER=none to build without one (faster, catches less).
#
# Crashes land in fuzz/artifacts/<target>/; the corpus grows in
# fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/). Reproduce one with
#   cargo fuzz run <target> fuzz/artifacts/<target>/crash-…
# (one process per target: libFuzzer runs a single job unless told otherwise)
# and turn it into a regression test (crates/chat-server/tests/adversarial/).
set -euo pipefail

seconds="${1:-600}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
    exit 2
fi
if ! rustc -V | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi
sanitizer="${FUZZ_SANITIZER:-address}"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build -O --sanitizer "$sanitizer"

status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    echo "== $target for ${seconds}s"
    started=$(date +%s)
    if ! cargo fuzz run -O --sanitizer "$sanitizer" "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1; then
        echo "!! $target found a crash: see fuzz/artifacts/$target/" >&2
        status=1
    fi
    echo "== $target ran $(( $(date +%s) - started ))s"
done
exit "$status"
