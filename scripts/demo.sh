#!/usr/bin/env bash
# The main job: the `engram` command on the bundled default model (examples/model, a small
# Engram model trained on Debian's fortune cookies): walk a sentence through every stage of
# Engram, then generate a continuation.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/stage/bin/engram
echo "\$ engram explain \"The cat sat on the mat.\""
$BIN explain "The cat sat on the mat."
echo
echo "\$ engram generate \"The meaning of life is\" --temperature 0.8 --top-k 40 --seed 1"
$BIN generate "The meaning of life is" --temperature 0.8 --top-k 40 --seed 1 --max-tokens 48
