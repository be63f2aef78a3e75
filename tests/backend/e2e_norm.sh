#!/bin/sh
# e2e_norm.sh: the normalization layers end to end (issue #14).
#   e2e_norm.sh SEQC SOURCE_DIR WORK_DIR
# 1. tests/backend/models/mnist_norm.seq (layernorm, ghost batchnorm with
#    center=false, groupnorm with scale=false): 2 epochs on
#    data/mnist-digits reach val_accuracy >= 0.93, saving a checkpoint;
# 2. 1 epoch saved, then --resume to 2 epochs: the same metrics as the
#    uninterrupted run, bit for bit (the parameter blocks of layers without
#    gamma or beta save and load like any other);
# 3. evaluate --load on the checkpoint: the final val_accuracy again;
# 4. --batch 30: the last batch of 20 samples makes ghost batches of 8 and
#    8 + 4 (the remainder joins the last group): trains to a finite loss;
# 5. the same model with frozen=true batchnorm (moving statistics in
#    training, nothing trained there) trains, and with renorm=true (batch
#    renormalization) reaches val_accuracy >= 0.90 in 1 epoch.
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
MODEL=$SRC/tests/backend/models/mnist_norm.seq
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "e2e_norm: FAIL: $*" >&2; exit 1; }
col() { tail -n 1 "$1" | cut -d, -f"$2"; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
finite_loss() { awk -v l="$1" 'BEGIN { exit !(l + 0 > 0 && l + 0 < 10) }'; }

"$SEQC" build "$MODEL" -o "$WORK/norm" || fail "seqc build"
"$WORK/norm" --data "$DATA" --epochs 2 --quiet --history "$WORK/a.csv" \
    --save "$WORK/a.ckpt" || fail "training"
[ "$(wc -l < "$WORK/a.csv")" -eq 3 ] || fail "expected 2 epochs in $WORK/a.csv"
acc=$(col "$WORK/a.csv" 5)
echo "mnist_norm: 2 epochs, val_accuracy $acc"
at_least "$acc" 0.93 || fail "mnist_norm val_accuracy $acc < 0.93"

"$WORK/norm" --data "$DATA" --epochs 1 --quiet --history "$WORK/b.csv" \
    --save "$WORK/b.ckpt" || fail "training 1 epoch"
"$WORK/norm" --data "$DATA" --epochs 2 --quiet --history "$WORK/b.csv" \
    --resume "$WORK/b.ckpt" || fail "resuming"
cut -d, -f1-5 "$WORK/a.csv" > "$WORK/a.cols"
cut -d, -f1-5 "$WORK/b.csv" > "$WORK/b.cols"
cmp -s "$WORK/a.cols" "$WORK/b.cols" ||
    { diff "$WORK/a.cols" "$WORK/b.cols"; fail "the resumed run differs from the uninterrupted one"; }
echo "resumed after 1 epoch: the same metrics as the uninterrupted run"

out=$("$WORK/norm" evaluate --data "$DATA" --load "$WORK/a.ckpt") || fail "evaluate"
eval_acc=$(echo "$out" | sed -n 's/.*val_accuracy: *\([0-9.]*\).*/\1/p')
[ -n "$eval_acc" ] || fail "no val_accuracy in: $out"
awk -v a="$acc" -v b="$eval_acc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-6) }' ||
    fail "evaluate --load gives $eval_acc, training ended at $acc"
echo "evaluate --load: val_accuracy $eval_acc"

"$WORK/norm" --data "$DATA" --epochs 1 --batch 30 --quiet --history "$WORK/c.csv" ||
    fail "training with --batch 30"
loss=$(col "$WORK/c.csv" 2)
finite_loss "$loss" || fail "--batch 30: loss $loss"
echo "--batch 30 (ghost batches 8, 8+4 in the last batch): loss $loss"

sed 's/batchnorm center=false virtual_batch=8/batchnorm frozen=true/' "$MODEL" > "$WORK/frozen.seq"
grep -q 'frozen=true' "$WORK/frozen.seq" || fail "could not make the frozen variant"
"$SEQC" build "$WORK/frozen.seq" -o "$WORK/frozen" || fail "seqc build (frozen)"
"$WORK/frozen" --data "$DATA" --epochs 1 --quiet --history "$WORK/d.csv" ||
    fail "training (frozen)"
loss=$(col "$WORK/d.csv" 2)
finite_loss "$loss" || fail "frozen: loss $loss"
echo "batchnorm frozen=true: 1 epoch, loss $loss"

sed 's/batchnorm center=false virtual_batch=8/batchnorm renorm=true/' "$MODEL" > "$WORK/renorm.seq"
grep -q 'renorm=true' "$WORK/renorm.seq" || fail "could not make the renorm variant"
"$SEQC" build "$WORK/renorm.seq" -o "$WORK/renorm" || fail "seqc build (renorm)"
"$WORK/renorm" --data "$DATA" --epochs 1 --quiet --history "$WORK/e.csv" ||
    fail "training (renorm)"
acc=$(col "$WORK/e.csv" 5)
echo "batchnorm renorm=true: 1 epoch, val_accuracy $acc"
at_least "$acc" 0.90 || fail "renorm val_accuracy $acc < 0.90"
