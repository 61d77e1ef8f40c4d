#!/usr/bin/env bash
# Installs what Capstan needs, builds it (release), and runs `capstan up`: a master, an agent and the GitOps
# reconciler (deploying the committed Manifests/ of this checkout) in one process,
# state under ./.capstan. Extra arguments go to `capstan up`. Ctrl-C stops it and kills its tasks.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# capstan-init (each container's monitor and PID 1, and the monitor of plain tasks) is found beside capstan.
swift build -c release --product capstan
swift build -c release --product capstan-init
exec .build/release/capstan up "$@"
