#!/usr/bin/env bash
# bench/mpi.sh: data-parallel training over MPI (issue #16) on this machine.
#
# Builds the tutorial's dense model (models/mnist_bn.seq) and the CNN
# (models/mnist_cnn_bn.seq) with `seqc build --mpi`, trains each on the
# 8,000 digits of data/mnist-digits at global batches 32, 256 and 1024
# as 1 process on 1 thread, 1 process on 2 threads, and 2 ranks of 1
# thread each (mpirun -np 2), and prints seconds per epoch, steps per
# second, the speedup over 1 process on 1 thread and the scaling efficiency
# (speedup per core), and, from the trainer's own "mpi:" line, the time of
# each step's allreduce (waiting for the other rank included) and its share
# of the step.
#
# Then a model of larger runs from these measurements: a step on P nodes
# takes the compute time of B/P samples (measured per sample at 1 process,
# 1 thread) plus an allreduce of the step's bytes, modelled as
#   bytes / bandwidth + latency * log2(P)
# for two networks (10 Gb Ethernet: 1.25 GB/s, 50 us; InfiniBand HDR:
# 25 GB/s, 2 us), and the global batch above which computing takes longer
# than communicating: B* = P * T_allreduce / (compute time per sample).
#
# usage: bench/mpi.sh [--epochs N (default 5; s/epoch is the median of epochs 2..N)]
#                     [--batches "32 256 1024"] [--build DIR] [--seqc PATH]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=bench/mpi.sh
. "$ROOT/bench/common.sh"
EPOCHS=5
BATCHES="32 256 1024"
BUILD=$ROOT/build
SEQC=""
DIGITS=$ROOT/data/mnist-digits
MODELS="mnist_bn mnist_cnn_bn"

while [ $# -gt 0 ]; do
    case $1 in
        --epochs) EPOCHS=${2:?}; shift 2 ;;
        --batches) BATCHES=${2:?}; shift 2 ;;
        --build) BUILD=${2:?}; shift 2 ;;
        --seqc) SEQC=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "$BENCH: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
case $EPOCHS in ''|*[!0-9]*) die "--epochs takes a number" ;; esac
[ "$EPOCHS" -ge 2 ] || die "--epochs must be >= 2 (epoch 1 is not timed)"
for b in $BATCHES; do case $b in ''|*[!0-9]*) die "--batches takes numbers" ;; esac; done

OUT=$BUILD/bench-mpi-out
. "$ROOT/scripts/deps.sh"
seqc_install_deps time openmpi-bin libopenmpi-dev || die "could not install Open MPI"
data_complete "$DIGITS" || die "$DIGITS: missing the IDX files"
N=$(train_count "$DIGITS")
[ -n "$SEQC" ] || SEQC=$(build_seqc "$BUILD")
cmake --build "$BUILD" --parallel 2 --target seqrt_mpi >>"$BUILD/bench-cmake.log" 2>&1 \
    || die "cannot build libseqrt_mpi.a (is MPI installed? log: $BUILD/bench-cmake.log)"
mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.log "$OUT"/times.txt
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
for m in $MODELS; do
    "$SEQC" build "$ROOT/models/$m.seq" --mpi -o "$OUT/$m" >"$OUT/build-$m.log" 2>&1 \
        || { cat "$OUT/build-$m.log" >&2; die "seqc build --mpi models/$m.seq failed"; }
done

START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
times >"$OUT/times.txt"
START_WALL=$(now) START_MACHINE=$(machine_cpu) START_OWN=$(own_cpu)
say "== seqc data-parallel training benchmark ($BENCH --epochs $EPOCHS --batches \"$BATCHES\")"
say "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; $(mpirun --version 2>/dev/null | head -1)"
say "data:    $DIGITS ($N training samples); load average at start: $START_LOAD"
say ""

declare -A SEC SUMMS SHARE FLOATS
# run MODEL BATCH RANKS THREADS
run() {
    local m=$1 b=$2 p=$3 t=$4 tag=$1_b$2_p$3_t$4
    local cmd=("$OUT/$m" --data "$DIGITS" --epochs "$EPOCHS" --batch "$b" --threads "$t"
               --history "$OUT/$tag.csv")
    if [ "$p" -gt 1 ]; then cmd=(mpirun --bind-to none -np "$p" "${cmd[@]}"); fi
    "${CLEAN_ENV[@]}" "${cmd[@]}" >"$OUT/$tag.log" 2>&1 || { tail -20 "$OUT/$tag.log" >&2; die "failed: ${cmd[*]}"; }
    SEC[$tag]=$(column "$OUT/$tag.csv" seconds 1 | median)
    local line
    line=$(grep '^mpi: ' "$OUT/$tag.log" || true)
    SUMMS[$tag]=$(printf '%s\n' "$line" | sed -n 's/.* took \([0-9.]*\) ms.*/\1/p')
    SHARE[$tag]=$(printf '%s\n' "$line" | sed -n 's/.* ms on average, \([0-9.]*\) %.*/\1/p')
    FLOATS[$m,$b]=$(printf '%s\n' "$line" | sed -n 's/.*sum of \([0-9]*\) floats.*/\1/p')
    say "  done: $m batch $b, $p rank(s) x $t thread(s): $(calc "%.3f" "${SEC[$tag]}") s/epoch"
}
say "== runs"
for m in $MODELS; do for b in $BATCHES; do
    run "$m" "$b" 1 1
    run "$m" "$b" 1 2
    run "$m" "$b" 2 1
done; done

END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
times >"$OUT/times.txt"
OTHERS=$(calc "%.2f" "(($(machine_cpu) - $START_MACHINE) - ($(own_cpu) - $START_OWN)) / ($(now) - $START_WALL)")
say ""
say "== Results (s/epoch: median of epochs 2..$EPOCHS; speedup over 1 process x 1 thread;"
say "   efficiency: speedup / cores used; allreduce: the trainer's mean per step, waiting included)"
say "other processes used $OTHERS of $(nproc) cores on average (load average at start $START_LOAD, at end $END_LOAD)"
say ""
say "| model | batch | ranks x threads | s/epoch | steps/s | speedup | efficiency | allreduce ms/step | share |"
say "|---|---|---|---|---|---|---|---|---|"
for m in $MODELS; do for b in $BATCHES; do
    steps=$(( (N + b - 1) / b ))
    base=${SEC[${m}_b${b}_p1_t1]}
    for pt in "1 1" "1 2" "2 1"; do
        set -- $pt
        tag=${m}_b${b}_p$1_t$2 cores=$(( $1 * $2 ))
        s=${SEC[$tag]}
        printf '| %s | %d | %d x %d | %.3f | %.0f | %.2f | %.2f | %s | %s |\n' "$m" "$b" "$1" "$2" "$s" \
            "$(calc "%.3f" "$steps / $s")" "$(calc "%.4f" "$base / $s")" \
            "$(calc "%.4f" "$base / $s / $cores")" "${SUMMS[$tag]:--}" "${SHARE[$tag]:+${SHARE[$tag]} %}"
    done
done; done

say ""
say "== Model: P nodes, one process each, the global batch split over them"
say "   step(P) = compute(B/P) + allreduce, allreduce = bytes/bandwidth + latency*log2(P);"
say "   compute per sample measured above (1 process, 1 thread); B* = batch where compute = allreduce"
say ""
say "| model | network | batch | P | compute ms | allreduce ms | speedup | efficiency | B* |"
say "|---|---|---|---|---|---|---|---|---|"
for m in $MODELS; do for b in $BATCHES; do
    per=$(calc "%.9f" "${SEC[${m}_b${b}_p1_t1]} / $N")      # seconds per sample at batch b
    bytes=$(calc "%.0f" "${FLOATS[$m,$b]:-0} * 4")
    for net in "10GbE 1.25e9 50e-6" "HDR-IB 25e9 2e-6"; do
        set -- $net
        for p in 8 16 32 64; do
            awk -v m="$m" -v net="$1" -v bw="$2" -v lat="$3" -v b="$b" -v p="$p" -v per="$per" -v bytes="$bytes" 'BEGIN {
                comp = per * b / p; ar = bytes / bw + lat * log(p) / log(2); one = per * b
                printf "| %s | %s | %d | %d | %.3f | %.3f | %.1f | %.2f | %.0f |\n", m, net, b, p,
                    comp * 1e3, ar * 1e3, one / (comp + ar), one / (comp + ar) / p, p * ar / per }'
        done
    done
done; done
say ""
say "logs and histories: $OUT"
if awk -v o="$OTHERS" 'BEGIN { exit !(o > 0.1) }'; then
    say "NOTE: the machine was not quiet: other processes used $OTHERS of $(nproc) cores on average."
fi
