#!/bin/sh
# compare_jobs.sh: the demo comparison's wall time with --jobs 1 and
# --jobs 2, in one run (issue #12): models/mnist_bn.seq with and without
# batchnorm, 5 seeds, 10 epochs, on the embedded digits (data/mnist-digits).
# Each timing covers the whole command: generating and compiling both
# trainers, the 10 runs, the statistics and the report. The "runs ... done
# in" line is the training part alone.
#
#   bench/compare_jobs.sh [BUILD_DIR]     (default: build; seqc must be built)
#
# Target: --jobs 2 at most 0.6 of --jobs 1; the whole 5-seed demo under
# 15 s on a 2-core machine. Prints the two times, their ratio, and checks
# that both runs wrote the same histories (all columns but the seconds).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
SEQC=$BUILD/seqc
[ -x "$SEQC" ] || { echo "compare_jobs.sh: no $SEQC; build seqc first" >&2; exit 1; }
WORK=$BUILD/bench-compare-jobs
rm -rf "$WORK" && mkdir -p "$WORK"

now() { date +%s.%N; }
for j in 1 2; do
    t0=$(now)
    "$SEQC" compare "$ROOT/models/mnist_bn.seq" --without batchnorm \
        --data "$ROOT/data/mnist-digits" --seeds 5 --epochs 10 --jobs "$j" \
        -o "$WORK/jobs$j" >"$WORK/jobs$j.log" 2>&1 \
        || { cat "$WORK/jobs$j.log"; exit 1; }
    t1=$(now)
    echo "$t0 $t1" >"$WORK/jobs$j.time"
    runs=$(grep -o 'runs 10/10 done in [0-9.]* s' "$WORK/jobs$j.log" || echo "?")
    awk -v j="$j" -v a="$t0" -v b="$t1" -v r="$runs" \
        'BEGIN { printf "--jobs %s: %.2f s wall (%s)\n", j, b - a, r }'
done
w1=$(awk '{ print $2 - $1 }' "$WORK/jobs1.time")
w2=$(awk '{ print $2 - $1 }' "$WORK/jobs2.time")
awk -v a="$w1" -v b="$w2" 'BEGIN { printf "ratio --jobs 2 / --jobs 1: %.2f (target <= 0.6)\n", b / a }'
for f in "$WORK"/jobs1/runs/*.csv; do
    g=$WORK/jobs2/runs/$(basename "$f")
    [ "$(cut -d, -f1-5 "$f")" = "$(cut -d, -f1-5 "$g")" ] \
        || { echo "compare_jobs.sh: $(basename "$f") differs between --jobs 1 and 2" >&2; exit 1; }
done
echo "histories identical with --jobs 1 and 2 (seconds column aside)"
echo "verdict (--jobs 2):"
sed -n '/^mnist_bn with and without/,/^wrote/p' "$WORK/jobs2.log"
