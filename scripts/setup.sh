#!/usr/bin/env bash
# Prepare this checkout: a Python virtual environment (.venv) with the locked dependencies and
# Guanxi itself, and the front-end libraries from npm copied into guanxi/static/vendor.
# Each step remembers what it installed and is skipped when nothing changed, so a second
# run takes a second. Used by scripts/up.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
PY="$VENV/bin/python"

say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >/dev/null \
        || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}
hash_of() { cat "$@" | sha256sum | cut -c1-64; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    return 1
}

# --- Python ---------------------------------------------------------------------------------
if [ -x "$PY" ] && ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    say "the virtual environment is broken; creating it again"
    rm -rf "$VENV"
fi
if [ ! -x "$PY" ]; then
    SYSTEM_PYTHON="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3)"
    say "creating $VENV with $SYSTEM_PYTHON"
    if ! "$SYSTEM_PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        can_apt || die "cannot create a virtual environment: install python3-venv"
        say "installing python3-venv"
        apt_install python3-venv
        "$SYSTEM_PYTHON" -m venv "$VENV"
    fi
fi

PY_HASH="$(hash_of requirements.lock pyproject.toml)"
PY_STAMP="$VENV/.guanxi-installed"
if [ "$(cat "$PY_STAMP" 2>/dev/null)" != "$PY_HASH" ] || [ ! -x "$VENV/bin/guanxi" ]; then
    say "installing the Python packages from requirements.lock"
    UV=""
    if [ -x "$VENV/bin/uv" ]; then
        UV="$VENV/bin/uv"
    else
        "$PY" -m pip --version >/dev/null 2>&1 || "$PY" -m ensurepip --upgrade >/dev/null 2>&1 || true
        if "$PY" -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1; then
            UV="$VENV/bin/uv"
        elif command -v uv >/dev/null 2>&1; then
            UV="$(command -v uv)"
        fi
    fi
    if [ -n "$UV" ] \
        && "$UV" pip install --python "$PY" -q -r requirements.lock \
        && "$UV" pip install --python "$PY" -q -e . --no-deps; then
        :
    else
        say "uv was not usable; installing with pip (slower)"
        "$PY" -m pip --version >/dev/null 2>&1 || "$PY" -m ensurepip --upgrade >/dev/null
        "$PY" -m pip install -q --disable-pip-version-check -r requirements.lock
        "$PY" -m pip install -q --disable-pip-version-check -e . --no-deps
    fi
    echo "$PY_HASH" >"$PY_STAMP"
fi

# --- Front-end libraries --------------------------------------------------------------------
VENDOR_HASH="$(hash_of package-lock.json scripts/vendor.py)"
VENDOR_STAMP=guanxi/static/vendor/.guanxi-vendored
if [ "$(cat "$VENDOR_STAMP" 2>/dev/null)" != "$VENDOR_HASH" ]; then
    NPM_HASH="$(hash_of package-lock.json)"
    NPM_STAMP=node_modules/.guanxi-installed
    if [ "$(cat "$NPM_STAMP" 2>/dev/null)" != "$NPM_HASH" ]; then
        command -v npm >/dev/null 2>&1 || die "Node.js 20 with npm is needed (Debian: apt-get install nodejs npm)"
        say "installing the front-end libraries (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error >/dev/null
        echo "$NPM_HASH" >"$NPM_STAMP"
    fi
    "$PY" scripts/vendor.py
    echo "$VENDOR_HASH" >"$VENDOR_STAMP"
fi

say "ready"
