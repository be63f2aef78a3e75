#!/bin/sh
# recipe_e2e.sh SEQC SOURCE_DIR WORK_DIR: the training recipe (schedule,
# weight decay, clipping, early stopping, save_best) through seqc and the
# trainers it generates, on data/digits8x8 (validation: --test test.csv).
#   1. plateau schedule + SGD weight decay + early stopping (restore_best):
#      10 epochs straight against 5 epochs then --resume to 10: the same
#      checkpoint byte for byte and the same history (every column but
#      seconds), lr column included;
#   2. the same with a step schedule, AdamW and clipnorm, and with
#      RMSprop, momentum and an exponential schedule (a cosine depends on
#      the run's total epochs, so it is not split this way);
#   3. early stopping stops with a line naming the epoch, the history ends
#      there, and evaluate --load gives the best epoch's val_loss (the
#      checkpoint's weights are the best epoch's); the stopped checkpoint
#      is not resumed; save_best alone does the same for evaluate;
#   4. a validation monitor without a validation set is refused before
#      training;
#   5. the generated update decays the kernels only, or every block with
#      decay_norm_and_bias=true, and clipnorm clips each block.
set -u
SEQC=$1 SRC=$2 WORK=$3
fail() { echo "recipe_e2e.sh: FAIL: $*" >&2; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
TRAIN=$SRC/data/digits8x8/train.csv TEST=$SRC/data/digits8x8/test.csv
D="--data $TRAIN --test $TEST --threads 1 --quiet"

model() { # model NAME TRAIN-LINES...
    name=$1; shift
    { printf 'model %s {\n  input 8x8\n  rescale 0.0625\n  dense 32\n  batchnorm\n  relu\n' "$name"
      printf '  dense 10; softmax\n}\ntrain {\n  loss sparse_categorical_crossentropy\n'
      printf '  metrics accuracy\n  batch 64\n'
      for l in "$@"; do printf '  %s\n' "$l"; done
      printf '}\n'; } > "$name.seq"
    "$SEQC" build "$name.seq" -o "$name" || fail "seqc build $name.seq"
}

# history without the seconds column
cols() { awk -F, 'BEGIN { OFS = "," } { NF = NF - 1; print }' "$1"; }

resume_same() { # resume_same NAME EPOCHS HALF
    ./"$1" $D --epochs "$2" --history "$1.a.csv" --save "$1.a.ck" || fail "$1 straight"
    ./"$1" $D --epochs "$3" --history "$1.b.csv" --save "$1.b.ck" || fail "$1 first half"
    ./"$1" $D --epochs "$2" --resume "$1.b.ck" --history "$1.b.csv" --save "$1.b.ck" ||
        fail "$1 resumed"
    cmp "$1.a.ck" "$1.b.ck" || fail "$1: the resumed checkpoint differs"
    cols "$1.a.csv" > "$1.a.cols"
    cols "$1.b.csv" > "$1.b.cols"
    cmp "$1.a.cols" "$1.b.cols" || { diff "$1.a.cols" "$1.b.cols"; fail "$1: histories differ"; }
    head -n 1 "$1.a.csv" | grep -qx 'epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds' ||
        fail "$1: history header $(head -n 1 "$1.a.csv")"
    echo "$1: $2 epochs = $3 + resume, checkpoint and history identical"
}

# 1.
model plateau "optimizer sgd lr=0.1 momentum=0.9 weight_decay=0.001" \
    "schedule plateau monitor=val_loss patience=1 factor=0.5 warmup=2" \
    "early_stopping monitor=val_accuracy patience=4 restore_best=true" "epochs 10"
resume_same plateau 10 5
# the plateau did lower the rate, and the warmup ramped it
lrs=$(cut -d, -f6 plateau.a.csv | tail -n +2 | sort -u | wc -l)
[ "$lrs" -ge 3 ] || fail "plateau: the lr column has $lrs distinct rates: $(cut -d, -f6 plateau.a.csv)"
[ "$(sed -n 2p plateau.a.csv | cut -d, -f6)" = 0.0500000007 ] ||
    fail "plateau: epoch 1 of warmup=2 should train at lr/2: $(sed -n 2p plateau.a.csv)"

# 2.
model stepw "optimizer adam lr=0.01 weight_decay=0.01 clipnorm=1" \
    "schedule step every=3 factor=0.5" "early_stopping patience=3" "epochs 8"
resume_same stepw 8 3
model rms "optimizer rmsprop lr=0.003 momentum=0.5 global_clipnorm=5" "schedule exponential factor=0.8 warmup=1" \
    "save_best true" "epochs 6"
resume_same rms 6 4

# 3. a high rate and patience 1: stops early
model stop "optimizer sgd lr=0.8 momentum=0.9" "schedule constant" \
    "early_stopping monitor=val_loss patience=1 restore_best=true" "epochs 30"
./stop $D --history stop.csv --save stop.ck > stop.out || fail "stop: training"
grep -q '^Epoch [0-9]*: early stopping: val_loss did not improve on .* (epoch [0-9]*) for 1 epochs$' stop.out ||
    fail "stop: no early-stopping line in: $(cat stop.out)"
rows=$(($(wc -l < stop.csv) - 1))
[ "$rows" -lt 30 ] || fail "stop: trained all 30 epochs"
best=$(tail -n +2 stop.csv | sort -t, -k4,4g | head -n 1)
best_epoch=$(echo "$best" | cut -d, -f1) best_val=$(echo "$best" | cut -d, -f4)
grep -q "^Epoch $rows: early stopping: val_loss did not improve on $best_val (epoch $best_epoch)" stop.out ||
    fail "stop: the line does not name epoch $rows and the best epoch $best_epoch ($best_val): $(cat stop.out)"
./stop evaluate --data "$TRAIN" --test "$TEST" --load stop.ck > stop.eval || fail "stop: evaluate"
grep -q "^val_loss: $best_val " stop.eval ||
    fail "stop: evaluate gives $(cat stop.eval), the best epoch $best_epoch had val_loss $best_val"
echo "stop: stopped after epoch $rows, best epoch $best_epoch restored (val_loss $best_val)"
./stop $D --epochs 40 --resume stop.ck 2> resume.err && fail "resuming a stopped run succeeded"
grep -q "early stopping ended this run at epoch $rows" resume.err || fail "stop resume: $(cat resume.err)"

model best "optimizer sgd lr=0.8 momentum=0.9" "save_best true" "epochs 6"
./best $D --history best.csv --save best.ck || fail "best: training"
bestrow=$(tail -n +2 best.csv | sort -t, -k4,4g | head -n 1)
./best evaluate --data "$TRAIN" --test "$TEST" --load best.ck > best.eval || fail "best: evaluate"
grep -q "^val_loss: $(echo "$bestrow" | cut -d, -f4) " best.eval ||
    fail "save_best: evaluate gives $(cat best.eval), the best row is $bestrow"
echo "save_best: evaluate --load gives epoch $(echo "$bestrow" | cut -d, -f1)'s val_loss"

# 5. which blocks weight decay shrinks: the kernels only (dense, dense_1),
#    every trainable block with decay_norm_and_bias=true; clipnorm clips
#    each of the six trainable blocks on its own
decays() { grep -c 'seqrt_weight_decay(' "$1"; }
"$SEQC" emit stepw.seq -o stepw.c || fail "emit stepw"
[ "$(decays stepw.c)" = 2 ] && ! grep 'seqrt_weight_decay(' stepw.c | grep -q 'BIAS\|GAMMA\|BETA' ||
    fail "stepw: decay should be on the two kernels only: $(grep 'seqrt_weight_decay(' stepw.c)"
[ "$(grep -c 'seqrt_clip_norm(' stepw.c)" = 6 ] || fail "stepw: clipnorm should clip 6 blocks"
sed 's/weight_decay=0.01/weight_decay=0.01 decay_norm_and_bias=true/' stepw.seq > all.seq
"$SEQC" emit all.seq -o all.c || fail "emit all"
[ "$(decays all.c)" = 6 ] || fail "decay_norm_and_bias: $(grep 'seqrt_weight_decay(' all.c)"
echo "weight decay: kernels only by default, all 6 blocks with decay_norm_and_bias"

# 4.
./stop --data "$TRAIN" --quiet 2> noval.err && fail "early stopping without validation ran"
grep -q "^error: early_stopping watches val_loss, but this run has no validation set" noval.err ||
    fail "no validation: $(cat noval.err)"
echo "recipe_e2e: all passed"
