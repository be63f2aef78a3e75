#!/bin/sh
# fused_unfused.sh: the CNN with its batchnorm + relu + maxpool2d blocks
# fused (the default) and apart (seqc --no-fuse) computes the same thing.
#   fused_unfused.sh SEQC SOURCE_DIR WORK_DIR
# 1. the IR has the fused op by default and not with --no-fuse;
# 2. a checkpoint the unfused trainer saves loads into the fused one (the
#    structure hash is the same) and evaluates to the same val_loss within
#    float rounding (1e-5 relative: the inference kernels round apart);
# 3. one epoch on 2,000 digits from the same seed: the losses agree
#    within 1 % and the validation accuracies within 0.01 (the batch
#    statistics are summed in another order, so the paths drift apart by
#    rounding only).
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
MODEL=$SRC/models/mnist_cnn_bn.seq
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "fused_unfused: FAIL: $*" >&2; exit 1; }
col() { tail -n 1 "$1" | cut -d, -f"$2"; }
close() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d;
          m = a < 0 ? -a : a; exit !(d <= r * m) }'; }
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
val_loss() { echo "$1" | sed -n 's/.*val_loss: *\([0-9.e+-]*\).*/\1/p'; }

n=$("$SEQC" ir "$MODEL" | grep -c '= batchnorm_relu_maxpool2d(') || true
[ "$n" = 2 ] || fail "expected 2 fused blocks in the IR, found $n"
n=$("$SEQC" ir --no-fuse "$MODEL" | grep -c '= batchnorm_relu_maxpool2d(') || true
[ "$n" = 0 ] || fail "--no-fuse still fuses ($n blocks)"

"$SEQC" build "$MODEL" -o "$WORK/fused" || fail "seqc build"
"$SEQC" build "$MODEL" --no-fuse -o "$WORK/apart" || fail "seqc build --no-fuse"
"$WORK/apart" --data "$DATA" --epochs 1 --limit 2000 --quiet --history "$WORK/apart.csv" \
    --save "$WORK/apart.ckpt" || fail "training the unfused trainer"
"$WORK/fused" --data "$DATA" --epochs 1 --limit 2000 --quiet --history "$WORK/fused.csv" ||
    fail "training the fused trainer"

a=$(val_loss "$("$WORK/apart" evaluate --data "$DATA" --load "$WORK/apart.ckpt")")
f=$(val_loss "$("$WORK/fused" evaluate --data "$DATA" --load "$WORK/apart.ckpt")") ||
    fail "the fused trainer refuses the unfused trainer's checkpoint"
[ -n "$a" ] && [ -n "$f" ] || fail "no val_loss in the evaluate output"
close "$f" "$a" 1e-5 || fail "evaluate: fused val_loss $f, unfused $a"
echo "evaluate, the unfused checkpoint: val_loss $a unfused, $f fused"

close "$(col "$WORK/fused.csv" 2)" "$(col "$WORK/apart.csv" 2)" 0.01 ||
    fail "one epoch: loss $(col "$WORK/fused.csv" 2) fused, $(col "$WORK/apart.csv" 2) unfused"
within "$(col "$WORK/fused.csv" 5)" "$(col "$WORK/apart.csv" 5)" 0.01 ||
    fail "one epoch: val_accuracy $(col "$WORK/fused.csv" 5) fused, $(col "$WORK/apart.csv" 5) unfused"
echo "one epoch: loss $(col "$WORK/apart.csv" 2) unfused, $(col "$WORK/fused.csv" 2) fused;" \
     "val_accuracy $(col "$WORK/apart.csv" 5), $(col "$WORK/fused.csv" 5)"
