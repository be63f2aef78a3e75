#!/bin/sh
# max_data_bytes.sh: a trainer's --max-data-bytes, as a user runs it: data
# over the limit (the training and test sets together) is refused before
# training with one message naming the file, the limit and the flag; a
# bad value is a usage error; with room, training runs.
#   usage: max_data_bytes.sh TRAINER SOURCE_DIR WORK_DIR
set -u
TRAINER=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
COMMON="--data $DATA --epochs 1 --limit 200 --threads 1 --quiet"
failed=0

rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1

# expect STATUS MESSAGE -- ARGS...: runs the trainer with ARGS
expect() {
    want_status=$1 want_msg=$2
    shift 3
    "$TRAINER" "$@" >log 2>&1
    status=$?
    if [ $status -ne "$want_status" ]; then
        echo "FAIL: trainer $*: exit $status, want $want_status"; cat log; failed=1
    elif [ -n "$want_msg" ] && ! grep -qF -- "$want_msg" log; then
        echo "FAIL: trainer $*: no '$want_msg' in:"; cat log; failed=1
    elif [ "$want_status" -ne 0 ] && grep -q 'Epoch 1/' log; then
        echo "FAIL: trainer $*: training started"; failed=1
    else
        echo "ok: $want_msg"
    fi
}

# data/mnist-digits: train 8000 * (784 + 1) = 6,280,000 bytes, t10k 1,570,000
expect 1 "$DATA/train-images-idx3-ubyte.gz: the data does not fit in the limit of 1048576 bytes (as given); raise it with --max-data-bytes N" -- \
    train $COMMON --max-data-bytes 1M
expect 1 "$DATA/t10k-images-idx3-ubyte.gz: the data does not fit in the limit of 7000000 bytes, 6304000 of them held by the data loaded before" -- \
    train $COMMON --max-data-bytes 7000000
expect 0 "" -- train $COMMON --max-data-bytes 7900000 --save ck
[ -s ck ] || { echo "FAIL: no checkpoint written"; failed=1; }
expect 2 "--max-data-bytes expects a size in bytes such as 500000000, 512M or 2G, got '0'" -- \
    train $COMMON --max-data-bytes 0
expect 2 "--max-data-bytes expects a size in bytes such as 500000000, 512M or 2G, got '1.5G'" -- \
    train $COMMON --max-data-bytes=1.5G
expect 1 "t10k-images-idx3-ubyte.gz: the data does not fit in the limit of 1000000 bytes" -- \
    evaluate --data "$DATA" --load ck --max-data-bytes 1000000
expect 1 "t10k-images-idx3-ubyte.gz: the data does not fit in the limit of 1000000 bytes" -- \
    predict --load ck --images "$DATA/t10k-images-idx3-ubyte.gz" --max-data-bytes 1000000
expect 0 "--max-data-bytes N" -- --help

exit $failed
