#!/bin/sh
# export.sh: seqc export of one model in models/, checked against its trainer.
#   export.sh SEQC SOURCE_DIR WORK_DIR CC MODEL [MODEL_FILE]
# (MODEL_FILE defaults to SOURCE_DIR/models/MODEL.seq; tests/export/models/
# holds models of the layers models/ does not use, trained on the digits)
# 1. build the trainer, train 1 epoch on the model's own data, --save;
# 2. seqc export to C (its self-check runs before it writes);
# 3. compile the C with gcc and clang, -std=c99 -Wall -Wextra -Werror
#    -pedantic, no library but libm (nm: no symbol from anything else);
# 4. the exported C against the trainer's `predict --output` on the
#    validation set: >= 99.9% identical classes, outputs within 1e-4;
# 5. --no-fold: the same agreement (its self-check on 200 samples).
# Exit 77 (skipped) only when the model's data set is not installed
# (Fashion-MNIST, Debian's dataset-fashion-mnist).
set -eu
SEQC=$1 SRC=$2 WORK=$3 CC=$4 M=$5
FILE=${6:-$2/models/$5.seq}
HERE=$(cd "$(dirname "$0")" && pwd)
# Debian's python3, where python3-numpy (and python3-onnx) are installed
PYTHON=${PYTHON:-/usr/bin/python3}
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
fail() { echo "export($M): FAIL: $*" >&2; exit 1; }

LIMIT=0 TRAINLIMIT=""
case $M in
mnist_bn|mnist_cnn_bn|deep_sigmoid_bn|x*)
    TRAIN="--data $SRC/data/mnist-digits" CHECK=$SRC/data/mnist-digits ;;
fashion_bn|fashion_cnn_bn)
    F=/usr/share/datasets/fashion-mnist
    [ -f "$F/t10k-images-idx3-ubyte.gz" ] || { echo "export($M): SKIP: $F is not installed (apt-get install dataset-fashion-mnist)"; exit 77; }
    # 8,000 training images keep the test short; 2,000 test images checked
    TRAIN="--data $F" TRAINLIMIT="--limit 8000" CHECK=$F LIMIT=2000 ;;
breast_cancer|diabetes|digits8x8)
    D=$SRC/data/$M
    TRAIN="--data $D/train.csv --test $D/test.csv" CHECK=$D/test.csv ;;
*) fail "no data set known for model $M" ;;
esac

"$SEQC" build "$FILE" -o trainer || fail "seqc build"
# shellcheck disable=SC2086
./trainer $TRAIN $TRAINLIMIT --epochs 1 --quiet --save model.ckpt >/dev/null || fail "training"
PLIMIT=""
[ "$LIMIT" -gt 0 ] && PLIMIT="--limit $LIMIT"
# shellcheck disable=SC2086
./trainer predict --load model.ckpt --data "$CHECK" $PLIMIT --output pred.csv >/dev/null ||
    fail "trainer predict"

CLIM=""
[ "$LIMIT" -gt 0 ] && CLIM="--check-limit $LIMIT"
# The first export's self-check runs on every sample checked below; the
# later exports of the same checkpoint (--no-fold here, both ONNX files in
# onnx.sh) self-check the first 200 only: their outputs are compared with
# the trainer's predictions on every sample anyway, and a CNN's self-check
# in double is most of what these tests cost.
RECHECK="--check-data $CHECK --check-limit 200"
echo "$RECHECK" > check.args
# shellcheck disable=SC2086
"$SEQC" export "$FILE" --load model.ckpt -o "$M.c" --check-data "$CHECK" $CLIM \
    > export.log || { cat export.log; fail "seqc export"; }
cat export.log
grep -q '^self-check: .* worst relative difference' export.log || fail "no self-check line"
if grep -q batchnorm "$FILE"; then
    grep -q '^folded ' export.log || fail "nothing folded in a model with batchnorm"
    # every batchnorm of models/ follows a dense or conv2d
    [ "$FILE" != "$SRC/models/$M.seq" ] || ! grep -q 'scale_shift(' "$M.c" ||
        fail "a batchnorm left unfolded"
fi
[ -f "$M.h" ] || fail "no $M.h"
# the tutorial's 110,154 parameters less its batchnorms' 768 (4 x 128 + 4 x 64)
if [ "$M" = mnist_bn ]; then
    grep -q '^mnist_bn: 109386 weights to export (110154 parameters' export.log ||
        fail "the tutorial's export is not 109,386 floats"
fi

n=$("$PYTHON" "$HERE/compare.py" inputs "$CHECK" "$(sed -n "s/^#define [A-Z0-9_]*_INPUT_SIZE //p" "$M.h")" "$LIMIT" x.bin)
UP=$(echo "$M" | tr a-z A-Z)
OUTS=$(sed -n "s/^#define ${UP}_OUTPUT_SIZE //p" "$M.h")
for cc in "$CC" gcc clang; do
    command -v "$cc" >/dev/null 2>&1 || continue
    "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -c "$M.c" -o "$M.o" ||
        fail "$cc -std=c99 -pedantic -Werror on $M.c"
done
# nothing but libm and the C library's few helpers the compiler may call
undefined=$(nm -u "$M.o" | awk '{print $2}' | grep -v -E '^(expf|tanhf|sqrt|memcpy|memset)$' || true)
[ -z "$undefined" ] || fail "$M.o needs more than libm: $undefined"
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. -DHEADER="\"$M.h\"" \
    -DPREDICT_BATCH="${M}_predict_batch" -DINPUT_SIZE="${UP}_INPUT_SIZE" \
    -DOUTPUT_SIZE="${UP}_OUTPUT_SIZE" "$HERE/driver.c" "$M.c" -lm -o driver ||
    fail "compiling the driver"
./driver "$n" x.bin y.bin || fail "running the exported C"
"$PYTHON" "$HERE/compare.py" outputs "C export" pred.csv y.bin "$OUTS" || fail "C export"

# --no-fold: batchnorm as its own step, the same predictions
# shellcheck disable=SC2086
"$SEQC" export "$FILE" --load model.ckpt -o nofold.c --no-fold \
    $RECHECK > nofold.log || { cat nofold.log; fail "seqc export --no-fold"; }
! grep -q '^folded ' nofold.log || fail "--no-fold folded"
"$CC" -std=c99 -O2 -I. -DHEADER="\"nofold.h\"" -DPREDICT_BATCH="${M}_predict_batch" \
    -DINPUT_SIZE="${UP}_INPUT_SIZE" -DOUTPUT_SIZE="${UP}_OUTPUT_SIZE" "$HERE/driver.c" nofold.c \
    -lm -o driver_nofold || fail "compiling the --no-fold driver"
./driver_nofold "$n" x.bin y_nofold.bin || fail "running the --no-fold C"
"$PYTHON" "$HERE/compare.py" outputs "C export --no-fold" pred.csv y_nofold.bin "$OUTS" ||
    fail "C export --no-fold"
echo "export($M): ok"
