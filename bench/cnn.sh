#!/usr/bin/env bash
# bench/cnn.sh: the training benchmark of issue #13, the CNN.
#
# Builds models/mnist_cnn_bn.seq with seqc, trains it at batch 32 on the
# 8,000 digits of data/mnist-digits and on the full Fashion-MNIST
# (Debian's dataset-fashion-mnist), with 1 and with 2 threads, then the same
# network and recipe in PyTorch (bench/peers/pytorch_mnist.py --model cnn) with 1 and 2
# threads, and prints seconds per epoch, GFLOP/s (conv + dense FLOPs counted
# as a direct convolution's, also for seqc's Winograd layers: an effective rate;
# from the model's shapes), peak RSS and the final validation accuracy, and
# the issue's target. Every timed program runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (bench/common.sh).
#
# usage: bench/cnn.sh [--epochs N (digits, default 2)] [--fashion-epochs N (default 1; 0 skips it)]
#                     [--seed S] [--build DIR] [--model FILE]
#                     [--seqc PATH (use this seqc, build nothing)]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=bench/cnn.sh
. "$ROOT/bench/common.sh"
EPOCHS=2
FASHION_EPOCHS=1
SEED=1
BUILD=$ROOT/build
MODEL=$ROOT/models/mnist_cnn_bn.seq
DIGITS=$ROOT/data/mnist-digits
FASHION=/usr/share/datasets/fashion-mnist
THREADS_LIST="1 2"
PYTHON=/usr/bin/python3
SEQC=""

while [ $# -gt 0 ]; do
    case $1 in
        --epochs) EPOCHS=${2:?}; shift 2 ;;
        --fashion-epochs) FASHION_EPOCHS=${2:?}; shift 2 ;;
        --seed) SEED=${2:?}; shift 2 ;;
        --build) BUILD=${2:?}; shift 2 ;;
        --model) MODEL=${2:?}; shift 2 ;;
        --seqc) SEQC=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "$BENCH: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
case $EPOCHS$FASHION_EPOCHS$SEED in *[!0-9]*) echo "$BENCH: --epochs, --fashion-epochs and --seed take numbers" >&2; exit 2 ;; esac
[ "$EPOCHS" -ge 1 ] || { echo "$BENCH: --epochs must be >= 1" >&2; exit 2; }

OUT=$BUILD/bench-cnn-out

# ------------------------------------------------------------ dependencies
. "$ROOT/scripts/deps.sh"
extra="time"
[ "$FASHION_EPOCHS" = 0 ] || data_complete "$FASHION" || extra="$extra dataset-fashion-mnist"
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || extra="$extra python3-torch python3-numpy"
# shellcheck disable=SC2086 # extra is a list of packages
seqc_install_deps $extra || die "could not install:$extra"
data_complete "$DIGITS" || die "$DIGITS: missing the IDX files (train-images-idx3-ubyte[.gz], ...)"
SETS="digits"
declare -A DIR EP N
DIR[digits]=$DIGITS EP[digits]=$EPOCHS
if [ "$FASHION_EPOCHS" != 0 ]; then
    if ! data_complete "$FASHION"; then
        FASHION=$(fashion_links)
        trap 'rm -rf "$FASHION"' EXIT
    fi
    data_complete "$FASHION" || die "$FASHION: Fashion-MNIST files still missing"
    SETS="digits fashion"
    DIR[fashion]=$FASHION EP[fashion]=$FASHION_EPOCHS
fi
for s in $SETS; do
    N[$s]=$(train_count "${DIR[$s]}")
    case ${N[$s]} in ''|*[!0-9]*|0) die "${DIR[$s]}/train-labels-idx1-ubyte: cannot read the sample count" ;; esac
done

# ------------------------------------------------------------ build
[ -n "$SEQC" ] || SEQC=$(build_seqc "$BUILD")
[ -x "$SEQC" ] || die "$SEQC: not an executable"
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.log "$OUT"/*.rss "$OUT"/times.txt
"$SEQC" build "$MODEL" -o "$OUT/trainer" >"$OUT/build.log" 2>&1 \
    || { cat "$OUT/build.log" >&2; die "seqc build ${MODEL#"$ROOT"/} failed"; }

# ------------------------------------------------------------ FLOPs
# Walks the model's layers from `input HxWxC`, keeping the shape: conv2d
# (stride 1, padding same or valid), maxpool2d P, flatten, dense. Per
# sample, a convolution's forward is 2*oh*ow*kh*kw*cin*cout and a dense
# layer's 2*in*out; the backward is twice the forward (dW and dx), once for
# the first layer, which has no dx. Batchnorm, activations, pooling, loss
# and the optimizer are left out (O(activations), not O(weights x
# positions)). One line per counted layer, then "TOTAL flops".
FLOPS_LOG=$(sed 's/#.*//' "$MODEL" | tr ';' '\n' | awk -v model="${MODEL#"$ROOT"/}" '
    function fail(m) { print "ERROR " model ": " m; bad = 1; exit 0 }
    function layer(name, f) { b = first ? f : 2 * f; first = 0; total += f + b
        printf "  %-40s forward %11d, backward %11d%s\n", name, f, b, b == f ? " (no dx)" : "" }
    BEGIN { first = 1 }
    $1 == "input" { n = split($2, s, "x"); h = s[1]; w = n > 1 ? s[2] : 1; c = n > 2 ? s[3] : 1; units = h * w * c }
    $1 == "conv2d" { k = 1; pad = "valid"
        for (i = 3; i <= NF; i++) { split($i, kv, "=")
            if (kv[1] == "kernel") k = kv[2]; else if (kv[1] == "padding") pad = kv[2]
            else if (kv[1] == "stride" && kv[2] != 1) fail("stride " kv[2] " not counted here") }
        oh = pad == "same" ? h : h - k + 1; ow = pad == "same" ? w : w - k + 1
        layer(sprintf("conv2d %dx%dx%d -> %dx%dx%d k%d", h, w, c, oh, ow, $2, k), 2 * oh * ow * k * k * c * $2)
        h = oh; w = ow; c = $2; units = h * w * c }
    $1 == "maxpool2d" || $1 == "avgpool2d" { h = int(h / $2); w = int(w / $2); units = h * w * c }
    $1 == "flatten" { units = h * w * c }
    $1 == "dense" { layer(sprintf("dense %d -> %d", units, $2), 2 * units * $2); units = $2 }
    END { if (!bad) printf "TOTAL %d\n", total }')
case $FLOPS_LOG in *ERROR*) die "${FLOPS_LOG#*ERROR }" ;; esac
FLOPS_PER_SAMPLE=$(printf '%s\n' "$FLOPS_LOG" | sed -n 's/^TOTAL //p')
case $FLOPS_PER_SAMPLE in ''|*[!0-9]*|0) die "${MODEL#"$ROOT"/}: could not count the FLOPs" ;; esac
declare -A GFLOP
for s in $SETS; do GFLOP[$s]=$(calc "%.2f" "$FLOPS_PER_SAMPLE * ${N[$s]} / 1e9"); done

# ------------------------------------------------------------ machine
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
times >"$OUT/times.txt"
START_WALL=$(now) START_MACHINE=$(machine_cpu) START_OWN=$(own_cpu)
say "== seqc CNN training benchmark (bench/cnn.sh --epochs $EPOCHS --fashion-epochs $FASHION_EPOCHS --seed $SEED)"
say "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
say "load average at start: $START_LOAD"
say "model:   ${MODEL#"$ROOT"/}, batch 32, seed $SEED; seqc and libseqrt in $BUILD"
for s in $SETS; do say "data:    $s: ${DIR[$s]} (${N[$s]} training samples, ${EP[$s]} epoch(s))"; done
say "FLOPs per sample (conv + dense):"
printf '%s\n' "$FLOPS_LOG" | grep -v '^TOTAL'
say "  total $FLOPS_PER_SAMPLE per sample; per epoch:$(for s in $SETS; do printf ' %s %s GFLOP' "$s" "${GFLOP[$s]}"; done)"

# ------------------------------------------------------------ runs
declare -A SEC RSS ACC
# Seconds per epoch: the median over epochs 2..E (epoch 1 too when E = 1).
secs_per_epoch() { local skip=1; [ "$1" -ge 2 ] || skip=0; column "$2" seconds "$skip" | median; }
record() { # impl set threads tag
    SEC[$1,$2,$3]=$(secs_per_epoch "${EP[$2]}" "$OUT/$4.csv")
    RSS[$1,$2,$3]=$(max_rss_mb "$OUT/$4.rss")
    ACC[$1,$2,$3]=$(final_val_acc "$OUT/$4.csv" | cut -d' ' -f1)
    say "  done: $1, $2, $3 thread(s): $(calc "%.3f" "${SEC[$1,$2,$3]}") s/epoch"
}
say ""
say "== runs"
for s in $SETS; do
    for t in $THREADS_LIST; do
        tag=seqc_${s}_t$t
        run_timed "$OUT/$tag.log" "$OUT/$tag.rss" "$OUT/trainer" train --data "${DIR[$s]}" \
            --epochs "${EP[$s]}" --batch 32 --seed "$SEED" --threads "$t" --history "$OUT/$tag.csv" --quiet
        record seqc "$s" "$t" "$tag"
    done
    for t in $THREADS_LIST; do
        tag=torch_${s}_t$t
        run_timed "$OUT/$tag.log" "$OUT/$tag.rss" "$PYTHON" "$ROOT/bench/peers/pytorch_mnist.py" --model cnn \
            --data "${DIR[$s]}" --epochs "${EP[$s]}" --batch 32 --seed "$SEED" --threads "$t" \
            --history "$OUT/$tag.csv" --quiet
        PT_INFO=$(sed -n 's/^PEAK_RSS_KB=[0-9]* //p' "$OUT/$tag.log")
        record torch "$s" "$t" "$tag"
    done
done
say "  PyTorch: $PT_INFO"

# ------------------------------------------------------------ table
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
times >"$OUT/times.txt"
OTHERS=$(calc "%.2f" "(($(machine_cpu) - $START_MACHINE) - ($(own_cpu) - $START_OWN)) / ($(now) - $START_WALL)")
say ""
say "== Results (batch 32; s/epoch: median over epochs 2..E, epoch 1 when E = 1; GFLOP/s: conv + dense FLOPs"
say "   per epoch over s/epoch; RSS: peak, MB; val acc: final validation accuracy, seed $SEED)"
say "   (the FLOPs are a direct convolution's: seqc's 3x3 stride-1 layers of 16+ channels run as Winograd"
say "   F(2x2, 3x3) on AVX-512, with fewer multiply-adds, so its GFLOP/s is an effective rate)"
say "other processes used $OTHERS of $(nproc) cores on average during the runs (load average at start $START_LOAD, at end $END_LOAD)"
say ""
say "| impl    | data    | epochs | threads | s/epoch | sample/s | GFLOP/s | RSS MB | val acc |"
say "|---------|---------|--------|---------|---------|----------|---------|--------|---------|"
for s in $SETS; do for impl in seqc torch; do for t in $THREADS_LIST; do
    k=$impl,$s,$t
    printf '| %-7s | %-7s | %6s | %7s | %7.3f | %8.0f | %7.1f | %6.1f | %7.4f |\n' \
        "$([ "$impl" = torch ] && echo PyTorch || echo seqc)" "$s" "${EP[$s]}" "$t" "${SEC[$k]}" \
        "$(calc "%.1f" "${N[$s]} / ${SEC[$k]}")" "$(calc "%.2f" "${GFLOP[$s]} / ${SEC[$k]}")" "${RSS[$k]}" "${ACC[$k]}"
done; done; done

# ------------------------------------------------------------ target
ok() { if awk "BEGIN { exit !($1) }"; then echo "met   "; else echo "MISSED"; fi; }
say ""
say "== The issue's target (digits): seqc at 2 threads at least 4x faster than PyTorch's best setting"
best=$(for t in $THREADS_LIST; do echo "${SEC[torch,digits,$t]} $t"; done | sort -g | head -1 | cut -d' ' -f2)
PB=${SEC[torch,digits,$best]} S2=${SEC[seqc,digits,2]}
say "  [$(ok "$S2 * 4 <= $PB")] seqc 2 threads $(calc "%.3f" "$S2") s/epoch, PyTorch best ($best thread(s)) $(calc "%.3f" "$PB") s/epoch: $(calc "%.2f" "$PB / $S2")x (target 4x, i.e. <= $(calc "%.3f" "$PB / 4") s/epoch here)"
say "  1 thread each: PyTorch/seqc $(calc "%.2f" "${SEC[torch,digits,1]} / ${SEC[seqc,digits,1]}")x"
say ""
say "histories and logs: $OUT"
if awk -v o="$OTHERS" 'BEGIN { exit !(o > 0.1) }'; then
    say "NOTE: the machine was not quiet: other processes used $OTHERS of $(nproc) cores on average while"
    say "      the benchmark ran, so these timings are slower and noisier than on a quiet machine."
fi
