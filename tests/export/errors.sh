#!/bin/sh
# errors.sh: seqc export's bad input: one clear error, exit 1 (2 for a bad
# command line), nothing written.
#   errors.sh SEQC SOURCE_DIR WORK_DIR
set -eu
SEQC=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
fail() { echo "export errors: FAIL: $*" >&2; exit 1; }
# expect STATUS PATTERN CMD...: exit status STATUS, PATTERN in stderr, no out.c/out.h
expect() {
    want=$1 pattern=$2
    shift 2
    set +e
    "$@" > out.log 2> err.log
    got=$?
    set -e
    [ "$got" -eq "$want" ] || { cat err.log; fail "exit $got, expected $want: $*"; }
    grep -q -- "$pattern" err.log || { cat err.log; fail "no '$pattern' in the error of: $*"; }
    [ ! -e out.c ] && [ ! -e out.h ] && [ ! -e out.onnx ] || fail "an output was written: $*"
    echo "ok: $(head -n 1 err.log)"
}

D=$SRC/data/digits8x8
"$SEQC" build "$SRC/models/digits8x8.seq" -o digits || fail "seqc build"
./digits --data "$D/train.csv" --test "$D/test.csv" --epochs 1 --quiet --save digits.ckpt \
    > /dev/null || fail "training digits8x8"

# a checkpoint of another model
expect 1 "checkpoint is for model 'digits8x8'" \
    "$SEQC" export "$SRC/models/mnist_bn.seq" --load digits.ckpt -o out.c
# a changed model file: another structure
sed 's/dense 64; relu/dense 32; relu/' "$SRC/models/digits8x8.seq" > changed.seq
expect 1 "not a checkpoint of this model" \
    "$SEQC" export changed.seq --load digits.ckpt -o out.c --check-data "$D/test.csv"
# not a checkpoint
expect 1 "not a seqc checkpoint" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load "$D/test.csv" -o out.c \
    --check-data "$D/test.csv"
# an output that is an input: the checkpoint, or the header beside the C
cp digits.ckpt ck.h
expect 1 "cannot write ck.h: it is the input" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load ck.h -o ck.c --check-data "$D/test.csv"
[ ! -e ck.c ] && cmp -s ck.h digits.ckpt || fail "ck.c written or the checkpoint ck.h changed"
cp "$SRC/models/digits8x8.seq" model.onnx
expect 1 "cannot write model.onnx" \
    "$SEQC" export model.onnx --load digits.ckpt --format onnx -o model.onnx \
    --check-data "$D/test.csv"
cmp -s model.onnx "$SRC/models/digits8x8.seq" || fail "the model file was overwritten"
# no check data for a model that does not read 28x28 images
expect 1 "no data for the self-check of model 'digits8x8'" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load digits.ckpt -o out.c
# check data of another shape
expect 1 "samples of 30 values, model 'digits8x8' reads 64" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load digits.ckpt -o out.c \
    --check-data "$SRC/data/breast_cancer/test.csv"
# the command line
expect 2 "no checkpoint given" "$SEQC" export "$SRC/models/digits8x8.seq" -o out.c
expect 2 "unknown format 'tflite'" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load digits.ckpt --format tflite -o out.c
expect 2 "ends in .c" \
    "$SEQC" export "$SRC/models/digits8x8.seq" --load digits.ckpt -o out.cc
# a model file with an error: the front end's diagnostic
printf 'model m {\n  input 8x8\n  dense 10; sofmax\n}\ntrain {\n  loss mse\n}\n' > bad.seq
expect 1 "bad.seq:3" "$SEQC" export bad.seq --load digits.ckpt -o out.c

# not an error: a model named in mixed case gives lower-case functions and
# upper-case macros, and a hostile directory name (a comment end, a
# trigraph) reaches the C only through its comments, which stay closed
H='dir*/ ??/ "q"'
mkdir -p "$H"
sed 's/^model digits8x8 {/model Digits8X8 {/' "$SRC/models/digits8x8.seq" > "$H/Mixed.seq"
"$SEQC" build "$H/Mixed.seq" -o mixed > /dev/null || fail "seqc build Mixed.seq"
./mixed --data "$D/train.csv" --test "$D/test.csv" --epochs 1 --quiet --save mixed.ckpt \
    > /dev/null || fail "training Mixed.seq"
"$SEQC" export "$H/Mixed.seq" --load mixed.ckpt -o "$H/mixed.c" --check-data "$D/test.csv" \
    > /dev/null || fail "export of Mixed.seq"
grep -q '^void digits8x8_predict(const float \*input, float \*output);' "$H/mixed.h" &&
    grep -q '^#define DIGITS8X8_INPUT_SIZE 64' "$H/mixed.h" || fail "names in $H/mixed.h"
printf '#include "mixed.h"\nint main(void) { float x[DIGITS8X8_INPUT_SIZE] = {0}, y[DIGITS8X8_OUTPUT_SIZE];\n  digits8x8_predict(x, y); return !(y[0] >= 0.0f); }\n' > "$H/use.c"
cc -std=c99 -Wall -Wextra -Werror -pedantic -trigraphs -I"$H" "$H/use.c" "$H/mixed.c" -lm \
    -o use_mixed || fail "the export of $H/Mixed.seq does not compile with -trigraphs"
./use_mixed || fail "running the export of $H/Mixed.seq"
echo "ok: model Digits8X8 in '$H' gives digits8x8_predict and DIGITS8X8_INPUT_SIZE, compiles with -trigraphs"
echo "export errors: ok"
