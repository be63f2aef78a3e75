#!/bin/sh
# conv_scratch.sh: a CNN whose last convolutions have small outputs next to
# their weights (models/conv_small_output.seq) builds and trains one epoch
# on a slice of the embedded digits: the memory plan reserves every
# convolution's scratch as the runtime computes it.
#   usage: conv_scratch.sh SEQC SOURCE_DIR WORK_DIR
set -u
SEQC=$1 SRC=$2 WORK=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
"$SEQC" build "$SRC/tests/backend/models/conv_small_output.seq" -o "$WORK/t" >"$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log"; fail "seqc build"; }
"$WORK/t" --data "$SRC/data/mnist-digits" --limit 256 --epochs 1 --quiet >"$WORK/train.log" 2>&1 ||
    { cat "$WORK/train.log"; fail "training conv_small_output"; }
echo "conv_small_output: trained one epoch"
