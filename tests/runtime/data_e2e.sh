#!/bin/sh
# data_e2e.sh: a generated trainer on a user's own data, as CSV and as NPZ
# (tests/runtime/data: three Gaussian blobs in 4 features, written by
# make_npz.py): training, validation from --test, x_val or
# --validation-split, evaluate, predict (with and without the target
# column, --output), and the data errors a user meets first.
#   usage: data_e2e.sh SEQC SOURCE_DIR WORK_DIR
set -u
SEQC=$1 SRC=$2 WORK=$3
D=$SRC/tests/runtime/data
failed=0
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1

cat > blobs.seq <<'SEQ'
model blobs {
  input 4
  dense 16; relu
  dense 3; softmax
}

train {
  optimizer adam lr=0.01
  loss sparse_categorical_crossentropy
  metrics accuracy
  epochs 15
  batch 16
  seed 3
}
SEQ
"$SEQC" build blobs.seq -o blobs || { echo "FAIL: seqc build"; exit 1; }

fail() { echo "FAIL: $*"; failed=1; }

# run NAME STATUS ARGS...: the trainer's output in NAME.out, NAME.err
run() {
    name=$1 want=$2
    shift 2
    ./blobs "$@" >"$name.out" 2>"$name.err"
    status=$?
    if [ $status -ne "$want" ]; then
        fail "blobs $*: exit $status, want $want"; cat "$name.err"
    fi
}
# err_is NAME TEXT: stderr is exactly "error: TEXT"
err_is() {
    printf 'error: %s\n' "$2" > want.err
    if cmp -s want.err "$1.err"; then echo "ok: $2"; else
        fail "$1: stderr differs"; diff want.err "$1.err"; fi
}
# val_acc_at_least HISTORY MIN: the last epoch's val_accuracy
val_acc_at_least() {
    acc=$(tail -n 1 "$1" | cut -d, -f5)
    if awk -v a="$acc" -v m="$2" 'BEGIN { exit !(a >= m) }'; then
        echo "ok: $1: val_accuracy $acc"
    else
        fail "$1: val_accuracy $acc below $2"; cat "$1"
    fi
}

# CSV with --test: validation is the test file
run csv 0 --data "$D/blobs_train.csv" --test "$D/blobs_test.csv" --quiet --history csv.hist --save csv.ck
val_acc_at_least csv.hist 0.95
# NPZ (x_test validates): the same accuracy
run npz 0 --data "$D/blobs.npz" --quiet --history npz.hist --save npz.ck
val_acc_at_least npz.hist 0.95
# x_val validates (deflated archive), and --validation-split on a CSV
run val 0 --data "$D/blobs_val.npz" --quiet --history val.hist
val_acc_at_least val.hist 0.95
run split 0 --data "$D/blobs_train.csv" --validation-split 0.2 --quiet --history split.hist
val_acc_at_least split.hist 0.95

# evaluate: the test file, named either way, gives the same numbers
run ev1 0 evaluate --data "$D/blobs_train.csv" --test "$D/blobs_test.csv" --load csv.ck
run ev2 0 evaluate --data "$D/blobs_test.csv" --load csv.ck
cmp -s ev1.out ev2.out && echo "ok: evaluate --test equals evaluate of the file" \
    || fail "evaluate differs: $(cat ev1.out) / $(cat ev2.out)"
run ev3 0 evaluate --data "$D/blobs.npz" --load npz.ck
grep -q '^val_loss: ' ev3.out || fail "evaluate .npz printed: $(cat ev3.out)"

# predict: every row, the accuracy when the target column is there
run pr 0 predict --data "$D/blobs_test.csv" --load csv.ck
[ "$(grep -c '^[012]$' pr.out)" -eq 90 ] || fail "predict: not 90 classes"
grep -q ' - accuracy: ' pr.out && echo "ok: $(tail -n 1 pr.out)" || fail "predict: no accuracy"
cut -d, -f1-4 "$D/blobs_test.csv" > inputs.csv
run pr_in 0 predict --data inputs.csv --load csv.ck
grep -q accuracy pr_in.out && fail "predict without targets printed an accuracy"
grep '^[012]$' pr.out > classes_with && cmp -s classes_with pr_in.out \
    && echo "ok: predict without the target column gives the same classes" \
    || fail "predict without the target column differs"
run pr_npz 0 predict --data "$D/blobs.npz" --load npz.ck
[ "$(grep -c '^[012]$' pr_npz.out)" -eq 90 ] || fail "predict .npz: not 90 classes"
# --output: class and probabilities per row, written atomically
run pr_out 0 predict --data inputs.csv --load csv.ck --output probs.csv
[ "$(head -n 1 probs.csv)" = "class,probability_0,probability_1,probability_2" ] \
    || fail "probs.csv header: $(head -n 1 probs.csv)"
[ "$(wc -l < probs.csv)" -eq 91 ] || fail "probs.csv: $(wc -l < probs.csv) lines"
tail -n +2 probs.csv | cut -d, -f1 | cmp -s - pr_in.out \
    && echo "ok: --output's classes are predict's" || fail "--output classes differ"
awk -F, 'NR > 1 { s = $2 + $3 + $4; if (s < 0.999 || s > 1.001) bad = 1 } END { exit bad }' \
    probs.csv && echo "ok: probabilities sum to 1" || fail "probabilities do not sum to 1"

# errors: one line naming the file and what is wrong; nothing trained
run e1 1 --data "$D/blobs_train.csv" --target species --quiet
err_is e1 "$D/blobs_train.csv: --target 'species': no such column; the header has 'f0', 'f1', 'f2', 'f3', 'label'"
run e2 1 --data "$D/blobs_train.csv" --target f0 --quiet
err_is e2 "$D/blobs_train.csv:2: sample 0 has label 0.0341928, but the model has 3 classes (labels 0..2)"
run e3 1 --data "$D/blobs.npz" --test "$D/blobs_test.csv" --quiet
err_is e3 "--test $D/blobs_test.csv: --test goes with a CSV training file; $D/blobs.npz is an .npz archive, which holds its own test set"
run e4 2 --data "$D/blobs.npz" --validation-split 1.5 --quiet
grep -q "validation-split expects a fraction between 0 and 1" e4.err && echo "ok: split 1.5 refused" \
    || fail "split 1.5: $(cat e4.err)"
run e5 1 --data "$D/dtypes.npz" --quiet
err_is e5 "$D/dtypes.npz: no x_train.npy in the archive (seqc reads the keys x_train, y_train and optionally x_test, y_test, x_val, y_val: np.savez(path, x_train=..., y_train=...))"
run e6 1 --data "$D/blobs_train.csv" --test inputs.csv --quiet
err_is e6 "inputs.csv: the columns (f0,f1,f2,f3) differ from those of $D/blobs_train.csv (f0,f1,f2,f3,label): the test set needs the training set's columns"
run e7 2 predict --data inputs.csv --images x --load csv.ck
run e8 1 --data "$D/stored.npz" --quiet
err_is e8 "$D/stored.npz:x_train.npy has shape (4, 2, 3): 6 values per sample, the model's input takes 4"
# the shipped data sets (data/*/: the CSV numbers are the shortest decimals
# of the .npz's float32 values): training from the CSV files and from the
# archive gives the same history, bit for bit (all but the seconds)
for m in breast_cancer diabetes digits8x8; do
    "$SEQC" build "$SRC/models/$m.seq" -o "$m" >/dev/null 2>&1 || { fail "seqc build $m"; continue; }
    ./$m --data "$SRC/data/$m/train.csv" --test "$SRC/data/$m/test.csv" --epochs 2 --seed 5 \
        --quiet --history "$m-csv.hist" >/dev/null 2>&1 || fail "$m from CSV"
    ./$m --data "$SRC/data/$m/$m.npz" --epochs 2 --seed 5 --quiet \
        --history "$m-npz.hist" >/dev/null 2>&1 || fail "$m from NPZ"
    sed 's/,[^,]*$//' "$m-csv.hist" > "$m-csv.cols"
    sed 's/,[^,]*$//' "$m-npz.hist" > "$m-npz.cols"
    if [ "$(wc -l < "$m-csv.cols")" -eq 3 ] && cmp -s "$m-csv.cols" "$m-npz.cols"; then
        echo "ok: $m: CSV and NPZ train the same"
    else
        fail "$m: CSV and NPZ histories differ"; diff "$m-csv.cols" "$m-npz.cols"
    fi
done

for e in e1 e2 e3 e4 e5 e6 e8; do
    grep -q 'Epoch' $e.out && fail "$e: training started"
done
exit $failed
