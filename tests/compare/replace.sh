#!/bin/sh
# replace.sh: `seqc compare FILE --replace OLD=NEW` on a slice of the
# embedded digits. For each pair below:
#   1. the arm is named "MODEL with NEW instead of OLD", its files
#      MODEL-NEW-for-OLD, report.md has a "layers replaced" row and
#      summary.json a "replaced" setting;
#   2. its generated trainer is, but for the header comment, the one seqc
#      emits for the model file with the layers edited by hand (sed): the
#      replacement is the model a user would have written.
# The first pair is issue #14's goal: batchnorm against layernorm.
#   usage: replace.sh SEQC SOURCE_DIR WORK_DIR
set -u
SEQC=$1 SRC=$2 WORK=$3
MODEL=$SRC/models/mnist_bn.seq
DATA=$SRC/data/mnist-digits
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"

# OLD=NEW and the sed script that makes the same edit in the file
PAIRS='batchnorm=layernorm|s/batchnorm;/layernorm;/g
relu=tanh|s/relu/tanh/g
batchnorm=relu|s/batchnorm;/relu;/g'

echo "$PAIRS" | while IFS='|' read -r pair edit; do
    old=${pair%=*} new=${pair#*=}
    out=$WORK/$old-$new
    "$SEQC" compare "$MODEL" --replace "$pair" --data "$DATA" --epochs 1 --limit 1000 \
        --seeds 2 --jobs 2 -o "$out" >"$WORK/$old-$new.log" 2>&1 ||
        { cat "$WORK/$old-$new.log"; fail "seqc compare --replace $pair"; }
    arm="mnist_bn with $new instead of $old" slug="mnist_bn-$new-for-$old"
    grep -qF "{\"name\": \"$arm\"" "$out/summary.json" || fail "$pair: no arm '$arm' in summary.json"
    grep -qF "\"replaced\": \"$new instead of $old\"" "$out/summary.json" ||
        fail "$pair: no replaced setting in summary.json"
    grep -qF "| layers replaced | - | $new instead of $old | **differs** |" "$out/report.md" ||
        fail "$pair: no 'layers replaced' row in report.md"
    for seed in 42 43; do
        [ -s "$out/runs/$slug-seed$seed.csv" ] || fail "$pair: no history $slug-seed$seed.csv"
    done
    mkdir -p "$WORK/edited" && sed "$edit" "$MODEL" > "$WORK/edited/mnist_bn.seq"
    "$SEQC" emit "$WORK/edited/mnist_bn.seq" -o "$WORK/edited.c" || fail "$pair: seqc emit of the edit"
    # the code after the header comment (which names the file and the edit)
    sed '1,/^ \*\/$/d' "$out/trainers/$slug.c" > "$WORK/arm.body"
    sed '1,/^ \*\/$/d' "$WORK/edited.c" | sed "s|$WORK/edited/mnist_bn.seq|$MODEL|g" > "$WORK/edited.body"
    cmp -s "$WORK/arm.body" "$WORK/edited.body" ||
        { diff "$WORK/arm.body" "$WORK/edited.body" | head -20; fail "$pair: the arm's trainer is not the hand-edited model's"; }
    grep -q "^ \* with $new instead of $old\.$" "$out/trainers/$slug.c" ||
        fail "$pair: the trainer's header does not name the replacement"
    echo "ok: --replace $pair: arm '$arm', trainer as for the hand-edited file"
done || exit 1
