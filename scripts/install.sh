#!/usr/bin/env bash
# Builds Capstan (release) and installs it for a multi-machine cluster:
#   PREFIX/bin/capstan and PREFIX/libexec/capstan/capstan-init (the container monitor `capstan` finds there).
# Usage: scripts/install.sh [PREFIX]   (default /usr/local)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-/usr/local}

scripts/install-deps.sh
swift build -c release --product capstan
swift build -c release --product capstan-init
install -d "$prefix/bin" "$prefix/libexec/capstan"
install -m 0755 .build/release/capstan "$prefix/bin/capstan"
install -m 0755 .build/release/capstan-init "$prefix/libexec/capstan/capstan-init"
echo "installed $prefix/bin/capstan and $prefix/libexec/capstan/capstan-init"
