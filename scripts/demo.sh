#!/bin/sh
# The tutorial in one command: installs what is missing, builds seqc, shows
# the model, then trains it on the embedded MNIST digits with and without
# batch normalization, 5 seeds each, and prints the paired comparison.
#
#   scripts/demo.sh [--epochs N] [--seeds K]   (defaults: the model's 10, 5)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EPOCHS=""
SEEDS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --epochs) [ $# -ge 2 ] || { echo "demo.sh: --epochs needs a number" >&2; exit 2; }
                  EPOCHS="--epochs $2"; shift 2 ;;
        --seeds) [ $# -ge 2 ] || { echo "demo.sh: --seeds needs a number" >&2; exit 2; }
                  SEEDS="--seeds $2"; shift 2 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
. "$ROOT/scripts/deps.sh"
seqc_install_deps

echo "== building seqc and libseqrt"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# only what the demo runs: seqc, and libseqrt that its trainers link
# (tests, sanitizer and fuzz builds are scripts/test.sh's)
cmake --build "$ROOT/build" --parallel "$(nproc 2>/dev/null || echo 2)" --target seqc >/dev/null
SEQC="$ROOT/build/seqc"
MODEL="$ROOT/models/mnist_bn.seq"
DATA="$ROOT/data/mnist-digits"
OUT="$ROOT/build/compare-mnist_bn"

echo
echo "== the model: $MODEL"
sed -n '/^model/,$p' "$MODEL"
echo
echo "== seqc summary models/mnist_bn.seq"
"$SEQC" summary "$MODEL"
echo
echo "== seqc summary models/mnist_bn.seq --without batchnorm"
"$SEQC" summary "$MODEL" --without batchnorm
echo
echo "== training both variants on $DATA: 8,000 training digits (the last 10 %"
echo "   validate every epoch) and 2,000 test digits (evaluated once at the end)"
# shellcheck disable=SC2086
"$SEQC" compare "$MODEL" --without batchnorm --data "$DATA" -o "$OUT" $EPOCHS $SEEDS
echo
echo "Report: $OUT/report.md"
echo "Curves (mean of the seeds with +-1 sd bands; training solid, validation dashed;"
echo "the paired difference on the right): $OUT/curves.svg"
echo "Numbers for scripts: $OUT/summary.json (docs/compare.md)"
