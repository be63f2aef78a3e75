#!/bin/sh
# threads_e2e.sh: the thread count changes no bit of a training run.
#   threads_e2e.sh SEQC SOURCE_DIR WORK_DIR
# Builds models/mnist_bn.seq, trains it 2 epochs on data/mnist-digits with
# --threads 1, 2 and 3 (the same seed), and compares the history CSVs
# (every column but the wall-clock seconds) and the saved checkpoints byte
# for byte. Then the same with SEQRT_KERNELS=portable against the default
# kernels, on 1 and 2 threads (a few hundred samples: the portable path is
# slow where fmaf is a library call): every GEMM path sums in one order.
set -eu
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "threads_e2e: FAIL: $*" >&2; exit 1; }

"$SEQC" build "$SRC/models/mnist_bn.seq" -o "$WORK/mnist_bn" || fail "seqc build"

# train TAG [ARGS...]: 2 epochs, history $TAG.csv (without the seconds
# column: $TAG.cols), checkpoint $TAG.ckpt
train() {
    tag=$1; shift
    "$WORK/mnist_bn" train --data "$DATA" --epochs 2 --seed 7 --quiet \
        --history "$WORK/$tag.csv" --save "$WORK/$tag.ckpt" "$@" || fail "training $tag"
    head -n 1 "$WORK/$tag.csv" | grep -q ',seconds$' || fail "$tag.csv: seconds is not the last column"
    sed 's/,[^,]*$//' "$WORK/$tag.csv" > "$WORK/$tag.cols"
    [ "$(wc -l < "$WORK/$tag.cols")" -eq 3 ] || fail "$tag.csv: expected 2 epochs"
}
# same A B: identical histories and checkpoints
same() {
    cmp "$WORK/$1.cols" "$WORK/$2.cols" || { diff "$WORK/$1.cols" "$WORK/$2.cols"; fail "histories $1 and $2 differ"; }
    cmp "$WORK/$1.ckpt" "$WORK/$2.ckpt" || fail "checkpoints $1 and $2 differ"
}

for t in 1 2 3; do
    train "t$t" --threads "$t"
done
same t1 t2
same t1 t3
echo "threads 1, 2, 3: identical histories and checkpoints"
cat "$WORK/t1.cols"

train small_default --threads 1 --limit 300
SEQRT_KERNELS=portable train small_portable1 --threads 1 --limit 300
SEQRT_KERNELS=portable train small_portable2 --threads 2 --limit 300
same small_default small_portable1
same small_default small_portable2
echo "portable kernels: the default kernels' bits on 1 and 2 threads"
