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
# The demo's image app (Manifests/box.yaml) runs capstan-demo/busybox:1, built here from busybox-static into the image
# store of the work dir `capstan up` uses.
work_dir=.capstan
previous=""
for argument in "$@"; do
    case "$argument" in --work-dir=*) work_dir="${argument#--work-dir=}" ;; esac
    [ "$previous" = "--work-dir" ] && work_dir="$argument"
    previous="$argument"
done
scripts/demo-image.sh .build/release/capstan "$work_dir"
exec .build/release/capstan up "$@"
