#!/bin/sh
# Installs what is missing, builds seqc and libseqrt into build/, and runs
# every test through CTest. Extra arguments go to ctest (e.g. -L unit).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/deps.sh"
seqc_install_deps
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$ROOT/build" --parallel "$(nproc 2>/dev/null || echo 2)"
cd "$ROOT/build"
ctest --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)" "$@"
