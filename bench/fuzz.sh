#!/bin/sh
# Long fuzzing runs of the libFuzzer targets in tests/fuzz (the CTest label
# `fuzz` runs each for a few seconds; this runs them for as long as asked).
#
#   bench/fuzz.sh SECONDS [JOBS] [TARGET...]
#
# SECONDS per target (one after another), JOBS parallel fuzzing processes
# per target (libFuzzer's -fork; default 1), TARGETs among pipeline, idx,
# csv, npz, npy, checkpoint (default all). Builds the targets in build-asan/ (clang,
# -DSEQC_SANITIZE=address,undefined: the configuration scripts/test.sh
# uses); the corpus each run finds is kept in build-asan/tests/fuzz/corpus/
# and the next run starts from it. A crash, a leak, a sanitizer report,
# an out-of-memory (over 2 GB) or a timeout (over 10 s) is saved as an
# input under build-asan/fuzz-report/ with the report it gives; the run
# goes on. Prints, per target: executions, coverage (libFuzzer's cov:
# edges, ft: features), corpus size and the failures found.
# Example: nice -n 19 bench/fuzz.sh 600 1      (10 minutes per target)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '4,17p' "$0"; exit 2; }
SECONDS_PER=$1; shift
JOBS=1
if [ $# -ge 1 ]; then JOBS=$1; shift; fi
TARGETS=${*:-pipeline idx csv npz npy checkpoint}
BUILD=${SEQC_FUZZ_BUILD:-$ROOT/build-asan}
command -v clang >/dev/null 2>&1 ||
    { echo "bench/fuzz.sh: needs clang and libFuzzer (apt-get install clang libfuzzer-14-dev)" >&2; exit 1; }

CC=clang cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSEQC_SANITIZE=address,undefined >/dev/null
grep -q '^SEQC_HAVE_LIBFUZZER:INTERNAL=1' "$BUILD/CMakeCache.txt" ||
    { echo "bench/fuzz.sh: $BUILD does not link libFuzzer (configured with another compiler?)" >&2; exit 1; }
set --
for t in $TARGETS; do set -- "$@" "fuzz_$t"; done
cmake --build "$BUILD" --parallel "$(nproc 2>/dev/null || echo 2)" --target "$@" >/dev/null

REPORT=$BUILD/fuzz-report
mkdir -p "$REPORT"
FUZZ=$BUILD/tests/fuzz
SRC=$ROOT/tests/fuzz
printf '%-11s %7s %11s %7s %7s %7s %s\n' target seconds executions cov ft corpus "crash/oom/timeout"
for t in $TARGETS; do
    dict=$t.dict; [ "$t" = pipeline ] && dict=seq.dict
    mkdir -p "$FUZZ/corpus/$t"
    set -- "$FUZZ/corpus/$t" "$SRC/corpus/$t"
    [ -d "$SRC/regressions/$t" ] && set -- "$@" "$SRC/regressions/$t"
    log=$REPORT/$t.log
    start=$(date +%s)
    ASAN_OPTIONS=allocator_may_return_null=1 "$FUZZ/fuzz_$t" -max_total_time="$SECONDS_PER" \
        -fork="$JOBS" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -rss_limit_mb=2048 -timeout=10 -close_fd_mask=3 -dict="$SRC/dict/$dict" \
        -artifact_prefix="$REPORT/$t-" "$@" > "$log" 2>&1 || true
    secs=$(( $(date +%s) - start ))
    # last status line: "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: O/T/X ..."
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1)
    execs=$(echo "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    fails=$(echo "$last" | sed -n 's/.*oom\/timeout\/crash: \([0-9\/]*\).*/\1/p')
    printf '%-11s %7s %11s %7s %7s %7s %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "${fails:-?}"
    # each saved input again, alone, for its report
    for a in "$REPORT/$t-"crash-* "$REPORT/$t-"leak-* "$REPORT/$t-"oom-* "$REPORT/$t-"timeout-*; do
        [ -f "$a" ] || continue
        case "$a" in *.txt) continue ;; esac
        [ -f "$a.txt" ] || ASAN_OPTIONS=allocator_may_return_null=1 "$FUZZ/fuzz_$t" \
            -rss_limit_mb=2048 -timeout=10 "$a" > "$a.txt" 2>&1 || true
        echo "  $a: $(grep -m1 -E 'ERROR|SUMMARY|runtime error' "$a.txt" || echo 'see the .txt')"
    done
done
echo "logs, failing inputs and their reports: $REPORT"
