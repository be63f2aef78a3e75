#!/bin/sh
# e2e.sh: model file -> seqc build -> train on data/mnist-digits -> check.
#   e2e.sh SEQC SOURCE_DIR WORK_DIR
# 1. mnist_bn, 3 epochs: final val_accuracy >= 0.93;
# 2. the same run again: identical epoch/loss/accuracy/val_* columns;
# 3. evaluate --load on the saved checkpoint: the final val_accuracy again;
# 4. --without batchnorm, 3 epochs: val_accuracy >= 0.90;
# 5. from_logits=true in place of the final softmax: identical columns.
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
# last row's column N of a history CSV
col() { tail -n 1 "$1" | cut -d, -f"$2"; }
# awk exits 0 when $1 >= $2
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

"$SEQC" build "$SRC/models/mnist_bn.seq" -o "$WORK/mnist_bn" || fail "seqc build"
"$SEQC" build "$SRC/models/mnist_bn.seq" --without batchnorm -o "$WORK/mnist_nobn" ||
    fail "seqc build --without batchnorm"

"$WORK/mnist_bn" --data "$DATA" --epochs 3 --quiet --history "$WORK/a.csv" \
    --save "$WORK/a.ckpt" || fail "training mnist_bn"
head -n 1 "$WORK/a.csv" | grep -qx 'epoch,loss,accuracy,val_loss,val_accuracy,seconds' ||
    fail "history header: $(head -n 1 "$WORK/a.csv")"
[ "$(wc -l < "$WORK/a.csv")" -eq 4 ] || fail "expected 3 epochs in $WORK/a.csv"
acc=$(col "$WORK/a.csv" 5)
echo "mnist_bn: 3 epochs, val_accuracy $acc"
at_least "$acc" 0.93 || fail "mnist_bn val_accuracy $acc < 0.93"

"$WORK/mnist_bn" --data "$DATA" --epochs 3 --quiet --history "$WORK/b.csv" ||
    fail "second training run"
cut -d, -f1-5 "$WORK/a.csv" > "$WORK/a.cols"
cut -d, -f1-5 "$WORK/b.csv" > "$WORK/b.cols"
cmp -s "$WORK/a.cols" "$WORK/b.cols" || { diff "$WORK/a.cols" "$WORK/b.cols"; fail "two runs with the same seed differ"; }
echo "same seed: identical metric columns"

out=$("$WORK/mnist_bn" evaluate --data "$DATA" --load "$WORK/a.ckpt") || fail "evaluate"
eval_acc=$(echo "$out" | sed -n 's/.*val_accuracy: *\([0-9.]*\).*/\1/p')
[ -n "$eval_acc" ] || fail "no val_accuracy in: $out"
awk -v a="$acc" -v b="$eval_acc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-6) }' ||
    fail "evaluate --load gives $eval_acc, training ended at $acc"
echo "evaluate --load: val_accuracy $eval_acc"

"$WORK/mnist_nobn" --data "$DATA" --epochs 3 --quiet --history "$WORK/c.csv" ||
    fail "training --without batchnorm"
acc=$(col "$WORK/c.csv" 5)
echo "mnist_bn --without batchnorm: 3 epochs, val_accuracy $acc"
at_least "$acc" 0.90 || fail "without batchnorm val_accuracy $acc < 0.90"

# 5. the same model ending in dense 10 with from_logits=true: the loss
#    applies the softmax (the same fused kernel), so the run is the same
sed -e 's/dense 10; *softmax/dense 10/' \
    -e 's/loss sparse_categorical_crossentropy/& from_logits=true/' \
    "$SRC/models/mnist_bn.seq" > "$WORK/mnist_logits.seq"
grep -q 'from_logits=true' "$WORK/mnist_logits.seq" && ! grep -q softmax "$WORK/mnist_logits.seq" ||
    fail "could not make the from_logits variant of mnist_bn.seq"
"$SEQC" build "$WORK/mnist_logits.seq" -o "$WORK/mnist_logits" || fail "seqc build (from_logits)"
"$WORK/mnist_logits" --data "$DATA" --epochs 3 --quiet --history "$WORK/d.csv" ||
    fail "training with from_logits=true"
cut -d, -f1-5 "$WORK/d.csv" > "$WORK/d.cols"
cmp -s "$WORK/a.cols" "$WORK/d.cols" || { diff "$WORK/a.cols" "$WORK/d.cols"; fail "from_logits=true and a final softmax train differently"; }
echo "from_logits=true without the softmax: identical metric columns"
