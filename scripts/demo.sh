#!/usr/bin/env bash
# The main job: the `engram` command on the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
build/stage/bin/engram --version
