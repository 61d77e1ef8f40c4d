#!/usr/bin/env bash
# Installs what the tests need and runs every test: a bounded fuzz run, unit, containerizer, end-to-end and the
# pymesos compatibility check. Usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [ -x scripts/install-pymesos.sh ]; then scripts/install-pymesos.sh; fi

swift build
echo "== fuzz (bounded): manifests, Mesos JSON, RecordIO, image layers"
scripts/fuzz.sh 15
# The output goes to a file that is followed, not through a pipe: a process a test leaks could hold a pipe open.
log=$(mktemp /tmp/capstan-test-XXXXXX.log)
CAPSTAN_BINARY="$PWD/.build/debug/capstan" swift test >"$log" 2>&1 &
tests=$!
tail -n +1 -f --pid="$tests" "$log"
status=0
wait "$tests" || status=$?
echo "== fault suite (the scenarios of scripts/fault-suite.sh, run above): what each counted"
grep -E '^fault [a-z-]+:' "$log" || echo "(none printed)"
rm -f "$log"
[ "$status" = 0 ] || { echo "swift test failed (exit $status)" >&2; exit "$status"; }
if [ -x Tests/Compat/run.sh ]; then
    echo "== pymesos compatibility (third-party Mesos v1 HTTP scheduler and executor library)"
    Tests/Compat/run.sh
fi
