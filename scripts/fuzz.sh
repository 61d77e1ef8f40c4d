#!/usr/bin/env bash
# Runs the parser fuzzer on every target for a bounded time: about SECONDS (default 15) per target, so about a
# minute in all. Fails on any crash, broken invariant or hang; the input is saved under .build/fuzz-findings.
# Usage: scripts/fuzz.sh [SECONDS] (after `swift build`). CAPSTAN_FUZZ_SEED picks another seed (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-15}"
seed="${CAPSTAN_FUZZ_SEED:-1}"
fuzz="$(swift build --show-bin-path)/capstan-fuzz"
for target in manifest json recordio layer; do
    # The outer timeout catches a supervisor that itself stops: the run plus one hang timeout plus slack.
    timeout --kill-after=5 "$((seconds + 40))" \
        "$fuzz" run --target "$target" --seconds "$seconds" --seed "$seed" --corpus "Tests/Fuzz/corpus/$target"
done
