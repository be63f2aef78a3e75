#!/bin/sh
# hash.sh: a checkpoint follows the model's structure, not its text.
#   hash.sh SEQC SOURCE_DIR WORK_DIR
# mnist_bn trained one epoch and saved; a copy of the model file in another
# directory, with comments, blank lines and other spacing, loads that
# checkpoint (evaluate --load gives the same val_accuracy); the same file
# with `dense 64` changed to `dense 65` is refused, and so is one whose
# batchnorm epsilon (an option that changes the step) differs; batchnorm
# sync=false loads it.
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK/elsewhere"
fail() { echo "hash: FAIL: $*" >&2; exit 1; }
cd "$WORK"
val_acc() { echo "$1" | sed -n 's/.*val_accuracy: *\([0-9.]*\).*/\1/p'; }

"$SEQC" build "$SRC/models/mnist_bn.seq" -o trainer || fail "build"
./trainer --data "$DATA" --epochs 1 --quiet --history h.csv --save a.ckpt || fail "training"
acc=$(tail -n 1 h.csv | cut -d, -f5)

{ echo "# a comment line, then blank lines"; echo; echo
  sed -e 's/^\(  dense 64;\) */\1   /' -e 's/$/  # trailing comment/' -e '/^model/a\
\
    # comment inside the model' "$SRC/models/mnist_bn.seq"; } > elsewhere/mnist_bn.seq
cmp -s "$SRC/models/mnist_bn.seq" elsewhere/mnist_bn.seq && fail "the edited copy is unchanged"
"$SEQC" build elsewhere/mnist_bn.seq -o commented || fail "build the commented copy"
out=$(./commented evaluate --data "$DATA" --load a.ckpt) || fail "the commented model refuses the checkpoint"
[ "$(val_acc "$out")" = "$acc" ] || fail "evaluate gives $(val_acc "$out"), training ended at $acc"
echo "hash: comments, blank lines and another directory keep the checkpoint: val_accuracy $acc"

# sync=false changes no parameter (only which processes a batch's
# statistics come from under MPI): the checkpoint loads either way
sed 's/batchnorm;/batchnorm sync=false;/' "$SRC/models/mnist_bn.seq" > local.seq
grep -q 'sync=false' local.seq || fail "no 'batchnorm;' in mnist_bn.seq to change"
"$SEQC" build local.seq -o local || fail "build the sync=false model"
out=$(./local evaluate --data "$DATA" --load a.ckpt) || fail "sync=false refuses the checkpoint"
[ "$(val_acc "$out")" = "$acc" ] || fail "sync=false: evaluate gives $(val_acc "$out"), not $acc"
echo "hash: batchnorm sync=false keeps the checkpoint"

sed 's/dense 64/dense 65/' "$SRC/models/mnist_bn.seq" > wider.seq
grep -q 'dense 65' wider.seq || fail "no 'dense 64' in mnist_bn.seq to change"
"$SEQC" build wider.seq -o wider || fail "build the wider model"
if ./wider evaluate --data "$DATA" --load a.ckpt > wider.out 2>&1; then
    fail "dense 65 loads a dense 64 checkpoint"
fi
grep -q 'different structure' wider.out || fail "dense 65: unexpected message: $(cat wider.out)"

sed 's/batchnorm;/batchnorm epsilon=0.01;/' "$SRC/models/mnist_bn.seq" > eps.seq
grep -q 'epsilon=0.01' eps.seq || fail "no 'batchnorm;' in mnist_bn.seq to change"
"$SEQC" build eps.seq -o eps || fail "build the epsilon model"
if ./eps evaluate --data "$DATA" --load a.ckpt > eps.out 2>&1; then
    fail "another batchnorm epsilon loads the checkpoint"
fi
grep -q 'different structure' eps.out || fail "epsilon: unexpected message: $(cat eps.out)"
echo "hash: dense 65 and another epsilon are refused"
