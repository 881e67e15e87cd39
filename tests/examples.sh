#!/usr/bin/env bash
# Builds and runs every example as a user would: the C examples with their own Makefile
# through pkg-config against the installed library, the Python examples with the installed
# package, and the `engram` command's explain/generate on the bundled default model.
# Checks that each prints every stage it promises.
set -uo pipefail
cd "$(dirname "$0")/.."
MODEL="$PWD/examples/model"
BIN="$PWD/build/stage/bin/engram"
PY="$PWD/.venv/bin/python"
# expect runs at the end of pipelines (in subshells), so results go to a file, counted at the end.
RESULTS=build/examples.results
: > "$RESULTS"
ok()  { echo "  ok   $1"; echo ok >> "$RESULTS"; }
bad() { echo "  FAIL $1"; echo fail >> "$RESULTS"; }
expect() {  # expect NAME PATTERN... < output
    local name=$1; shift
    local out; out=$(cat)
    for pat in "$@"; do
        if ! grep -q -- "$pat" <<< "$out"; then
            bad "$name: no '$pat' in its output:"; echo "$out" | head -20 | sed 's/^/    /'
            return
        fi
    done
    ok "$name"
}
make -s -C examples/c clean all > build/examples-c.log 2>&1 || { cat build/examples-c.log; bad "C examples build"; }
# The README's C quickstart, compiled and run exactly as written there.
awk '/^```c$/ { on = 1; next } /^```$/ { on = 0 } on' README.md > build/readme_quickstart.c
if cc -std=c11 -Wall -Wextra -Werror -o build/readme_quickstart build/readme_quickstart.c $(pkg-config --cflags --libs engram); then
    build/readme_quickstart "$MODEL" 2>&1 | expect "README C quickstart" "The cat sat on the mat.|"
else
    bad "README C quickstart does not compile"
fi
# The README's Python quickstart.
awk '/^```python$/ { on = 1; next } /^```$/ { on = 0 } on' README.md > build/readme_quickstart.py
if out=$("$PY" build/readme_quickstart.py 2>&1) && [ -n "$out" ]; then
    ok "README Python quickstart"
else
    bad "README Python quickstart:"; echo "$out" | tail -5
fi
examples/c/cat_sat "$MODEL" 2>&1 | expect "C cat_sat" "1. tokenize" "2. compress" "3. hash" "4. retrieve" "5. fuse" "6. forward"
examples/c/generate "$MODEL" "The cat sat on the mat." 16 2>&1 | expect "C generate" "The cat sat on the mat." "tokens, stopped"
"$PY" examples/python/cat_sat.py "$MODEL" 2>&1 | expect "Python cat_sat" "1. tokenize" "3. hash" "5. fuse" "6. forward"
"$PY" examples/python/generate.py "$MODEL" "The cat sat" 16 2>&1 | expect "Python generate" "The cat sat" "tokens]"
"$BIN" explain 2>&1 | expect "engram explain (default model)" "compressed" "2-gram" "gate" "most likely next tokens"
"$BIN" explain --json "The cat sat on the mat." 2>&1 | "$PY" -c "
import json, sys
d = json.load(sys.stdin)
assert len(d['positions']) >= 6 and d['next'], d.keys()
p = d['positions'][1]
assert p['ngrams'][0]['order'] == 2 and p['gates'], p
print('explain json ok')" 2>&1 | expect "engram explain --json" "explain json ok"
"$BIN" generate --max-tokens 8 2>&1 | expect "engram generate (default model)" "prompt tokens" "generated"
"$BIN" generate --json --max-tokens 8 --temperature 0.7 --seed 5 "Hello" 2>&1 | "$PY" -c "
import json, sys
d = json.load(sys.stdin)
assert d['prompt'] == 'Hello' and 1 <= len(d['generated_ids']) <= 8
print('generate json ok')" 2>&1 | expect "engram generate --json" "generate json ok"
"$BIN" inspect "$MODEL/model.onnx" 2>&1 | expect "engram inspect" "layers"
"$BIN" bench --tokens 64 2>&1 | expect "engram bench" "tokenize" "retrieve" "prefill" "decode"
"$BIN" --help 2>&1 | expect "engram --help" "explain" "generate" "inspect" "bench"
pass=$(grep -c '^ok$' "$RESULTS"); fail=$(grep -c '^fail$' "$RESULTS")
echo "examples: $pass passed, $fail failed"
[ "$fail" = 0 ]
