#!/bin/sh
# outputs_e2e.sh SEQC SOURCE_DIR WORK_DIR: the output rules through seqc
# and a trainer it generates.
#   1. seqc emit -o: a symlink is written through, a character device
#      (mknod in WORK, root only) stays a device, /dev/full-like gives
#      "No space left on device" and exit 1, a directory is refused;
#   2. models/mnist_bn.seq resumed with --lr 1e30: its weights go NaN while
#      the loss can stay finite (ReLU maps NaN to 0); the trainer exits 1
#      naming where, and the checkpoint of the last good epoch is kept
#      byte for byte;
#   3. a file size limit (ulimit -f) gives "File too large" and exit 1.
set -u
SEQC=$1 SRC=$2 WORK=$3
fail() { echo "outputs_e2e.sh: FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
MODEL=$SRC/models/mnist_bn.seq

# 1. seqc's own outputs
mkdir real
ln -s real/t.c link.c
"$SEQC" emit "$MODEL" -o link.c || fail "emit through a symlink"
[ -L link.c ] && [ -f real/t.c ] && grep -q seqrt_main real/t.c ||
    fail "the symlink was replaced or its target not written"
mkdir adir
"$SEQC" emit "$MODEL" -o adir 2>err.txt && fail "emit over a directory succeeded"
grep -q "cannot write adir: it is a directory" err.txt || fail "directory: $(cat err.txt)"
if mknod null c 1 3 2>/dev/null && mknod full c 1 7; then
    "$SEQC" emit "$MODEL" -o null || fail "emit to a null device"
    [ -c null ] || fail "the null device was replaced"
    "$SEQC" emit "$MODEL" -o full 2>err.txt && fail "emit to a full device succeeded"
    grep -q "cannot write full: No space left on device" err.txt || fail "full: $(cat err.txt)"
    [ -c full ] || fail "the full device was replaced"
else
    echo "outputs_e2e.sh: not root, device checks skipped"
fi

# 2. no silent NaN
"$SEQC" build "$MODEL" -o mnist_bn || fail "seqc build"
DATA="--data $SRC/data/mnist-digits --limit 2000 --threads 1 --quiet"
./mnist_bn $DATA --epochs 1 --save m.ck --history m.csv || fail "first epoch"
cp m.ck good.ck
./mnist_bn $DATA --epochs 3 --resume m.ck --lr 1e30 --save m.ck --history m.csv 2>err.txt
rc=$?
[ "$rc" -eq 1 ] || fail "--lr 1e30 exited $rc: $(cat err.txt)"
grep -q "^error: epoch 2.*: the weights became non-finite (nan at .*parameter offset [0-9]* of 110154)" err.txt ||
    fail "no message naming the non-finite weights: $(cat err.txt)"
grep -q "^note: m.ck keeps the weights of epoch 1, the last good one" err.txt ||
    fail "no note on the kept checkpoint: $(cat err.txt)"
cmp -s m.ck good.ck || fail "the checkpoint of epoch 1 was replaced"
[ "$(wc -l <m.csv)" -eq 2 ] || fail "the history got a row of the bad epoch"
./mnist_bn evaluate --data "$SRC/data/mnist-digits" --limit 100 --load m.ck >/dev/null ||
    fail "the kept checkpoint does not load"
# 3. a file size limit (ulimit -f, in 512-byte blocks here) is an error
# with its reason, not a kill by SIGXFSZ; the checkpoint is not touched
(ulimit -f 100 && exec ./mnist_bn $DATA --epochs 2 --resume m.ck --save m.ck) 2>err.txt
rc=$?
[ "$rc" -eq 1 ] || fail "under ulimit -f the trainer exited $rc: $(cat err.txt)"
grep -q "^error: cannot write m.ck: File too large" err.txt || fail "ulimit -f: $(cat err.txt)"
cmp -s m.ck good.ck || fail "the checkpoint changed under ulimit -f"
echo "outputs_e2e.sh: ok"
