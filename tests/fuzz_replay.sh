#!/usr/bin/env bash
# Replays every saved fuzz input (fuzz/corpus/<target>/*, fuzz/crashes/<target>/*) through its
# harness in a normal build: each crash ever found stays a regression test.
set -uo pipefail
cd "$(dirname "$0")/.."
swift build --product engram-fuzz 2>&1 | grep -E "error" ; BIN=$(swift build --show-bin-path)/engram-fuzz
export SWIFT_BACKTRACE=enable=no ENGRAM_ROOT="$PWD"
pass=0; fail=0
for dir in fuzz/corpus/* fuzz/crashes/*; do
    [ -d "$dir" ] || continue
    t=$(basename "$dir")
    files=("$dir"/*)
    [ -e "${files[0]}" ] || continue
    if "$BIN" "$t" "${files[@]}"; then pass=$((pass + 1)); else echo "FAIL replay $dir"; fail=$((fail + 1)); fi
done
echo "fuzz replay: $pass passed, $fail failed"
[ "$fail" = 0 ]
