#!/usr/bin/env bash
# Compiles every tests/c/test_*.c against the installed libengram (pkg-config engram) with
# the system C compiler, warnings as errors, and runs it. Each program prints its checks and
# exits non-zero on a failure. Closing line: "C tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
out="../../build/ctests"
mkdir -p "$out"
pass=0; fail=0
for src in test_*.c; do
    name="${src%.c}"
    if ! cc -std=c11 -Wall -Wextra -Werror -O1 -g -o "$out/$name" "$src" $(pkg-config --cflags --libs engram) -lpthread; then
        echo "FAIL $name (compile)"; fail=$((fail + 1)); continue
    fi
    if "$out/$name"; then pass=$((pass + 1)); else echo "FAIL $name"; fail=$((fail + 1)); fi
done
echo "C tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
