#!/bin/sh
# e2e.sh: a short `seqc compare` on the embedded digits: both trainers run,
# and every output is there with the right shape.
#   usage: e2e.sh SEQC SOURCE_DIR WORK_DIR XMLLINT
# The output folder WORK_DIR/out is kept: same_init.sh reads the generated
# trainers in it.
set -u
SEQC=$1 SRC=$2 WORK=$3 XMLLINT=$4
OUT=$WORK/out
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
"$SEQC" compare "$SRC/models/mnist_bn.seq" --without batchnorm \
    --data "$SRC/data/mnist-digits" --epochs 2 --limit 2000 --threads 1 \
    -o "$OUT" >"$WORK/log" 2>&1
status=$?
cat "$WORK/log"
[ $status -eq 0 ] || fail "seqc compare exited with $status"

header="epoch,loss,accuracy,val_loss,val_accuracy,seconds"
for csv in mnist_bn.csv mnist_bn-no-batchnorm.csv; do
    [ -f "$OUT/$csv" ] || fail "$csv was not written"
    [ "$(head -n 1 "$OUT/$csv")" = "$header" ] || fail "$csv: header is '$(head -n 1 "$OUT/$csv")'"
    rows=$(tail -n +2 "$OUT/$csv" | grep -c .)
    [ "$rows" -eq 2 ] || fail "$csv: $rows rows, want 2 (one per epoch)"
    # rows are epochs 1 and 2, six numeric fields each
    tail -n +2 "$OUT/$csv" | awk -F, 'NF != 6 || $1 != NR { bad = 1 } END { exit bad }' \
        || fail "$csv: rows are not epochs 1, 2 with 6 fields"
done

# progress, labelled by variant
grep -q '^\[mnist_bn\] Epoch 2/2$' "$WORK/log" || fail "no '[mnist_bn] Epoch 2/2' line"
grep -q '^\[mnist_bn without batchnorm\] Epoch 2/2$' "$WORK/log" \
    || fail "no '[mnist_bn without batchnorm] Epoch 2/2' line"

# report.md: one table row per epoch, the verdict, both summaries
md=$OUT/report.md
[ -f "$md" ] || fail "report.md was not written"
rows=$(grep -c '^| [0-9][0-9]* |' "$md")
[ "$rows" -eq 2 ] || fail "report.md: $rows table rows, want 2"
grep -q '^# mnist_bn with and without batchnorm$' "$md" || fail "report.md: no title"
grep -q '^- \*\*val_accuracy\*\* (higher is better): mnist_bn final 0\.[0-9]*' "$md" \
    || fail "report.md: no val_accuracy verdict"
grep -q 'Total params: 110,154' "$md" || fail "report.md: no summary of mnist_bn"
grep -q 'Total params: 109,386' "$md" || fail "report.md: no summary of the variant"
# the table's numbers are the CSV's: epoch 2's val_accuracy of A
va=$(awk -F, 'NR == 3 { printf "%.4f", $5 }' "$OUT/mnist_bn.csv")
grep -q "^| 2 |.*| \**$va\** |.*|.*|.*|$" "$md" || fail "report.md: epoch 2 row lacks val_accuracy $va"

# curves.svg: well-formed, 8 curves (2 variants x 2 metrics x 2 splits)
svg=$OUT/curves.svg
[ -f "$svg" ] || fail "curves.svg was not written"
"$XMLLINT" --noout "$svg" || fail "curves.svg is not well-formed XML"
n=$("$XMLLINT" --xpath 'count(//*[local-name()="path" and contains(concat(" ", @class, " "), " curve ")])' "$svg")
[ "$n" = 8 ] || fail "curves.svg: $n curves, want 8"
for v in mnist_bn mnist_bn-no-batchnorm; do
    for m in loss accuracy; do
        for s in train val; do
            c=$("$XMLLINT" --xpath "count(//*[@id='$v-$m-$s'])" "$svg")
            [ "$c" = 1 ] || fail "curves.svg: no curve $v-$m-$s"
        done
    done
done

# two files, run from WORK with no -o: the default folder is named after
# both models, each variant after its model
sed 's/model mnist_bn/model other/' "$SRC/models/mnist_bn.seq" >"$WORK/other.seq"
(cd "$WORK" && "$SEQC" compare "$SRC/models/mnist_bn.seq" other.seq \
    --data "$SRC/data/mnist-digits" --epochs 1 --limit 500 --threads 1) >"$WORK/log2" 2>&1
status=$?
[ $status -eq 0 ] || { cat "$WORK/log2"; fail "two-file compare exited with $status"; }
two=$WORK/compare-mnist_bn-other
for f in mnist_bn.csv other.csv report.md curves.svg; do
    [ -f "$two/$f" ] || fail "two-file compare: no $two/$f"
done
grep -q '^\[other\] Epoch 1/1$' "$WORK/log2" || fail "no '[other] Epoch 1/1' line"
grep -q '^# mnist_bn vs other$' "$two/report.md" || fail "two-file report.md: wrong title"
# same model, same seed, same data: the two histories agree but for time
a=$(cut -d, -f1-5 "$two/mnist_bn.csv") b=$(cut -d, -f1-5 "$two/other.csv")
[ "$a" = "$b" ] || fail "the same model trained twice gave different histories"
echo "ok"
