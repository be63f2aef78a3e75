#!/usr/bin/env bash
# bench/export.sh: prediction speed of a model exported by seqc export
# (issue #15), against the trainer's own `predict` and onnxruntime.
#
# Trains the model 1 epoch on data/mnist-digits (the weights do not change
# the speed), exports it to C and to ONNX, and runs the 2,000 validation
# digits through:
#   - the exported C (bench/export_time.c): one predict call per sample
#     (median latency) and predict_batch over all of them (throughput),
#     built with -O2, and with -O3 -march=native;
#   - the trainer's `predict --load` with 1 thread at --batch 1 and at
#     --batch 2000: wall time of the whole command, and per sample once
#     the time of a 1-sample run (start, checkpoint, data) is subtracted;
#   - onnxruntime (onnxruntime-node from BUILD/npm-cache, installed by
#     tests/export/onnxruntime.sh; skipped if the registry is unreachable)
#     with one thread: one sample per run, and the 2,000 as one batch;
# and prints the exported object's size (`size`) and the ONNX file's.
# Every timed program runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
# unset (bench/common.sh).
#
# usage: bench/export.sh [--model NAME (a 28x28 model in models/, default mnist_bn)]
#                        [--repeats R (default 5)] [--build DIR] [--seqc PATH] [--out DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=bench/export.sh
. "$ROOT/bench/common.sh"
MODEL=mnist_bn
REPEATS=5
BUILD=$ROOT/build
SEQC=""
OUT=""
DIGITS=$ROOT/data/mnist-digits
PYTHON=/usr/bin/python3
CC=${CC:-cc}
while [ $# -gt 0 ]; do
    case $1 in
        --model) MODEL=${2:?}; shift 2 ;;
        --repeats) REPEATS=${2:?}; shift 2 ;;
        --build) BUILD=${2:?}; shift 2 ;;
        --seqc) SEQC=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        -h|--help) usage 0 ;;
        *) say "$BENCH: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
[ -f "$ROOT/models/$MODEL.seq" ] || die "no models/$MODEL.seq"
[ -n "$SEQC" ] || SEQC=$(build_seqc "$BUILD")
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/seqc-bench-export.XXXXXX)
mkdir -p "$OUT"
cd "$OUT"
say "$BENCH: $MODEL, work in $OUT, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$SEQC" build "$ROOT/models/$MODEL.seq" -o trainer >/dev/null
"${CLEAN_ENV[@]}" ./trainer --data "$DIGITS" --epochs 1 --seed 1 --quiet --save model.ckpt >/dev/null
"$SEQC" export "$ROOT/models/$MODEL.seq" --load model.ckpt -o "$MODEL.c" --check-data "$DIGITS" >export.log
"$SEQC" export "$ROOT/models/$MODEL.seq" --load model.ckpt --format onnx -o "$MODEL.onnx" \
    --check-data "$DIGITS" >>export.log
UP=$(echo "$MODEL" | tr a-z A-Z)
IN=$(sed -n "s/^#define ${UP}_INPUT_SIZE //p" "$MODEL.h")
N=$("$PYTHON" "$ROOT/tests/export/compare.py" inputs "$DIGITS" "$IN" 0 x.bin)

declare -A ROW
for opt in "-O2" "-O3 -march=native"; do
    "$CC" -std=c99 $opt -c "$MODEL.c" -o "$MODEL.o"
    read -r text data _ < <(size "$MODEL.o" | tail -1)
    "$CC" -std=c99 $opt -I. -DHEADER="\"$MODEL.h\"" -DPREDICT="${MODEL}_predict" \
        -DPREDICT_BATCH="${MODEL}_predict_batch" -DINPUT_SIZE="${UP}_INPUT_SIZE" \
        -DOUTPUT_SIZE="${UP}_OUTPUT_SIZE" "$ROOT/bench/export_time.c" "$MODEL.c" -lm -o export_time
    r=$(./export_time "$N" x.bin "$REPEATS")
    ROW["C $opt"]="$r"
    say "exported C ($CC $opt): $MODEL.o text $text bytes, data $data"
    say "$r" | sed 's/^/  /'
done

# the trainer: the whole command, 1 sample and all of them
trainer_time() { # BATCH LIMIT -> seconds (best of REPEATS)
    local best=1e9 t0 t1 r
    for ((r = 0; r < REPEATS; r++)); do
        t0=$(now)
        "${CLEAN_ENV[@]}" ./trainer predict --load model.ckpt --data "$DIGITS" --threads 1 \
            --batch "$1" --limit "$2" --output p.csv >/dev/null
        t1=$(now)
        best=$(calc "%.6f" "($t1 - $t0) < $best ? ($t1 - $t0) : $best")
    done
    echo "$best"
}
one=$(trainer_time 1 1)
for b in 1 "$N"; do
    all=$(trainer_time "$b" "$N")
    say "trainer predict --threads 1 --batch $b: $N samples in $all s (1 sample: $one s); $(calc "%.2f" "1e6 * ($all - $one) / ($N - 1)") us per sample beyond start and load, $(calc "%.0f" "($N - 1) / ($all - $one)") samples/s"
done

CACHE=$BUILD/npm-cache
if sh "$ROOT/tests/export/onnxruntime.sh" "$CACHE" >/dev/null; then
    say "onnxruntime-node $(sed -n 's/^ *"version": "\(.*\)",/\1/p' "$CACHE/node_modules/onnxruntime-node/package.json"), 1 thread:"
    NODE_PATH=$CACHE/node_modules "${CLEAN_ENV[@]}" node "$ROOT/bench/export_ort.js" "$MODEL.onnx" "$N" x.bin "$REPEATS" | sed 's/^/  /'
else
    say "onnxruntime: skipped (onnxruntime-node could not be installed)"
fi
say "sizes: $MODEL.onnx $(stat -c %s "$MODEL.onnx") bytes, $MODEL.c $(stat -c %s "$MODEL.c") bytes, trainer $(stat -c %s trainer) bytes"
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
