#!/bin/sh
# same_init.sh: the two trainers `seqc compare` built (e2e.sh's output)
# start from the same weights in the dense layers they share, and their
# generator is in the same state afterwards, so the first shuffle (and
# every later one: batchnorm draws nothing) orders the batches alike.
# When e2e.sh did not run (skipped), the same C comes from seqc emit.
#   usage: same_init.sh CC INCLUDE_DIR LIBSEQRT "LINK FLAGS" SOURCE_DIR WORK_DIR E2E_OUT SEQC
set -u
CC=$1 INC=$2 LIB=$3 LIBS=$4 SRC=$5 WORK=$6 OUT=$7 SEQC=$8
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
for v in mnist_bn mnist_bn-no-batchnorm; do
    c=$OUT/trainers/$v.c
    if [ ! -f "$c" ]; then
        c=$WORK/$v.c
        without=""
        [ "$v" = mnist_bn ] || without="--without batchnorm"
        # shellcheck disable=SC2086 # without is empty or two words
        "$SEQC" emit "$SRC/models/mnist_bn.seq" $without -o "$c" || fail "seqc emit $v failed"
    fi
    # shellcheck disable=SC2086 # LIBS is a list of flags
    "$CC" -std=c11 -O0 -Wall -Wextra -I"$INC" "-DTRAINER_C=\"$c\"" \
        "$SRC/tests/compare/init_dump.c" "$LIB" $LIBS -o "$WORK/dump-$v" \
        || fail "cannot compile init_dump with $c"
    "$WORK/dump-$v" 42 "$WORK/$v-42.bin" || fail "dump-$v failed"
done
"$WORK/dump-mnist_bn" 43 "$WORK/mnist_bn-43.bin" || fail "dump-mnist_bn failed"

# dense weights 784x128 + 128x64 + 64x10 floats, 32 bytes of generator
# state, 1000 uint32 of sample order
want=$(( (784 * 128 + 128 * 64 + 64 * 10) * 4 + 32 + 4000 ))
size=$(wc -c <"$WORK/mnist_bn-42.bin")
[ "$size" -eq "$want" ] || fail "dump is $size bytes, want $want"
cmp "$WORK/mnist_bn-42.bin" "$WORK/mnist_bn-no-batchnorm-42.bin" \
    || fail "with and without batchnorm start differently (seed 42)"
# the comparison can fail: another seed gives other weights
if cmp -s "$WORK/mnist_bn-42.bin" "$WORK/mnist_bn-43.bin"; then
    fail "seeds 42 and 43 gave the same weights"
fi
echo "ok: dense_1..3 weights, generator state and first shuffle are identical"
