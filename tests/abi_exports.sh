#!/usr/bin/env bash
# The header is the whole API: every function declared ENGRAM_API in include/engram.h is
# exported by libengram.so (and links from a C program through pkg-config), and the library
# exports no engram_* function the header does not declare. The declared *types* are checked
# at build time: each export is an `@c @implementation` that the Swift compiler matches
# against its declaration in engram.h.
set -uo pipefail
cd "$(dirname "$0")/.."
LIB="build/stage/lib/libengram.so"
mkdir -p build
declared=$(tr '\n' ' ' < include/engram.h | grep -oE 'ENGRAM_API[^;{]*;' | grep -oE 'engram_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$LIB" | awk '$2 == "T" && $3 ~ /^engram_/ { print $3 }' | sort -u)
pass=0; fail=0
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
n=$(echo "$declared" | wc -w)
if [ -z "$missing" ]; then echo "  ok   all $n declared functions are exported"; pass=$((pass+1)); else echo "  FAIL declared but not exported: $missing"; fail=$((fail+1)); fi
if [ -z "$extra" ]; then echo "  ok   nothing exported beyond the header"; pass=$((pass+1)); else echo "  FAIL exported but not declared: $extra"; fail=$((fail+1)); fi
# Link a C program that takes the address of every declared function.
{
    echo '#include <stdio.h>'
    echo '#include "engram.h"'
    echo 'int main(void) {'
    echo '  void *volatile table[] = {'
    for f in $declared; do echo "    (void *)&$f,"; done
    echo '  };'
    echo '  size_t n = 0;'
    echo '  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) n += table[i] != NULL;'
    echo '  printf("%zu\n", n); return 0; }'
} > build/abi_exports.c
if cc -std=c11 -Wall -Werror -o build/abi_exports build/abi_exports.c $(pkg-config --cflags --libs engram) && [ "$(build/abi_exports)" = "$n" ]; then
    echo "  ok   a C program links and resolves all $n functions"; pass=$((pass+1))
else
    echo "  FAIL the C program referencing every function does not build or run"; fail=$((fail+1))
fi
echo "abi exports: $pass passed, $fail failed"
[ "$fail" = 0 ]
