#!/usr/bin/env bash
# libengram.so must run on a host without the Swift toolchain: its NEEDED entries are
# system libraries only, it stays under 20 MB stripped, and a C program and a Python ctypes
# script run with /opt/swift hidden behind an empty tmpfs (a private mount namespace).
set -uo pipefail
cd "$(dirname "$0")/.."
LIB="build/stage/lib/libengram.so"
pass=0; fail=0
ok()  { echo "  ok   $1"; pass=$((pass + 1)); }
bad() { echo "  FAIL $1"; fail=$((fail + 1)); }

needed=$(readelf -d "$LIB" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "  NEEDED: $needed"
foreign=""
for n in $needed; do
    p=$(ldconfig -p | awk -v n="$n" '$1 == n { print $NF; exit }')
    case "$p" in /lib/*|/usr/lib/*) ;; *) foreign="$foreign $n";; esac
done
[ -z "$foreign" ] && ok "only system libraries are NEEDED" || bad "NEEDED outside the system:$foreign"
echo "$needed" | grep -qi swift && bad "a Swift runtime library is NEEDED" || ok "no Swift runtime NEEDED"

size=$(stat -c %s "$LIB")
echo "  stripped size: $size bytes ($((size / 1024 / 1024)) MiB)"
[ "$size" -lt $((20 * 1024 * 1024)) ] && ok "stripped size under 20 MB" || bad "stripped size over 20 MB"

cc -std=c11 -O1 -o build/selfcontained-c tests/c/test_version.c -Itests/c $(pkg-config --cflags --libs engram) -lpthread
hidden() {
    # Run "$@" with /opt/swift (the toolchain) replaced by an empty directory.
    unshare -m sh -c 'mount -t tmpfs none /opt/swift && test ! -e /opt/swift/usr/bin/swift && exec "$@"' sh "$@"
}
if [ ! -d /opt/swift ]; then
    ok "no Swift toolchain at /opt/swift on this machine"
fi
hidden build/selfcontained-c > /dev/null && ok "C program runs with the toolchain hidden" || bad "C program with the toolchain hidden"
hidden .venv/bin/python -c "
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1]); lib.engram_version.restype = ctypes.c_char_p
assert lib.engram_version().decode().count('.') == 2
" "$PWD/$LIB" && ok "Python ctypes loads it with the toolchain hidden" || bad "Python ctypes with the toolchain hidden"
echo "self-contained: $pass passed, $fail failed"
[ "$fail" = 0 ]
