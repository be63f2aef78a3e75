#!/bin/sh
# trainer_threads.sh: a generated trainer on 2 threads (the thread pool,
# the threaded dense kernels and Adam), as the ThreadSanitizer stage of
# scripts/test.sh runs it: builds mnist_bn, trains one epoch on 2,000
# digits twice with --threads 2, and checks that both runs finish and
# give the same history (a race would show as a report or as a difference).
#   trainer_threads.sh SEQC SOURCE_DIR WORK_DIR
set -eu
SEQC=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "trainer_threads: FAIL: $*" >&2; exit 1; }
"$SEQC" build "$SRC/models/mnist_bn.seq" -o "$WORK/mnist_bn" || fail "seqc build"
for run in a b; do
    "$WORK/mnist_bn" --data "$SRC/data/mnist-digits" --epochs 1 --limit 2000 \
        --threads 2 --quiet --history "$WORK/$run.csv" || fail "training run $run"
done
[ "$(wc -l < "$WORK/a.csv")" -eq 2 ] || fail "expected one epoch in $WORK/a.csv"
cut -d, -f1-5 "$WORK/a.csv" > "$WORK/a.cols"
cut -d, -f1-5 "$WORK/b.csv" > "$WORK/b.cols"
cmp -s "$WORK/a.cols" "$WORK/b.cols" || fail "two runs on 2 threads differ"
echo "2 threads: two runs, same history: $(tail -n 1 "$WORK/a.csv")"
