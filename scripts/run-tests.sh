#!/usr/bin/env bash
# Every test of the project: Swift (swift test), C (tests/c, compiled by the system C
# compiler against the staged header + library through pkg-config), the self-contained
# check (Swift toolchain hidden), and Python (pytest). Each runner prints its summary;
# the script fails if any runner fails. Run through `make test`, which stages first.
set -uo pipefail
cd "$(dirname "$0")/.."
STAGE="$PWD/build/stage"
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export ENGRAM_LIBRARY="$STAGE/lib/libengram.so"
export ENGRAM_ROOT="$PWD"
failed=()

echo "== Swift tests"
swift test 2>&1 | tee build/swift-test.log | grep -vE '^\[[0-9]+/[0-9]+\]|^(Building|Compiling|Write|Emitting)' || true
[ "${PIPESTATUS[0]}" = 0 ] || failed+=(swift)

echo "== Fuzz regressions (seed corpora and saved crashes replayed through the harnesses)"
tests/fuzz_replay.sh || failed+=(fuzz-replay)

echo "== ABI: header declarations vs exported symbols"
tests/abi_exports.sh || failed+=(abi)

echo "== C tests"
tests/c/run.sh || failed+=(c)

echo "== Self-contained library (Swift toolchain hidden)"
tests/selfcontained.sh || failed+=(selfcontained)

echo "== Python tests"
.venv/bin/pip install -q --no-deps --no-build-isolation --force-reinstall ./bindings/python > build/pip-install.log 2>&1 \
    || { cat build/pip-install.log; failed+=(python-install); }
(cd build && ../.venv/bin/python -m pytest -q ../bindings/python/tests) || failed+=(python)

echo "== Examples (C, Python, the engram command) on the bundled model"
tests/examples.sh || failed+=(examples)

if [ ${#failed[@]} -ne 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "all test runners passed"
