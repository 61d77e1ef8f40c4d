#!/usr/bin/env bash
# Installs what Capstan needs, builds it (release), and runs `capstan up`: a master, an agent and the GitOps
# reconciler (deploying the committed Manifests/ of this checkout) in one process,
# state under ./.capstan. Extra arguments go to `capstan up`. Ctrl-C stops it and kills its tasks.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release --product capstan
exec .build/release/capstan up "$@"
