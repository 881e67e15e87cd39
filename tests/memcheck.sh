#!/usr/bin/env bash
# make memcheck: memory errors and leaks.
#  1. valgrind (memcheck) on the C test programs that need no Python fixture (test_badargs,
#     test_threads, test_version, test_hostile, test_handles) and on the C examples when
#     the bundled model (examples/model) is there: any invalid read/write or a definite leak
#     fails (--errors-for-leak-kinds=definite; the Swift runtime's "still reachable" is fine).
#  2. tests/c/test_load_free.c (also in the C suite): model + tokenizer + context + hash state loaded, used and
#     freed 1000 times; the resident size must stay flat (< 4 MB growth after warm-up).
# Runs against the staged library (make stage).
set -uo pipefail
cd "$(dirname "$0")/.."
STAGE="$PWD/build/stage"
export PKG_CONFIG_PATH="$STAGE/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export ENGRAM_ROOT="$PWD" SWIFT_BACKTRACE=enable=no
out=build/memcheck; mkdir -p "$out"
pass=0; fail=0
MODEL="$PWD/fuzz/model/model.onnx"
VG=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=no)
cflags=$(pkg-config --cflags --libs engram)
run() {  # run NAME CMD...
    local name=$1; shift
    if "${VG[@]}" --log-file="$out/$name.vg" "$@" > "$out/$name.out" 2>&1; then
        echo "  ok   valgrind $name: $(grep -oE 'definitely lost: [0-9,]+ bytes' "$out/$name.vg" | head -1),"\
             "$(grep -oE 'ERROR SUMMARY: [0-9]+ errors' "$out/$name.vg" | head -1) (leaks other than definite not counted)"
        pass=$((pass + 1))
    else
        echo "  FAIL valgrind $name (exit $?):"; tail -n 30 "$out/$name.vg" "$out/$name.out" | sed 's/^/    /'; fail=$((fail + 1))
    fi
}
for t in test_version test_badargs test_threads test_hostile test_handles; do
    cc -std=c11 -O1 -g -o "$out/$t" "tests/c/$t.c" $cflags -lpthread -lm || { fail=$((fail + 1)); continue; }
    run "$t" "$out/$t"
done
EXMODEL=examples/model
if ! [ -f $EXMODEL/model.onnx ] || ! [ -f $EXMODEL/tokenizer.json ]; then
    # No bundled model yet: the tiny fuzz model (512 positions) with a 64-token tokenizer.
    EXMODEL="$out/example_model"
    .venv/bin/python fuzz/make_model.py "$EXMODEL" 512 tokenizer > "$out/example_model.log" 2>&1 \
        || { cat "$out/example_model.log"; fail=$((fail + 1)); }
    echo "  (C examples on $EXMODEL: examples/model has no model.onnx + tokenizer.json)"
fi
make -s -C examples/c clean all > "$out/examples.log" 2>&1 || { cat "$out/examples.log"; fail=$((fail + 1)); }
run cat_sat examples/c/cat_sat "$EXMODEL"
run generate examples/c/generate "$EXMODEL" "The cat sat on the mat." 8
cc -std=c11 -O1 -g -Itests/c -o "$out/test_load_free" tests/c/test_load_free.c $cflags || fail=$((fail + 1))
if "$out/test_load_free" "$MODEL" 1000 4096; then pass=$((pass + 1)); else echo "  FAIL resident size grows"; fail=$((fail + 1)); fi
echo "memcheck: $pass passed, $fail failed"
[ "$fail" = 0 ]
