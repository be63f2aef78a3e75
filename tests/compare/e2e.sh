#!/bin/sh
# e2e.sh: `seqc compare` on a slice of the embedded digits, to the trainer
# interface of issue #12 (--validation-split, the test line):
#   1. two arms x two seeds, two at a time: every output is there with the
#      right shape, summary.json's paired difference is a minus b of the
#      histories' numbers, curves.svg has a band per curve;
#   2. the same with --jobs 1: byte-identical histories but for the seconds;
#   3. two files with different batch sizes: the report marks it and does
#      not claim the same batch order;
#   4. --lr crossing: four arms, named by learning rate.
#   usage: e2e.sh SEQC SOURCE_DIR WORK_DIR XMLLINT
# The output folder WORK_DIR/out is kept:
# same_init.sh reads the generated trainers in it.
set -u
SEQC=$1 SRC=$2 WORK=$3 XMLLINT=$4
OUT=$WORK/out
MODEL=$SRC/models/mnist_bn.seq
DATA=$SRC/data/mnist-digits
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$WORK" && mkdir -p "$WORK" || fail "cannot make $WORK"
# 1. two arms x two seeds, two runs at a time
"$SEQC" compare "$MODEL" --without batchnorm --data "$DATA" --epochs 2 --limit 2000 \
    --seeds 2 --jobs 2 --target val_accuracy=0.5 -o "$OUT" >"$WORK/log" 2>&1
status=$?
cat "$WORK/log"
[ $status -eq 0 ] || fail "seqc compare exited with $status"

header="epoch,loss,accuracy,val_loss,val_accuracy,seconds"
for arm in mnist_bn mnist_bn-no-batchnorm; do
    for seed in 42 43; do
        csv=$OUT/runs/$arm-seed$seed.csv
        [ -f "$csv" ] || fail "$csv was not written"
        [ -f "$OUT/runs/$arm-seed$seed.log" ] || fail "no log for $arm seed $seed"
        [ "$(head -n 1 "$csv")" = "$header" ] || fail "$csv: header is '$(head -n 1 "$csv")'"
        tail -n +2 "$csv" | awk -F, 'NF != 6 || $1 != NR { bad = 1 } END { exit bad || NR != 2 }' \
            || fail "$csv: rows are not epochs 1, 2 with 6 fields"
        grep -q '^test_loss: [-0-9.e]* - test_accuracy: ' "$OUT/runs/$arm-seed$seed.log" \
            || fail "$arm seed $seed: no test line in its log"
    done
done
# progress, not epoch lines
grep -q '^runs 4/4 done' "$WORK/log" || fail "no 'runs 4/4 done' progress line"
grep -q 'Epoch 1/2' "$WORK/log" && fail "epoch lines reached compare's output"
grep -q 'validates on the last 10 % of the training data' "$WORK/log" \
    || fail "the default validation split is not announced"

for f in report.md summary.json curves.svg; do
    [ -f "$OUT/$f" ] || fail "$f was not written"
done
# summary.json: the schema's keys, and mean_diff = a - b from the CSVs
python3 - "$OUT" <<'PY' || fail "summary.json does not hold what the histories say"
import json, sys, statistics
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
names = [v["name"] for v in s["variants"]]
assert names == ["mnist_bn", "mnist_bn without batchnorm"], names
assert "without" in names[1]
def last(arm, seed, col):
    rows = open(f"{out}/runs/{arm}-seed{seed}.csv").read().split("\n")
    head = rows[0].split(",")
    return float(rows[2].split(",")[head.index(col)])
for v, arm in zip(s["variants"], ["mnist_bn", "mnist_bn-no-batchnorm"]):
    assert v["seeds"] == [42, 43]
    assert v["settings"]["validation_split"] == 0.1
    f = v["final"]["val_accuracy"]
    assert f["n"] == 2 and len(f["ci95"]) == 2
    want = statistics.mean(last(arm, s, "val_accuracy") for s in (42, 43))
    assert abs(f["mean"] - want) < 1e-9, (f["mean"], want)
    assert v["final"]["test_accuracy"]["n"] == 2
    assert "epochs_to_target" in v
p = [q for q in s["paired"] if q["metric"] == "val_accuracy"][0]
d = [last("mnist_bn", k, "val_accuracy") - last("mnist_bn-no-batchnorm", k, "val_accuracy")
     for k in (42, 43)]
assert abs(p["mean_diff"] - statistics.mean(d)) < 1e-9, (p, d)
assert p["a"] == "mnist_bn" and p["wins_a"] + p["wins_b"] <= 2
assert any(q["metric"] == "test_accuracy" for q in s["paired"])
PY
md=$OUT/report.md
grep -q '^# mnist_bn with and without batchnorm$' "$md" || fail "report.md: no title"
grep -q '^| layers dropped | - | batchnorm | \*\*differs\*\* |$' "$md" \
    || fail "report.md: the dropped layers are not marked as differing"
grep -q '^Same start: ' "$md" || fail "report.md: no same-start statement"
grep -qF -- "--jobs 2" "$md" || fail "report.md: no command line"
grep -q '^seqc [0-9]' "$md" || fail "report.md: no seqc version"
grep -q 'Total params: 110,154' "$md" || fail "report.md: no summary of mnist_bn"
grep -q 'Total params: 109,386' "$md" || fail "report.md: no summary of the variant"
svg=$OUT/curves.svg
"$XMLLINT" --noout "$svg" || fail "curves.svg is not well-formed XML"
n=$("$XMLLINT" --xpath 'count(//*[local-name()="path" and contains(concat(" ", @class, " "), " curve ")])' "$svg")
[ "$n" = 9 ] || fail "curves.svg: $n curves, want 9 (2 arms x 2 panels x 2 splits + 1 difference)"
n=$("$XMLLINT" --xpath 'count(//*[local-name()="path" and contains(concat(" ", @class, " "), " band ")])' "$svg")
[ "$n" = 9 ] || fail "curves.svg: $n bands, want 9"

# 2. serial: the same histories byte for byte, but for the seconds column
"$SEQC" compare "$MODEL" --without batchnorm --data "$DATA" --epochs 2 --limit 2000 \
    --seeds 2 --jobs 1 --target val_accuracy=0.5 -o "$WORK/serial" >"$WORK/log1" 2>&1 \
    || { cat "$WORK/log1"; fail "the --jobs 1 compare failed"; }
for f in "$OUT"/runs/*.csv; do
    b=$WORK/serial/runs/$(basename "$f")
    [ "$(cut -d, -f1-5 "$f")" = "$(cut -d, -f1-5 "$b")" ] \
        || fail "$(basename "$f"): --jobs 1 and --jobs 2 gave different histories"
done

# 3. two files, batch 32 and 64, run from WORK with no -o: the default
# folder is named after both models; the report marks the batch and does
# not claim the same batch order
sed -e 's/model mnist_bn/model other/' -e 's/batch 32/batch 64/' "$MODEL" >"$WORK/other.seq"
grep -q 'batch 64' "$WORK/other.seq" || fail "other.seq: the batch was not changed"
(cd "$WORK" && "$SEQC" compare "$MODEL" other.seq --data "$DATA" --epochs 1 --limit 500 \
    --seeds 1) >"$WORK/log2" 2>&1
status=$?
[ $status -eq 0 ] || { cat "$WORK/log2"; fail "two-file compare exited with $status"; }
two=$WORK/compare-mnist_bn-other
for f in runs/mnist_bn-seed42.csv runs/other-seed42.csv report.md curves.svg summary.json; do
    [ -f "$two/$f" ] || fail "two-file compare: no $two/$f"
done
grep -q '^# mnist_bn vs other$' "$two/report.md" || fail "two-file report.md: wrong title"
grep -q '^| batch | 32 | 64 | \*\*differs\*\* |$' "$two/report.md" \
    || fail "two-file report.md: the batch sizes are not marked"
grep -q '^Same start' "$two/report.md" && fail "two-file report.md claims the same start"
grep -q 'Same mini-batch order: no, the batch sizes differ' "$two/report.md" \
    || fail "two-file report.md: does not say the batch order differs"
grep -q 'one seed only, no interval' "$two/report.md" \
    || fail "two-file report.md: one seed but no 'no interval'"

# 4. learning rates crossed with the variants: four arms
"$SEQC" compare "$MODEL" --without batchnorm --lr 0.001,0.01 --data "$DATA" --epochs 1 \
    --limit 300 --seeds 1 -o "$WORK/lr" >"$WORK/log3" 2>&1 \
    || { cat "$WORK/log3"; fail "the --lr compare failed"; }
python3 - "$WORK/lr/summary.json" <<'PY' || fail "--lr: wrong arms"
import json, sys
s = json.load(open(sys.argv[1]))
names = [v["name"] for v in s["variants"]]
assert names == ["mnist_bn lr=0.001", "mnist_bn without batchnorm lr=0.001",
                 "mnist_bn lr=0.01", "mnist_bn without batchnorm lr=0.01"], names
assert [v["settings"]["lr"] for v in s["variants"]] == [0.001, 0.001, 0.01, 0.01]
PY
[ -f "$WORK/lr/runs/mnist_bn-no-batchnorm-lr0.01-seed42.csv" ] || fail "--lr: no CSV for an arm"
echo "ok"
