#!/usr/bin/env bash
# Runs every benchmark in bench/ (bench_*.py) with the staged library. Each prints its
# figures as ratios against the peer measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
export ENGRAM_LIBRARY="$PWD/build/stage/lib/libengram.so"
export PYTHONPATH="$PWD/bindings/python"
shopt -s nullglob
for b in bench/bench_*.py; do
    echo "== $b"
    .venv/bin/python "$b"
done
