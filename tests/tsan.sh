#!/usr/bin/env bash
# make tsan: builds libengram with ThreadSanitizer (swift build -sanitize=thread, debug
# configuration, build path .build/tsan; not the static-stdlib stage build) and runs
# tests/c/test_threads.c (one model, N threads with their own contexts, bit-identical to
# serial) compiled with the toolchain's clang -fsanitize=thread against it; then the Swift
# tests of the worker pool, kernels and retrieval with swift test --sanitize=thread. Any TSan
# report fails. A separate target: the instrumented build takes several minutes on 2 cores; the
# normal test suite runs test_threads without TSan.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT_BIN=$(dirname "$(readlink -f "$(command -v swift)")")
CLANG="$SWIFT_BIN/clang"
# The toolchain's TSan runtime has libdispatch interceptors: link the toolchain's libdispatch.
SWIFT_LIBS="$SWIFT_BIN/../lib/swift/linux"
out=build/tsan; mkdir -p "$out"
echo "building libengram with -sanitize=thread (.build/tsan)..."
# Instrumented code, but no TSan runtime inside the library: `-sanitize=thread` given to the
# frontend only (the driver would link the static runtime into the .so, which fails on
# Linux and would make two runtimes); the __tsan_* calls resolve against the runtime of the
# test executable, built with clang -fsanitize=thread.
swift build --product engram --build-path .build/tsan -Xswiftc -Xfrontend -Xswiftc -sanitize=thread \
    -Xcc -fsanitize=thread -Xcxx -fsanitize=thread > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
LIBDIR=$(swift build --build-path .build/tsan --show-bin-path)
[ -f "$LIBDIR/libengram.so" ] || { echo "no $LIBDIR/libengram.so"; exit 1; }
"$CLANG" -std=c11 -g -O1 -fsanitize=thread -Iinclude -Itests/c -o "$out/test_threads" tests/c/test_threads.c \
    -L"$LIBDIR" -lengram -Wl,-rpath,"$LIBDIR" -lpthread \
    -L"$SWIFT_LIBS" -ldispatch -lBlocksRuntime -Wl,-rpath,"$SWIFT_LIBS" || exit 1
export ENGRAM_ROOT="$PWD" SWIFT_BACKTRACE=enable=no
TSAN_OPTIONS="halt_on_error=0 exitcode=66 report_signal_unsafe=0 ${TSAN_OPTIONS:-}" "$out/test_threads" > "$out/run.log" 2>&1
rc=$?
reports=$(grep -c "WARNING: ThreadSanitizer" "$out/run.log")
cat "$out/run.log" | grep -v "^  " | head -5
if [ "$rc" = 0 ] && [ "$reports" = 0 ]; then
    echo "tsan: test_threads clean (0 ThreadSanitizer reports)"
else
    echo "tsan: FAIL (exit $rc, $reports ThreadSanitizer reports; see $out/run.log)"
    grep -A25 "WARNING: ThreadSanitizer" "$out/run.log" | head -80
    exit 1
fi

# The worker pool, the kernels and retrieval's threads under TSan through the Swift tests.
echo "swift test --sanitize=thread (KernelsTests, MemoryTests; .build/tsan-tests)..."
swift test --sanitize=thread --build-path .build/tsan-tests --filter 'KernelsTests|MemoryTests' > "$out/swift.log" 2>&1
rc=$?
reports=$(grep -c "WARNING: ThreadSanitizer" "$out/swift.log")
if [ "$rc" = 0 ] && [ "$reports" = 0 ]; then
    echo "tsan: Swift pool/kernel/memory tests clean (0 ThreadSanitizer reports)"
else
    echo "tsan: FAIL (exit $rc, $reports ThreadSanitizer reports; see $out/swift.log)"
    grep -B2 -A25 "WARNING: ThreadSanitizer\|error:" "$out/swift.log" | head -80
    exit 1
fi
