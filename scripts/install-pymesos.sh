#!/usr/bin/env bash
# Installs pymesos 0.3.15 and its dependencies for `python3` (or $PYTHON).
#
# pymesos depends on `http-parser`, whose setup.py unconditionally builds a C
# extension that no longer compiles on Python >= 3.11 (longintrepr.h moved)
# and whose setup.py imports `imp` (gone in 3.12). http-parser ships a
# pure-Python parser (http_parser.pyparser) that http_parser.http falls back to
# when the extension is absent, so we install http-parser from its sdist with a
# minimal pure-Python setup.py instead. pymesos itself is installed unchanged.
#
# Idempotent: exits 0 straight away when everything already imports.
# Needs only PyPI (no other network access). There is no Debian package for
# http-parser (`apt-cache policy python3-http-parser` is empty on bookworm).
set -euo pipefail

PYTHON="${PYTHON:-python3}"
PYMESOS_VERSION="0.3.15"
HTTP_PARSER_VERSION="0.9.0"

check() {
    "$PYTHON" - "$PYMESOS_VERSION" <<'PY' >/dev/null 2>&1
import sys
import pymesos, six, addict
from http_parser.http import HttpParser
from http_parser.pyparser import INVALID_CHUNK
assert pymesos.__VERSION__ == sys.argv[1], pymesos.__VERSION__
from pymesos import MesosSchedulerDriver, MesosExecutorDriver
PY
}

if check; then
    echo "pymesos ${PYMESOS_VERSION} already installed for $("$PYTHON" -c 'import sys; print(sys.executable)')"
    exit 0
fi

# A fresh Debian box may lack pip altogether.
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq python3-pip python3-setuptools
    else
        echo "install-pymesos: '$PYTHON -m pip' is unavailable (apt-get install python3-pip)" >&2
        exit 1
    fi
fi

PIP=("$PYTHON" -m pip install --disable-pip-version-check --no-input)
# Debian's system Python is "externally managed" (PEP 668); this is a test
# dependency for CI, so install into it anyway (lands in /usr/local).
if "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))' 2>/dev/null \
   && [ -z "${VIRTUAL_ENV:-}" ]; then
    PIP+=(--break-system-packages)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. http-parser without its C extension.
if ! "$PYTHON" -c 'from http_parser.http import HttpParser' >/dev/null 2>&1; then
    "$PYTHON" -m pip download --disable-pip-version-check --no-deps \
        --no-binary :all: "http-parser==${HTTP_PARSER_VERSION}" -d "$work"
    tar -xzf "$work/http-parser-${HTTP_PARSER_VERSION}.tar.gz" -C "$work"
    src="$work/http-parser-${HTTP_PARSER_VERSION}"
    # Drop the C sources and the stray prebuilt darwin .so from the sdist.
    rm -f "$src"/http_parser/*.so "$src"/http_parser/*.c "$src"/http_parser/*.h \
          "$src"/http_parser/*.pyx "$src"/pyproject.toml
    cat > "$src/setup.py" <<PY
from setuptools import setup
setup(
    name="http-parser",
    version="${HTTP_PARSER_VERSION}",
    description="http request/response parser (pure-Python build)",
    license="MIT",
    url="http://github.com/benoitc/http-parser",
    packages=["http_parser"],
)
PY
    "${PIP[@]}" "$src"
fi

# 2. pymesos itself, unchanged; http-parser is now satisfied, the rest
#    (six, addict, kazoo) are pure-Python wheels from PyPI.
"${PIP[@]}" "pymesos==${PYMESOS_VERSION}" six addict

if ! check; then
    echo "install-pymesos: pymesos ${PYMESOS_VERSION} still does not import" >&2
    "$PYTHON" -c 'import pymesos; from http_parser.http import HttpParser' || true
    exit 1
fi
echo "pymesos ${PYMESOS_VERSION} installed"
