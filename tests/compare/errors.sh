#!/bin/sh
# errors.sh: mistakes `seqc compare` must catch before any training: each
# exits non-zero with its message and writes nothing (no output folder,
# no CSV).
#   usage: errors.sh SEQC SOURCE_DIR WORK_DIR
set -u
SEQC=$1 SRC=$2 WORK=$3
MODEL=$SRC/models/mnist_bn.seq
DATA=$SRC/data/mnist-digits
failed=0

rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1

# variants of mnist_bn that clash with it or with the data
sed 's/input 28x28/input 32x32/' "$MODEL" >input32.seq
sed 's/dense 10;/dense 5;/' "$MODEL" >classes5.seq
sed 's/model mnist_bn/model other/' "$MODEL" >other.seq

# expect STATUS MESSAGE -- ARGS...: runs seqc compare ARGS -o out
expect() {
    want_status=$1 want_msg=$2
    shift 3
    rm -rf out
    "$SEQC" compare "$@" -o out >log 2>&1
    status=$?
    if [ $status -ne "$want_status" ]; then
        echo "FAIL: seqc compare $*: exit $status, want $want_status"; cat log; failed=1
    elif ! grep -qF -- "$want_msg" log; then
        echo "FAIL: seqc compare $*: no '$want_msg' in:"; cat log; failed=1
    elif [ -e out ] || ls ./*.csv >/dev/null 2>&1; then
        echo "FAIL: seqc compare $*: wrote output before failing"; failed=1
    elif grep -q 'Epoch 1/' log; then
        echo "FAIL: seqc compare $*: training started"; failed=1
    else
        echo "ok: $want_msg"
    fi
}

expect 1 "model mnist_bn ($MODEL) has no dropout layer" -- \
    "$MODEL" --without dropout --data "$DATA"
expect 1 "has no dropout layer" -- \
    "$MODEL" --without batchnorm --without dropout --data "$DATA"
expect 2 "unknown layer kind 'batchnorn' for --without; did you mean 'batchnorm'?" -- \
    "$MODEL" --without batchnorn --data "$DATA"
expect 2 "--data is required" -- "$MODEL" --without batchnorm
expect 2 "nothing to compare" -- "$MODEL" --data "$DATA"
expect 2 "--without and --replace go with one model file, not several" -- \
    "$MODEL" other.seq --without batchnorm --data "$DATA"
expect 2 "--without and --replace go with one model file, not several" -- \
    "$MODEL" other.seq --replace relu=tanh --data "$DATA"
# --replace OLD=NEW: both kinds known, not the input, not the same kind;
# the model has OLD; NEW can take OLD's place and the result is checked
expect 2 "--replace expects OLD=NEW, two layer kinds such as batchnorm=layernorm, got 'relu'" -- \
    "$MODEL" --replace relu --data "$DATA"
expect 2 "unknown layer kind 'batchnrm' for --replace; did you mean 'batchnorm'?" -- \
    "$MODEL" --replace batchnrm=relu --data "$DATA"
expect 2 "--replace input: the input cannot be replaced" -- \
    "$MODEL" --replace input=relu --data "$DATA"
expect 2 "--replace relu=relu: a layer replaced by its own kind is the model as written" -- \
    "$MODEL" --replace relu=relu --data "$DATA"
expect 1 "model mnist_bn ($MODEL) has no dropout layer: nothing to replace with --replace dropout=relu" -- \
    "$MODEL" --replace dropout=relu --data "$DATA"
expect 1 "mnist_bn.seq:4:14: error: 'dropout' cannot stand in for this 'batchnorm' (--replace batchnorm=dropout): 'dropout' needs a rate, which 'batchnorm' does not take" -- \
    "$MODEL" --replace batchnorm=dropout --data "$DATA"
expect 1 "mnist_bn.seq:6:14: note: checked with 'relu' in place of this 'softmax' and every other one (--replace softmax=relu)" -- \
    "$MODEL" --replace softmax=relu --data "$DATA"
expect 2 "--epochs expects a whole number" -- \
    "$MODEL" --without batchnorm --data "$DATA" --epochs 0
expect 1 "the models take different inputs: mnist_bn ($MODEL) takes 784 values per sample (28x28), mnist_bn (input32.seq) takes 1024 (32x32)" -- \
    "$MODEL" input32.seq --data "$DATA"
expect 1 "the models predict different numbers of classes: mnist_bn ($MODEL) has 10, mnist_bn (classes5.seq) has 5" -- \
    "$MODEL" classes5.seq --data "$DATA"
expect 1 "the data does not fit model mnist_bn: $DATA/train-images-idx3-ubyte.gz has shape (8000, 28, 28): 784 values per sample, the model's input takes 1024" -- \
    input32.seq --without batchnorm --data "$DATA"
expect 1 "the data does not fit model mnist_bn: $DATA/train-labels-idx1-ubyte.gz: sample 0 has label 5, but the model has 5 classes (labels 0..4)" -- \
    classes5.seq --without batchnorm --data "$DATA"
expect 1 "cannot read the data: $WORK/no-such-dir: cannot open: No such file or directory" -- \
    "$MODEL" --without batchnorm --data "$WORK/no-such-dir"
# CSV data is checked as the trainers will read it, before anything is built
expect 1 "cannot read the data: $SRC/data/breast_cancer/train.csv: --target 'nope': no such column; the header has 'mean_radius'" -- \
    "$SRC/models/breast_cancer.seq" --without normalize --data "$SRC/data/breast_cancer/train.csv" --target nope
expect 1 "the data does not fit model breast_cancer: $SRC/data/diabetes/train.csv has shape (353, 10): 10 values per sample, the model's input takes 30" -- \
    "$SRC/models/breast_cancer.seq" --without normalize --data "$SRC/data/diabetes/train.csv"
expect 1 "cannot read the data: $DATA/train-images-idx3-ubyte.gz: the data does not fit in the limit of 1048576 bytes (as given); raise it with --max-data-bytes N" -- \
    "$MODEL" --without batchnorm --data "$DATA" --max-data-bytes 1M
expect 2 "--max-data-bytes expects a size in bytes" -- \
    "$MODEL" --without batchnorm --data "$DATA" --max-data-bytes lots
expect 2 "--seeds expects a count from 1 to 1000 or a list of seeds such as 1,5,9, got '0'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --seeds 0
expect 2 "--seeds: seed 5 is listed twice" -- \
    "$MODEL" --without batchnorm --data "$DATA" --seeds 5,1,5
expect 2 "--seeds expects a count from 1 to 1000 or a list of seeds such as 1,5,9, got '1,,2'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --seeds 1,,2
expect 2 "--lr expects up to 8 distinct positive learning rates separated by commas, such as 0.001,0.01,0.1, got '0.01,-1'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --lr 0.01,-1
expect 2 "--validation-split expects a fraction between 0 and 1 (exclusive), such as 0.1, got '1'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --validation-split 1
expect 2 "--target expects METRIC=VALUE with a validation metric, such as val_accuracy=0.95, got 'accuracy=0.9'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --target accuracy=0.9
expect 2 "--jobs expects a whole number from 1 to 1024, got '0'" -- \
    "$MODEL" --without batchnorm --data "$DATA" --jobs 0
expect 2 "nothing to compare" -- "$MODEL" --data "$DATA" --lr 0.01
expect 1 "missing.seq: error: cannot open: No such file or directory" -- \
    missing.seq --without batchnorm --data "$DATA"
exit $failed
