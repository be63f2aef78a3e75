#!/bin/sh
# e2e_cnn.sh: the CNN end to end.
#   e2e_cnn.sh SEQC SOURCE_DIR WORK_DIR
# 1. models/mnist_cnn_bn.seq, 2 epochs on data/mnist-digits (8,000
#    training images): final val_accuracy >= 0.95 (issue #13);
# 2. --without batchnorm builds and trains 1 epoch to a finite loss;
# 3. 1 and 2 threads give the same history (the fused batchnorm + relu +
#    maxpool2d kernels and the convolutions split the batch over threads).
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "e2e_cnn: FAIL: $*" >&2; exit 1; }
col() { tail -n 1 "$1" | cut -d, -f"$2"; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

"$SEQC" build "$SRC/models/mnist_cnn_bn.seq" -o "$WORK/cnn" || fail "seqc build"
"$WORK/cnn" --data "$DATA" --epochs 2 --quiet --history "$WORK/a.csv" || fail "training"
[ "$(wc -l < "$WORK/a.csv")" -eq 3 ] || fail "expected 2 epochs in $WORK/a.csv"
acc=$(col "$WORK/a.csv" 5)
echo "mnist_cnn_bn: 2 epochs, val_accuracy $acc"
at_least "$acc" 0.95 || fail "mnist_cnn_bn val_accuracy $acc < 0.95"

"$SEQC" build "$SRC/models/mnist_cnn_bn.seq" --without batchnorm -o "$WORK/cnn_nobn" ||
    fail "seqc build --without batchnorm"
"$WORK/cnn_nobn" --data "$DATA" --epochs 1 --quiet --history "$WORK/b.csv" ||
    fail "training --without batchnorm"
loss=$(col "$WORK/b.csv" 2)
awk -v l="$loss" 'BEGIN { exit !(l + 0 > 0 && l + 0 < 10) }' || fail "loss $loss"
echo "mnist_cnn_bn --without batchnorm: 1 epoch, loss $loss"

for t in 1 2; do
    "$WORK/cnn" --data "$DATA" --epochs 1 --limit 2000 --threads $t --quiet \
        --history "$WORK/t$t.csv" || fail "training on $t thread(s)"
    cut -d, -f1-5 "$WORK/t$t.csv" > "$WORK/t$t.cols"
done
cmp -s "$WORK/t1.cols" "$WORK/t2.cols" || fail "1 and 2 threads give different histories"
echo "mnist_cnn_bn: 1 and 2 threads, same history: $(tail -n 1 "$WORK/t1.cols")"
