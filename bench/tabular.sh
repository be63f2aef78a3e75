#!/usr/bin/env bash
# bench/tabular.sh: seqc's generated trainers on the three shipped data sets
# (issue #11), next to PyTorch's reference (bench/peers/pytorch_tabular.py).
#
# For each of models/breast_cancer.seq, models/diabetes.seq and
# models/digits8x8.seq: builds the trainer with seqc, trains it with seeds
# 1..K (the seeds pytorch_tabular.py uses) from data/NAME/train.csv and
# test.csv, and once more from data/NAME/NAME.npz with seed 1, checking
# that the NPZ run's checkpoint equals the CSV run's byte for byte. Prints
# the test metrics (mean ± sample sd over the seeds) as a Markdown table,
# and the wall seconds of one training run (seed 1, from the CSV; the median
# of 3 runs) of each.
#
# Where the test numbers come from: breast_cancer validates on its
# validation_split, so the trainer prints a test_ line at the end;
# diabetes and digits8x8 have no validation_split, so they validate on the
# test set and the last row of --history holds the test numbers (val_loss
# is the MSE for diabetes).
#
# --with-pytorch runs bench/peers/pytorch_tabular.py in the same run (one
# thread, like the trainers here) and puts its column beside seqc's, with
# its wall time for one seed: the training loop alone (the script's own
# timer, seed 1 of the table's run) and the whole process (Python and torch
# start-up and the data load included; median of 3), like seqc's.
#
# usage: bench/tabular.sh [--seeds K] [--with-pytorch] [--data DIR]
#                         [--build DIR] [--seqc PATH (use this seqc, build nothing)]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=bench/tabular.sh
. "$ROOT/bench/common.sh"
SEEDS=5
WITH_PYTORCH=0
DATA=$ROOT/data
BUILD=$ROOT/build
PYTHON=/usr/bin/python3
SEQC=""
NAMES="breast_cancer diabetes digits8x8"

while [ $# -gt 0 ]; do
    case $1 in
        --seeds) SEEDS=${2:?}; shift 2 ;;
        --with-pytorch) WITH_PYTORCH=1; shift ;;
        --data) DATA=${2:?}; shift 2 ;;
        --build) BUILD=${2:?}; shift 2 ;;
        --seqc) SEQC=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench/tabular.sh: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
case $SEEDS in ''|*[!0-9]*) echo "bench/tabular.sh: --seeds takes a number" >&2; exit 2 ;; esac
[ "$SEEDS" -ge 2 ] || { echo "bench/tabular.sh: --seeds must be >= 2 (a sample sd needs two)" >&2; exit 2; }

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }

for n in $NAMES; do
    for f in train.csv test.csv "$n.npz"; do
        [ -f "$DATA/$n/$f" ] || die "$DATA/$n/$f: no such file (scripts/make-datasets.py writes it)"
    done
done
if [ "$WITH_PYTORCH" = 1 ]; then
    "$PYTHON" -c 'import torch, numpy' 2>/dev/null \
        || die "--with-pytorch: $PYTHON cannot import torch and numpy (Debian: python3-torch python3-numpy)"
fi

[ -n "$SEQC" ] || SEQC=$(build_seqc "$BUILD")
[ -x "$SEQC" ] || die "$SEQC: not an executable"

OUT=$BUILD/bench-tabular
rm -rf "$OUT"
mkdir -p "$OUT"

# metric names of a data set, in the table's order, and where they are read
metrics() {
    case $1 in
        breast_cancer) echo "accuracy auc" ;;
        diabetes) echo "mse mae rmse" ;;
        digits8x8) echo "accuracy" ;;
    esac
}
# fmt METRIC VALUE: the digits pytorch_tabular.py prints
fmt() {
    case $1 in
        mse) printf '%.1f' "$2" ;;
        mae|rmse) printf '%.2f' "$2" ;;
        *) printf '%.4f' "$2" ;;
    esac
}
# test_value NAME METRIC STDOUT HISTORY: one test number of a finished run
test_value() {
    local name=$1 m=$2 log=$3 hist=$4
    if [ "$name" = breast_cancer ]; then
        # test_loss: X - test_accuracy: X - test_auc: X
        awk -v k="test_$m:" '/^test_loss:/ { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$log"
    else
        local col=val_$m
        [ "$m" = mse ] && col=val_loss
        awk -F, -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next }
                             { v = $k } END { if (k) print v }' "$hist"
    fi
}

declare -A SEQC_CELL SEQC_SECONDS
echo "seqc: $SEQC; $SEEDS seeds (1..$SEEDS), 1 thread"
for name in $NAMES; do
    trainer=$OUT/$name
    "$SEQC" build "$ROOT/models/$name.seq" -o "$trainer" >/dev/null || die "seqc build models/$name.seq failed"
    for seed in $(seq 1 "$SEEDS"); do
        log=$OUT/$name.$seed.log
        "${CLEAN_ENV[@]}" "$trainer" --data "$DATA/$name/train.csv" --test "$DATA/$name/test.csv" \
            --seed "$seed" --threads 1 --quiet --history "$OUT/$name.$seed.csv" \
            --save "$OUT/$name.$seed.ckpt" >"$log" 2>"$OUT/$name.$seed.err" \
            || die "$name seed $seed failed: $(cat "$OUT/$name.$seed.err")"
        line="$name seed $seed:"
        for m in $(metrics "$name"); do
            v=$(test_value "$name" "$m" "$log" "$OUT/$name.$seed.csv")
            [ -n "$v" ] || die "$name seed $seed: no test $m in its output"
            echo "$v" >>"$OUT/$name.$m.values"
            line="$line test_$m=$(fmt "$m" "$v")"
        done
        echo "$line"
    done
    # the same seed from the archive: the same bytes in, the same weights out
    "${CLEAN_ENV[@]}" "$trainer" --data "$DATA/$name/$name.npz" --seed 1 --threads 1 --quiet \
        --save "$OUT/$name.npz.ckpt" >"$OUT/$name.npz.log" 2>&1 || die "$name from the NPZ failed: $(cat "$OUT/$name.npz.log")"
    if cmp -s "$OUT/$name.1.ckpt" "$OUT/$name.npz.ckpt"; then
        echo "$name: NPZ run (seed 1) = CSV run, checkpoints identical"
    else
        die "$name: the NPZ run's checkpoint differs from the CSV run's (seed 1)"
    fi
    # wall time of one training run (seed 1, from the CSV), median of 3
    SEQC_SECONDS[$name]=$(for _ in 1 2 3; do
        t0=$(now)
        "${CLEAN_ENV[@]}" "$trainer" --data "$DATA/$name/train.csv" --test "$DATA/$name/test.csv" \
            --seed 1 --threads 1 --quiet >/dev/null 2>&1 || exit 1
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
    done | sort -n | sed -n 2p)
    [ -n "${SEQC_SECONDS[$name]}" ] || die "$name: the timed run failed"
    for m in $(metrics "$name"); do
        SEQC_CELL[$name.$m]=$(awk -v m="$m" '{ x[NR] = $1; s += $1 }
            END { mean = s / NR; for (i = 1; i <= NR; i++) q += (x[i] - mean) ^ 2
                  printf "%.17g %.17g", mean, sqrt(q / (NR - 1)) }' "$OUT/$name.$m.values")
    done
done

declare -A PT_CELL PT_LOOP PT_WALL
if [ "$WITH_PYTORCH" = 1 ]; then
    echo "PyTorch: $PYTHON bench/peers/pytorch_tabular.py --data-dir $DATA --seeds $SEEDS --verbose"
    "${CLEAN_ENV[@]}" "$PYTHON" "$ROOT/bench/peers/pytorch_tabular.py" --data-dir "$DATA" \
        --seeds "$SEEDS" --threads 1 --verbose >"$OUT/pytorch.txt" || die "pytorch_tabular.py failed"
    grep ' seed ' "$OUT/pytorch.txt"
    grep -m1 "^PyTorch " "$OUT/pytorch.txt" || true
    # | name | recipe | metric | mean ± sd | validation |
    while IFS='|' read -r _ name _ metric test _; do
        name=$(trim "$name"); metric=$(trim "$metric"); test=$(trim "$test")
        PT_CELL[$name.$metric]=$test
    done < <(grep -E '^\| (breast_cancer|diabetes|digits8x8) ' "$OUT/pytorch.txt")
    for name in $NAMES; do
        PT_LOOP[$name]=$(awk -v n="$name seed 1:" 'index($0, n) == 1 { sub("s$", "", $4); print $4 }' "$OUT/pytorch.txt")
        PT_WALL[$name]=$(for _ in 1 2 3; do
            t0=$(now)
            "${CLEAN_ENV[@]}" "$PYTHON" "$ROOT/bench/peers/pytorch_tabular.py" --data-dir "$DATA" \
                --only "$name" --seeds 1 --threads 1 >/dev/null || exit 1
            t1=$(now)
            awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
        done | sort -n | sed -n 2p)
        [ -n "${PT_WALL[$name]}" ] || die "pytorch_tabular.py --only $name failed"
    done
fi

echo
echo "Test metrics, mean ± sample sd over seeds 1..$SEEDS:"
echo
if [ "$WITH_PYTORCH" = 1 ]; then
    echo "| data set | metric | seqc | PyTorch | seqc within PyTorch's mean ± sd |"
    echo "|---|---|---:|---:|---|"
else
    echo "| data set | metric | seqc |"
    echo "|---|---|---:|"
fi
for name in $NAMES; do
    for m in $(metrics "$name"); do
        read -r mean sd <<<"${SEQC_CELL[$name.$m]}"
        cell="$(fmt "$m" "$mean") ± $(fmt "$m" "$sd")"
        if [ "$WITH_PYTORCH" = 1 ]; then
            pt=${PT_CELL[$name.$m]:-}
            [ -n "$pt" ] || die "no PyTorch number for $name $m"
            # within: seqc's mean inside [PyTorch mean - sd, mean + sd]
            within=$(awk -v s="$mean" -v p="$pt" 'BEGIN { split(p, a, " ± "); lo = a[1] - a[2]; hi = a[1] + a[2]
                     print (s >= lo && s <= hi) ? "yes" : "no" }')
            echo "| $name | $m | $cell | $pt | $within |"
        else
            echo "| $name | $m | $cell |"
        fi
    done
done
echo
echo "Wall seconds of one training run (seed 1, 1 thread), median of 3:"
echo
if [ "$WITH_PYTORCH" = 1 ]; then
    echo "| data set | seqc trainer (whole process) | PyTorch training loop | PyTorch whole process |"
    echo "|---|---:|---:|---:|"
    for name in $NAMES; do
        echo "| $name | ${SEQC_SECONDS[$name]} | ${PT_LOOP[$name]} | ${PT_WALL[$name]} |"
    done
else
    echo "| data set | seqc trainer (whole process) |"
    echo "|---|---:|"
    for name in $NAMES; do
        echo "| $name | ${SEQC_SECONDS[$name]} |"
    done
fi
