#!/usr/bin/env bash
# bench/run.sh: the training benchmark of issue #6.
#
# Builds models/fashion_bn.seq and its --without batchnorm variant with seqc
# (timing `seqc build`), trains each on the full Fashion-MNIST at batch 32
# with 1 and with 2 threads, measures OpenBLAS's sgemm ceiling
# (bench/sgemm_ceiling.c) and libseqrt's own GEMM paths against it
# (bench/gemm_paths.c), optionally runs the same recipe in PyTorch
# (bench/peers/pytorch_mnist.py), and prints the tables and the issue's
# targets. Installs what it needs from Debian when missing.
#
# Every timed program runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset:
# this environment may pin OpenBLAS to its AVX2 kernels with them, which
# halves sgemm speed on an AVX-512 machine. Tests and CI leave them alone.
#
# usage: bench/run.sh [--epochs N] [--seeds K] [--with-pytorch]
#                     [--data DIR] [--build DIR] [--model FILE]
#                     [--seqc PATH (use this seqc, build nothing)]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=bench/run.sh
# usage, CLEAN_ENV, say, die, the data, build and history helpers
. "$ROOT/bench/common.sh"
EPOCHS=10
SEEDS=1
WITH_PYTORCH=0
DATA=/usr/share/datasets/fashion-mnist
BUILD=$ROOT/build
THREADS_LIST="1 2"
MODEL=$ROOT/models/fashion_bn.seq
PYTHON=/usr/bin/python3
SEQC=""

while [ $# -gt 0 ]; do
    case $1 in
        --epochs) EPOCHS=${2:?}; shift 2 ;;
        --seeds) SEEDS=${2:?}; shift 2 ;;
        --with-pytorch) WITH_PYTORCH=1; shift ;;
        --data) DATA=${2:?}; shift 2 ;;
        --build) BUILD=${2:?}; shift 2 ;;
        --model) MODEL=${2:?}; shift 2 ;;
        --seqc) SEQC=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench/run.sh: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
case $EPOCHS$SEEDS in *[!0-9]*) echo "bench/run.sh: --epochs and --seeds take numbers" >&2; exit 2 ;; esac
[ "$EPOCHS" -ge 1 ] && [ "$SEEDS" -ge 1 ] || { echo "bench/run.sh: --epochs and --seeds must be >= 1" >&2; exit 2; }

OUT=$BUILD/bench-out

# ------------------------------------------------------------ dependencies
. "$ROOT/scripts/deps.sh"
extra="time"
if ! data_complete "$DATA"; then
    [ "$DATA" = /usr/share/datasets/fashion-mnist ] || die "$DATA: missing the IDX files (train-images-idx3-ubyte[.gz], ...)"
    extra="$extra dataset-fashion-mnist"
fi
if [ "$WITH_PYTORCH" = 1 ] && ! "$PYTHON" -c 'import torch, numpy' 2>/dev/null; then
    say "PyTorch missing for $PYTHON: installing Debian's python3-torch (large)"
    extra="$extra python3-torch python3-numpy"
fi
seqc_install_deps $extra || die "could not install:$extra"

# If the package ever names the files differently, link them under the
# trainer's names (bench/common.sh).
if ! data_complete "$DATA"; then
    DATA=$(fashion_links)
    trap 'rm -rf "$DATA"' EXIT
fi
data_complete "$DATA" || die "$DATA: Fashion-MNIST files still missing"

SAMPLES=$(train_count "$DATA")
case $SAMPLES in ''|*[!0-9]*|0) die "$DATA/train-labels-idx1-ubyte: cannot read the sample count" ;; esac

# ------------------------------------------------------------------- build
# Only what the benchmark runs: the compiler and the runtime it links.
[ -n "$SEQC" ] || SEQC=$(build_seqc "$BUILD")
[ -x "$SEQC" ] || die "$SEQC: not an executable"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.log "$OUT"/*.rss "$OUT"/times.txt

cc -O2 -std=c11 -Wall -Wextra -o "$OUT/sgemm_ceiling" "$ROOT/bench/sgemm_ceiling.c" \
    $(pkg-config --cflags --libs openblas) || die "could not build bench/sgemm_ceiling.c"
[ -f "$BUILD/libseqrt.a" ] || cmake --build "$BUILD" --parallel 2 --target seqrt >>"$BUILD/bench-cmake.log" 2>&1 \
    || die "could not build libseqrt (log: $BUILD/bench-cmake.log)"
cc -O2 -std=c11 -Wall -Wextra -I"$ROOT/runtime/include" -I"$ROOT/runtime/src" -o "$OUT/gemm_paths" \
    "$ROOT/bench/gemm_paths.c" "$BUILD/libseqrt.a" $(pkg-config --cflags --libs openblas zlib) -lm -lpthread \
    || die "could not build bench/gemm_paths.c"

# ------------------------------------------------------------ the model
# Dense layer sizes from the model file: the flattened input, then each
# `dense N`, in order. --without batchnorm leaves them unchanged, so both
# variants do the same matrix work.
DIMS=$(sed 's/#.*//' "$MODEL" | tr ';' '\n' | awk '
    $1 == "input" { n = split($2, s, "x"); p = 1; for (i = 1; i <= n; i++) p *= s[i]; dims = p }
    $1 == "dense" { dims = dims "," $2 }
    END { print dims }')
case $DIMS in *,*,*) ;; *) die "$MODEL: could not read the input and dense layers (got '$DIMS')" ;; esac
# FLOPs per sample, counted for each dense layer in->out: 2*in*out forward,
# 2*in*out for the weight gradient, 2*in*out for the input gradient except
# the first layer's (nothing needs it). Bias, batchnorm, activations, loss
# and the optimizer are left out: they are O(units), not O(in*out).
FLOPS_PER_SAMPLE=$(echo "$DIMS" | awk -F, '{ f = 0; for (i = 1; i < NF; i++) f += 2 * $i * $(i + 1) * (i == 1 ? 2 : 3); print f }')
EPOCH_GFLOP=$(awk -v f="$FLOPS_PER_SAMPLE" -v n="$SAMPLES" 'BEGIN { printf "%.3f", f * n / 1e9 }')

# ---------------------------------------------------------------- helpers
# Seconds per epoch of a config: the median over epochs 2..N of all its runs
# (epoch 1 as well when only one epoch was run).
secs_per_epoch() {
    local skip=1 f
    [ "$EPOCHS" -ge 2 ] || skip=0
    for f in "$@"; do column "$f" seconds "$skip"; done | median
}
declare -A SEC RSS ACC

# ------------------------------------------------------------- machine
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
times >"$OUT/times.txt"
START_WALL=$(now) START_MACHINE=$(machine_cpu) START_OWN=$(own_cpu)
say "== seqc training benchmark (bench/run.sh --epochs $EPOCHS --seeds $SEEDS$([ "$WITH_PYTORCH" = 1 ] && echo ' --with-pytorch'))"
say "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
say "load average at start: $START_LOAD"
say "data:    $DATA ($SAMPLES training samples)"
say "model:   ${MODEL#$ROOT/}, dense sizes $DIMS; seqc and libseqrt built in ${BUILD} (CMAKE_BUILD_TYPE=${BUILD_TYPE:-none})"
say "FLOPs:   $FLOPS_PER_SAMPLE per sample (dense forward + weight grads + input grads of layers 2..), $EPOCH_GFLOP GFLOP per epoch"
say ""
say "OpenBLAS with this environment's variables (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset}):"
say "  $("$OUT/sgemm_ceiling" --config | sed -n 's/^CONFIG //p')"
say "OpenBLAS as every timed program here runs it (both unset):"
BLAS_CONFIG=$("${CLEAN_ENV[@]}" "$OUT/sgemm_ceiling" --config | sed -n 's/^CONFIG //p')
say "  $BLAS_CONFIG"

# ------------------------------------------------------------ sgemm ceiling
say ""
say "== sgemm ceiling (bench/sgemm_ceiling.c, best of 5)"
"${CLEAN_ENV[@]}" "$OUT/sgemm_ceiling" --threads "${THREADS_LIST// /,}" --batch 32 --dims "$DIMS" >"$OUT/sgemm.log" 2>&1 \
    || { cat "$OUT/sgemm.log" >&2; die "sgemm_ceiling failed"; }
grep -v -E '^(CONFIG|env|CEILING|STEP) ' "$OUT/sgemm.log"
declare -A CEIL STEP_US
for t in $THREADS_LIST; do
    CEIL[$t]=$(sed -n "s/^CEILING threads=$t gflops=//p" "$OUT/sgemm.log")
    STEP_US[$t]=$(sed -n "s/^STEP threads=$t us=\([0-9.]*\) .*/\1/p" "$OUT/sgemm.log")
done
BEST_CEIL=$(for t in $THREADS_LIST; do echo "${CEIL[$t]}"; done | sort -g | tail -1)
STEPS=$(( (SAMPLES + 31) / 32 ))
FLOP_LIMIT=$(calc "%.4f" "$EPOCH_GFLOP / $BEST_CEIL")
say ""
say "FLOP limit of one epoch at the large-GEMM ceiling ($BEST_CEIL GFLOP/s): $FLOP_LIMIT s"
for t in $THREADS_LIST; do
    say "OpenBLAS time for one epoch's GEMMs at the model's shapes, $t thread(s): $(calc "%.3f" "${STEP_US[$t]} * $STEPS / 1e6") s ($STEPS steps x ${STEP_US[$t]} us)"
done

# ------------------------------------------------- libseqrt's GEMM paths
# The trainers use the path SEQRT_KERNELS names, else the CPU's best
# (runtime/src/kernels/gemm.c); this times each path the CPU has against
# OpenBLAS on one thread at the first layer's batch-32 shapes.
say ""
say "== libseqrt's GEMM paths (bench/gemm_paths.c; default here: $(SEQRT_KERNELS= "$OUT/gemm_paths" --default))"
"${CLEAN_ENV[@]}" OPENBLAS_NUM_THREADS=1 "$OUT/gemm_paths" | sed 's/^/  /'

# ------------------------------------------------------------ seqc build
say ""
say "== seqc build (generation + C compilation; 3 runs each)"
declare -A BUILD_S
for variant in bn nobn; do
    args=("$MODEL")
    [ "$variant" = nobn ] && args+=(--without batchnorm)
    runs=""
    for _ in 1 2 3; do
        t0=$(now)
        "$SEQC" build "${args[@]}" -o "$OUT/trainer_$variant" >"$OUT/build_$variant.log" 2>&1 \
            || { cat "$OUT/build_$variant.log" >&2; die "seqc build ${args[*]} failed"; }
        t1=$(now)
        runs="$runs $(calc "%.3f" "$t1 - $t0")"
    done
    BUILD_S[$variant]=$(echo $runs | tr ' ' '\n' | median)
    say "  seqc build ${args[*]#$ROOT/}: median $(calc "%.2f" "${BUILD_S[$variant]}") s (runs:$runs s)"
done
say "  the trainer links: $(ldd "$OUT/trainer_bn" 2>/dev/null | awk '/blas/ { print $1 " => " $3 }' | tr '\n' ' ')"

# ------------------------------------------------------------ our trainer
say ""
say "== seqc trainer: $EPOCHS epochs, batch 32, seeds 1..$SEEDS"
for variant in bn nobn; do
    for t in $THREADS_LIST; do
        files=() rssf=()
        for seed in $(seq 1 "$SEEDS"); do
            tag=seqc_${variant}_t${t}_s$seed
            run_timed "$OUT/$tag.log" "$OUT/$tag.rss" "$OUT/trainer_$variant" train --data "$DATA" \
                --epochs "$EPOCHS" --batch 32 --seed "$seed" --threads "$t" --history "$OUT/$tag.csv" --quiet
            files+=("$OUT/$tag.csv") rssf+=("$OUT/$tag.rss")
        done
        SEC[seqc,$variant,$t]=$(secs_per_epoch "${files[@]}")
        RSS[seqc,$variant,$t]=$(max_rss_mb "${rssf[@]}")
        ACC[seqc,$variant,$t]=$(final_val_acc "${files[@]}")
        say "  done: $variant, $t thread(s)"
    done
done

# ------------------------------------------------------------ PyTorch
declare -A PT_BEST
if [ "$WITH_PYTORCH" = 1 ]; then
    say ""
    say "== PyTorch peer (bench/peers/pytorch_mnist.py with $PYTHON): $EPOCHS epochs, batch 32"
    PT_INFO=""
    for variant in bn nobn; do
        pyargs=()
        [ "$variant" = nobn ] && pyargs+=(--without batchnorm)
        # Seed 1 with every thread count, to find PyTorch's best setting.
        for t in $THREADS_LIST; do
            tag=torch_${variant}_t${t}_s1
            run_timed "$OUT/$tag.log" "$OUT/$tag.rss" "$PYTHON" "$ROOT/bench/peers/pytorch_mnist.py" \
                --data "$DATA" --epochs "$EPOCHS" --seed 1 --threads "$t" --history "$OUT/$tag.csv" \
                --quiet "${pyargs[@]}"
            PT_INFO=$(sed -n 's/^PEAK_RSS_KB=[0-9]* //p' "$OUT/$tag.log")
            SEC[torch,$variant,$t]=$(secs_per_epoch "$OUT/$tag.csv")
            say "  done: $variant, $t thread(s): $(calc "%.3f" "${SEC[torch,$variant,$t]}") s/epoch"
        done
        best=$(for t in $THREADS_LIST; do echo "${SEC[torch,$variant,$t]} $t"; done | sort -g | head -1 | cut -d' ' -f2)
        PT_BEST[$variant]=$best
        # The other seeds only in the best setting: accuracy does not
        # depend on the thread count, and the slow setting is slow.
        for seed in $(seq 2 "$SEEDS"); do
            tag=torch_${variant}_t${best}_s$seed
            run_timed "$OUT/$tag.log" "$OUT/$tag.rss" "$PYTHON" "$ROOT/bench/peers/pytorch_mnist.py" \
                --data "$DATA" --epochs "$EPOCHS" --seed "$seed" --threads "$best" \
                --history "$OUT/$tag.csv" --quiet "${pyargs[@]}"
        done
        for t in $THREADS_LIST; do
            files=("$OUT"/torch_${variant}_t${t}_s*.csv)
            SEC[torch,$variant,$t]=$(secs_per_epoch "${files[@]}")
            RSS[torch,$variant,$t]=$(max_rss_mb "$OUT"/torch_${variant}_t${t}_s*.rss)
            ACC[torch,$variant,$t]=$(final_val_acc "${files[@]}")
        done
    done
    say "  $PT_INFO"
fi

# ------------------------------------------------------------ tables
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
# Cores' worth of CPU that other processes used, on average, while we ran.
times >"$OUT/times.txt"
OTHERS=$(calc "%.2f" "(($(machine_cpu) - $START_MACHINE) - ($(own_cpu) - $START_OWN)) / ($(now) - $START_WALL)")
fmt_acc() { set -- $1; if [ "$3" -gt 1 ]; then printf '%.4f +- %.4f (%d)' "$1" "$2" "$3"; else printf '%.4f (1)' "$1"; fi; }
row() { # impl variant threads
    local k=$1,$2,$3 s
    s=${SEC[$k]}
    printf '| %-5s | %-5s | %7s | %7.3f | %8.0f | %7.1f | %6.1f | %6.2f | %6.1f | %-22s |\n' \
        "$1" "$2" "$3" "$s" "$(calc "%.1f" "$SAMPLES / $s")" "$(calc "%.2f" "$EPOCH_GFLOP / $s")" \
        "$(calc "%.2f" "$s / $FLOP_LIMIT")" "$(calc "%.3f" "$s / (${STEP_US[$3]} * $STEPS / 1e6)")" \
        "${RSS[$k]}" "$(fmt_acc "${ACC[$k]}")"
}
say ""
say "== Results ($EPOCHS epochs, batch 32, $SAMPLES samples/epoch, $EPOCH_GFLOP GFLOP/epoch)"
say "other processes used $OTHERS of $(nproc) cores on average during the runs (load average at start $START_LOAD, at end $END_LOAD)"
SPAN="epochs 2..$EPOCHS"
[ "$EPOCHS" -ge 2 ] || SPAN="epoch 1 (only one run)"
say "s/epoch: median over $SPAN; x ceil: s/epoch over the FLOP limit at the large-GEMM ceiling ($FLOP_LIMIT s);"
say "x gemm: s/epoch over OpenBLAS's time for the epoch's GEMMs at the model's shapes with the same threads; RSS: peak, MB;"
say "val acc: final validation accuracy, mean +- sample std over (n) seeds"
say ""
say "| impl  | model | threads | s/epoch | sample/s | GFLOP/s | x ceil | x gemm | RSS MB | val acc                |"
say "|-------|-------|---------|---------|----------|---------|--------|--------|--------|------------------------|"
for variant in bn nobn; do for t in $THREADS_LIST; do row seqc "$variant" "$t"; done; done
if [ "$WITH_PYTORCH" = 1 ]; then
    for variant in bn nobn; do for t in $THREADS_LIST; do row torch "$variant" "$t"; done; done
fi

# ------------------------------------------------------------ targets
ok() { if awk "BEGIN { exit !($1) }"; then echo "met   "; else echo "MISSED"; fi; }
say ""
say "== Side by side (ratios above 1 favour seqc) and the issue's targets (BN model unless named)"
B1=${SEC[seqc,bn,1]} B2=${SEC[seqc,bn,2]}
if [ "$WITH_PYTORCH" = 1 ]; then
    for variant in bn nobn; do
        pb=${PT_BEST[$variant]}
        say "  $variant: PyTorch best ($pb thread) $(calc "%.3f" "${SEC[torch,$variant,$pb]}") s/epoch, seqc 2 threads $(calc "%.3f" "${SEC[seqc,$variant,2]}") s/epoch: PyTorch/seqc time $(calc "%.2f" "${SEC[torch,$variant,$pb]} / ${SEC[seqc,$variant,2]}"); 1 thread each: $(calc "%.2f" "${SEC[torch,$variant,1]} / ${SEC[seqc,$variant,1]}"); peak memory PyTorch/seqc $(calc "%.1f" "${RSS[torch,$variant,$pb]} / ${RSS[seqc,$variant,2]}")"
    done
    PB=${SEC[torch,bn,${PT_BEST[bn]}]}
    say "  [$(ok "$B2 <= $PB / 6")] 2 threads at most 1/6 of PyTorch's best: $(calc "%.3f" "$B2") s vs $(calc "%.3f" "$PB / 6") s"
    say "  [$(ok "$B1 * 3 <= ${SEC[torch,bn,1]}")] 1 thread at least 3x faster than PyTorch 1 thread: $(calc "%.2f" "${SEC[torch,bn,1]} / $B1")x"
else
    say "  (PyTorch targets not measured: run with --with-pytorch)"
fi
say "  [$(ok "$B2 <= 3 * $FLOP_LIMIT")] 2 threads within 3x of the FLOP limit: $(calc "%.2f" "$B2 / $FLOP_LIMIT")x ($(calc "%.3f" "$B2") s vs $FLOP_LIMIT s)"
for variant in bn nobn; do
    say "  [$(ok "${SEC[seqc,$variant,2]} <= ${SEC[seqc,$variant,1]}")] $variant: 2 threads not slower than 1: $(calc "%.3f" "${SEC[seqc,$variant,2]}") s vs $(calc "%.3f" "${SEC[seqc,$variant,1]}") s"
done
maxrss=$(for k in "${!RSS[@]}"; do case $k in seqc,*) echo "${RSS[$k]}" ;; esac; done | sort -g | tail -1)
say "  [$(ok "$maxrss <= 80")] trainer peak memory at most 80 MB: $maxrss MB"
if [ "$WITH_PYTORCH" = 1 ]; then
    note=""
    [ "$SEEDS" -ge 5 ] && [ "$EPOCHS" -ge 10 ] || note=" (the target is 10 epochs, 5 seeds: indicative only)"
    for variant in bn nobn; do
        set -- ${ACC[seqc,$variant,2]}; ours=$1
        set -- ${ACC[torch,$variant,${PT_BEST[$variant]}]}; theirs=$1
        say "  [$(ok "($ours - $theirs) >= -0.01 && ($ours - $theirs) <= 0.01")] $variant: val accuracy within 1 point of PyTorch: $ours vs $theirs$note"
    done
fi
for variant in bn nobn; do
    say "  [$(ok "${BUILD_S[$variant]} < 2")] seqc build $variant under 2 s: $(calc "%.2f" "${BUILD_S[$variant]}") s"
done
say ""
say "OpenBLAS in the timed runs: $BLAS_CONFIG"
say "histories and logs: $OUT"
if awk -v o="$OTHERS" 'BEGIN { exit !(o > 0.1) }'; then
    say "NOTE: the machine was not quiet: other processes used $OTHERS of $(nproc) cores on average while"
    say "      the benchmark ran, so these timings are slower and noisier than on a quiet machine."
fi
