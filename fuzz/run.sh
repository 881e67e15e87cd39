#!/usr/bin/env bash
# make fuzz: builds the libFuzzer harnesses (Sources/engram-fuzz, AddressSanitizer on) and
# runs each target for FUZZ_SECONDS (default 600), starting from fuzz/corpus/<target>.
# New crashing inputs are written to fuzz/crashes/<target>/; commit them: the test suite
# replays every file there (a regression test per crash). Prints executions and crashes.
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-600}"
TARGETS="${FUZZ_TARGETS:-$(ls fuzz/corpus)}"
swift build -c release --product engram-fuzz --build-path .build/fuzz --toolset fuzz/toolset.json \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DENGRAM_FUZZING 2>&1 | grep -E "error|Compiling|Build" | grep -v "Cannot export"
BIN=.build/fuzz/release/engram-fuzz
[ -x "$BIN" ] || { echo "fuzz build failed"; exit 1; }
export SWIFT_BACKTRACE=enable=no ENGRAM_ROOT="$PWD"
summary=()
for t in $TARGETS; do
    work="build/fuzz-corpus/$t"; crashes="fuzz/crashes/$t"
    mkdir -p "$work" "$crashes"
    cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    echo "== fuzz $t for ${SECONDS_EACH}s"
    log="build/fuzz-$t.log"
    ENGRAM_FUZZ_TARGET="$t" "$BIN" -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -timeout=20 \
        -artifact_prefix="$crashes/" -print_final_stats=1 "$work" > "$log" 2>&1
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    found=$(ls "$crashes" | wc -l)
    summary+=("$t: ${execs:-?} executions, $found crashing inputs in $crashes")
    tail -3 "$log"
done
printf '%s\n' "${summary[@]}"
