#!/usr/bin/env bash
# Installs what building and testing Capstan needs on a fresh Debian machine. Idempotent: installs only what is missing.
set -euo pipefail

packages=(pkg-config gcc libgit2-dev libsqlite3-dev git python3 curl python3-pip procps iproute2 busybox-static libarchive-dev docker-registry skopeo apache2-utils openssh-server openssl zstd containernetworking-plugins iptables xfsprogs chromium etcd-server)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "Swift 6 is required (swift not found on PATH); install the Swift 6.x toolchain for Debian first." >&2
    exit 1
fi
