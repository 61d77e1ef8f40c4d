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
CAPSTAN_BINARY="$PWD/.build/debug/capstan" swift test
if [ -x Tests/Compat/run.sh ]; then
    echo "== pymesos compatibility (third-party Mesos v1 HTTP scheduler and executor library)"
    Tests/Compat/run.sh
fi
