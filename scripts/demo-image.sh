#!/usr/bin/env bash
# Builds the demo image `capstan-demo/busybox:1` from Debian's busybox-static (no registry, no Docker) and imports it
# into the image store of a Capstan work dir, where `capstan up --work-dir` with the same directory finds it.
# Usage: scripts/demo-image.sh [CAPSTAN_BINARY] [WORK_DIR]   (defaults: .build/release/capstan and .capstan)
# Idempotent: an image already stored under that name is kept.
set -euo pipefail
capstan="${1:-.build/release/capstan}"
work_dir="${2:-.capstan}"
name="capstan-demo/busybox:1"
busybox=/bin/busybox

# Outputs are read whole before grep sees them: with pipefail, `cmd | grep -q` fails when grep stops reading early
# and cmd dies of SIGPIPE.
stored="$("$capstan" image list --quiet --work-dir "$work_dir" 2>/dev/null || true)"
if grep -qx "docker.io/$name" <<<"$stored"; then
    exit 0
fi
applets="$("$busybox" --list 2>/dev/null || true)"
if ! grep -qx httpd <<<"$applets"; then
    echo "$busybox is not Debian's busybox-static (no httpd applet): apt-get install busybox-static" >&2
    exit 1
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
root="$scratch/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
tar --numeric-owner --owner=0 --group=0 -C "$root" -czf "$scratch/rootfs.tar.gz" .
"$capstan" image import "$scratch/rootfs.tar.gz" "$name" --work-dir "$work_dir" \
    --env PATH=/bin --cmd /bin/sh >/dev/null
echo "Imported $name from $busybox into $work_dir/images"
