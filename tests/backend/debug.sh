#!/bin/sh
# debug.sh: the generated C's debugging aids.
#   debug.sh SEQC SOURCE_DIR WORK_DIR C_COMPILER
# 1. seqc emit --no-reuse: no buffer shares floats (the plan is the sum of
#    the buffers), and a trainer built so trains to the same numbers as the
#    default one: identical history metrics and checkpoint bytes;
# 2. seqc emit --line-directives: the C compiles with -g -Werror -trigraphs,
#    the DWARF line table maps the layers' code to the model file's layer
#    lines (4, 5, 6 of mnist_bn.seq) and nothing else of it, and every
#    directive back to the C names the line that follows it.
set -eu
SEQC=$1 SRC=$2 WORK=$3 CCBIN=$4
DATA=$SRC/data/mnist-digits
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "debug: FAIL: $*" >&2; exit 1; }
cd "$WORK"
cp "$SRC/models/mnist_bn.seq" mnist_bn.seq

# 1. --no-reuse
"$SEQC" emit mnist_bn.seq -o reuse.c || fail "emit"
"$SEQC" emit mnist_bn.seq --no-reuse -o noreuse.c || fail "emit --no-reuse"
grep -q 'shares floats with' reuse.c || fail "the default plan marks no shared buffers"
if grep -q 'shares floats with' noreuse.c; then fail "--no-reuse still shares floats"; fi
"$SEQC" ir mnist_bn.seq --no-reuse > noreuse.ir || fail "ir --no-reuse"
plan=$(sed -n 's/^memory plan: \([0-9]*\) floats.*/\1/p' noreuse.ir)
sum=$(sed -n '/^memory plan/,/^  steps/p' noreuse.ir | awk '$1 ~ /^[0-9]+$/ { s += $2 } END { print s }')
[ -n "$plan" ] && [ "$plan" = "$sum" ] || fail "--no-reuse plan $plan floats, buffers $sum"
reused=$(sed -n 's/^#define ACT_PER_SAMPLE *\([0-9]*\).*/\1/p' reuse.c)
[ "$reused" -lt "$plan" ] || fail "the default plan ($reused) reuses nothing (--no-reuse: $plan)"

"$SEQC" build mnist_bn.seq -o reuse || fail "build"
"$SEQC" build mnist_bn.seq --no-reuse -o noreuse || fail "build --no-reuse"
for t in reuse noreuse; do
    "./$t" --data "$DATA" --epochs 1 --quiet --history "$t.csv" --save "$t.ckpt" ||
        fail "training $t"
    cut -d, -f1-5 "$t.csv" > "$t.cols"
done
cmp -s reuse.cols noreuse.cols || { diff reuse.cols noreuse.cols; fail "--no-reuse trains to other numbers"; }
cmp -s reuse.ckpt noreuse.ckpt || fail "--no-reuse saves another checkpoint"
echo "debug: --no-reuse: $plan floats per sample instead of $reused, the same history and checkpoint"

# 2. --line-directives
"$SEQC" emit mnist_bn.seq --line-directives -o lines.c || fail "emit --line-directives"
grep -q '^#line 4 "mnist_bn.seq"$' lines.c || fail "no #line 4 for the first layer"
# each directive back to the C gives the number of the line after it
awk '/^#line [0-9]+ "lines.c"$/ { if ($2 != NR + 1) { print NR ": " $0; bad = 1 } }
     END { exit bad }' lines.c || fail "a #line back to lines.c names the wrong line"
"$CCBIN" -std=c11 -g -O0 -Wall -Wextra -Wpedantic -Werror -trigraphs -I"$SRC/runtime/include" \
    -c lines.c -o lines.o || fail "lines.c does not compile with -Werror"
objdump --dwarf=decodedline lines.o > lines.dwarf || fail "objdump"
seq_lines=$(awk '$1 == "mnist_bn.seq" { print $2 }' lines.dwarf | sort -u | tr '\n' ' ')
[ "$seq_lines" = "4 5 6 " ] || fail "DWARF maps code to mnist_bn.seq lines '$seq_lines', not 4 5 6"
awk '$1 == "lines.c"' lines.dwarf | grep -q . || fail "DWARF maps nothing back to lines.c"
echo "debug: --line-directives: DWARF lines in mnist_bn.seq: $seq_lines"
