#!/usr/bin/env bash
# bench/recipe.sh: the training recipe of issue #14 against PyTorch's.
# models/fashion_bn.seq (dense 128, batchnorm, dense 64, batchnorm) trained
# on Fashion-MNIST with AdamW (weight_decay=WD, not on biases, gamma or
# beta), a per-epoch cosine schedule (min_lr 0, no warmup) and batch 64,
# in seqc and in PyTorch (bench/peers/pytorch_recipe.py, the same recipe),
# over several seeds; prints the final test accuracy (the t10k set after
# the last epoch) of each run and mean ± sample sd per framework. One
# thread each. The recipe's numbers, not speed: the machine may be shared.
#
# usage: bench/recipe.sh [--data DIR] [--epochs N] [--seeds K] [--lr X] [--wd W]
#                        [--build DIR] [--out DIR]
#   --data DIR    Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
#   --epochs N    epochs per run (default 10)
#   --seeds K     seeds 1..K (default 5)
#   --lr X        base learning rate (default 0.002)
#   --wd W        weight decay (default 0.01)
#   --build DIR   seqc build directory (default build-bench)
#   --out DIR     histories and logs (default /tmp/seqc-bench-recipe)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=recipe.sh
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

DATA=/usr/share/datasets/fashion-mnist EPOCHS=10 SEEDS=5 LR=0.002 WD=0.01
BUILD=$ROOT/build-bench OUT=/tmp/seqc-bench-recipe
while [ $# -gt 0 ]; do
    case $1 in
    --data) DATA=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --lr) LR=$2; shift 2 ;;
    --wd) WD=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --help|-h) usage 0 ;;
    *) usage 2 ;;
    esac
done
data_complete "$DATA" || die "$DATA: no Fashion-MNIST IDX files (train-*, t10k-*)"
mkdir -p "$OUT"
SEQC=$(build_seqc "$BUILD")

# the model file with this recipe in place of its train block
sed -e '/^train {/,$d' "$ROOT/models/fashion_bn.seq" > "$OUT/fashion_recipe.seq"
cat >> "$OUT/fashion_recipe.seq" <<SEQ
train {
  optimizer adam lr=$LR weight_decay=$WD
  loss sparse_categorical_crossentropy
  metrics accuracy
  schedule cosine
  epochs $EPOCHS
  batch 64
}
SEQ
"$SEQC" build "$OUT/fashion_recipe.seq" -o "$OUT/fashion_recipe" || die "seqc build"

say "Fashion-MNIST, fashion_bn, AdamW lr=$LR weight_decay=$WD, cosine, batch 64, $EPOCHS epochs, seeds 1..$SEEDS"
: > "$OUT/seqc.acc"
: > "$OUT/torch.acc"
for seed in $(seq 1 "$SEEDS"); do
    "${CLEAN_ENV[@]}" "$OUT/fashion_recipe" --data "$DATA" --seed "$seed" --threads 1 --quiet \
        --history "$OUT/seqc.$seed.csv" > "$OUT/seqc.$seed.log" 2>&1 ||
        { tail "$OUT/seqc.$seed.log" >&2; die "seqc seed $seed"; }
    a=$(column "$OUT/seqc.$seed.csv" val_accuracy 0 | tail -1)
    echo "$a" >> "$OUT/seqc.acc"
    "${CLEAN_ENV[@]}" /usr/bin/python3 "$ROOT/bench/peers/pytorch_recipe.py" --data "$DATA" \
        --seed "$seed" --threads 1 --epochs "$EPOCHS" --lr "$LR" --weight-decay "$WD" \
        --history "$OUT/torch.$seed.csv" > "$OUT/torch.$seed.log" 2>&1 ||
        { tail "$OUT/torch.$seed.log" >&2; die "pytorch seed $seed"; }
    b=$(sed -n 's/^FINAL .*test_accuracy=\([0-9.]*\).*/\1/p' "$OUT/torch.$seed.log")
    echo "$b" >> "$OUT/torch.acc"
    say "seed $seed: seqc $a  pytorch $b"
done
read -r sm ss sn < <(mean_std < "$OUT/seqc.acc")
read -r tm ts tn < <(mean_std < "$OUT/torch.acc")
say ""
say "| framework | final test accuracy, mean ± sd ($sn seeds) |"
say "|---|---|"
say "| seqc | $sm ± $ss |"
say "| PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null) | $tm ± $ts |"
