#!/bin/sh
# Rewrites every golden file from the current build, so that after an
# intended change of seqc's output `git diff` shows exactly what changed:
#   tests/frontend/bad/*.expected      seqc check on each bad model file
#   tests/frontend/summary/*.expected  seqc summary of each model
#   tests/frontend/cli/*.stdout|stderr seqc's command-line cases
#   tests/backend/golden/*             seqc ir and seqc emit of mnist_bn
# It builds build/ (the targets the golden tests need), runs the CTest label
# `golden` with UPDATE_GOLDEN=1 (each golden test then writes its files
# instead of comparing), then lists the files that changed. Review the diff
# before committing it: a golden file is only as right as the eye on it.
#   scripts/regen-goldens.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" --parallel "$(nproc 2>/dev/null || echo 2)" --target seqc >/dev/null
# a first run compares: the tests that fail are the goldens that will change
(cd "$ROOT/build" && ctest -L golden --parallel "$(nproc 2>/dev/null || echo 2)" -Q) ||
    echo "regen-goldens: some golden files differ from the build's output; rewriting them"
(cd "$ROOT/build" && UPDATE_GOLDEN=1 ctest -L golden --output-on-failure \
    --parallel "$(nproc 2>/dev/null || echo 2)" -Q) ||
    { echo "regen-goldens: a golden test fails even after rewriting (a wrong exit status?)" >&2; exit 1; }
cd "$ROOT"
changed=$(git status --short -- tests/frontend/bad tests/frontend/summary tests/frontend/cli \
         tests/backend/golden)
if [ -z "$changed" ]; then
    echo "regen-goldens: every golden file already matches the build"
else
    echo "regen-goldens: rewritten (see git diff):"
    echo "$changed"
fi
