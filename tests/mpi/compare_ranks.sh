#!/bin/sh
# compare_ranks.sh SEQC SOURCE_DIR WORK_DIR MPIEXEC: `seqc compare --ranks P`
# measures synchronized against per-rank batchnorm (issue #16), on a
# slice of the embedded digits, mnist_bn against its copy with
# `batchnorm sync=false`:
#   1. a launcher that is not a program is an error before anything is
#      built or written;
#   2. --ranks 2: the runs go through mpiexec (the one CMake found, when
#      $MPIEXEC is unset), summary.json and report.md record 2 ranks, and
#      the two arms' histories differ for every seed (per-rank statistics
#      are not the whole batch's); the synchronized arm is one process's
#      run on the same global batch, within 1e-5 (training columns) and
#      1e-4 (validation; docs/scale-out.md says why); run again, two at a
#      time, every history is the same;
#   3. --ranks 1, and no --ranks: one process per run, where sync= makes no
#      difference: the two arms' histories are the same numbers, and the
#      same as each other's with and without --ranks 1;
#   4. as root without Open MPI's two variables, mpiexec refuses to run:
#      its reason reaches compare's stderr.
set -u
SEQC=$1 SRC=$2 WORK=$3 CONFIGURED_MPIEXEC=$4
fail() { echo "compare_ranks.sh: FAIL: $*" >&2; exit 1; }
. "$SRC/tests/mpi/mpi_run.sh"
unset MPIEXEC
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
MODEL=$SRC/models/mnist_bn.seq
DATA="--data $SRC/data/mnist-digits --limit 2000 --epochs 1 --seeds 2"
sed -e 's/batchnorm/batchnorm sync=false/' -e 's/model mnist_bn/model local/' "$MODEL" \
    > local.seq
[ "$(grep -c 'batchnorm sync=false' local.seq)" = 2 ] || fail "local.seq: no sync=false"

# 1. $MPIEXEC naming no program: exit 1 before anything is written
MPIEXEC=/nonexistent/mpiexec "$SEQC" compare "$MODEL" local.seq --ranks 2 $DATA -o never \
    > log0 2>&1
status=$?
cat log0
[ $status -eq 1 ] || fail "a missing \$MPIEXEC: exit $status, want 1"
grep -qF "\$MPIEXEC is '/nonexistent/mpiexec', which is not a program" log0 ||
    fail "a missing \$MPIEXEC: no error naming it"
[ -e never ] && fail "a missing \$MPIEXEC: the output folder was written"

# 2. two ranks
"$SEQC" compare "$MODEL" local.seq --ranks 2 $DATA -o r2 > log2 2>&1
status=$?
cat log2
[ $status -eq 0 ] || fail "--ranks 2 exited with $status"
jobs=$(( $(getconf _NPROCESSORS_ONLN) / 2 )); [ $jobs -ge 1 ] || jobs=1
grep -qF "4 runs, $jobs at a time, each on 2 MPI ranks of 1 thread ($CONFIGURED_MPIEXEC -np 2 " log2 ||
    fail "--ranks 2: not run with $CONFIGURED_MPIEXEC -np 2, $jobs at a time"
grep -qF '| MPI ranks per run | 2 | 2 |  |' r2/report.md || fail "report.md: no ranks row"
grep -qF '| batchnorm statistics | 2 synchronized | 2 per rank (sync=false) | **differs** |' \
    r2/report.md || fail "report.md: the batchnorm statistics are not marked as differing"
grep -qF 'the batch above is the global batch of every step, split over the 2 ranks (16 rows each)' \
    r2/report.md || fail "report.md: does not say the batch is split over the ranks"
python3 - r2 <<'PY' || fail "--ranks 2: summary.json or the histories are wrong"
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
assert [v["name"] for v in s["variants"]] == ["mnist_bn", "local"]
assert [v["settings"]["ranks"] for v in s["variants"]] == [2, 2], s["variants"]
assert [v["settings"]["batchnorm"] for v in s["variants"]] == \
    ["2 synchronized", "2 per rank (sync=false)"], s["variants"]
def rows(arm, seed):
    lines = open(f"{out}/runs/{arm}-seed{seed}.csv").read().split()
    return [[float(x) for x in l.split(",")[1:-1]] for l in lines[1:]]  # no epoch, no seconds
for seed in (42, 43):
    a, b = rows("mnist_bn", seed), rows("local", seed)
    assert len(a) == len(b) == 1
    rel = max(abs(x - y) / max(abs(x), 1e-3) for x, y in zip(a[0], b[0]))
    print(f"seed {seed}: synchronized against per-rank batchnorm, largest relative difference {rel:.3g}")
    assert rel > 1e-3, (a, b)
PY
# the synchronized arm, against one process on the same batch
"$SEQC" build "$MODEL" -o one || fail "seqc build"
for seed in 42 43; do
    ./one train --data "$SRC/data/mnist-digits" --limit 2000 --epochs 1 --seed $seed \
        --validation-split 0.1 --threads 1 --quiet --history one$seed.csv > /dev/null ||
        fail "one process, seed $seed"
    echo "seed $seed, 2 ranks (synchronized batchnorm) against one process:"
    close one$seed.csv r2/runs/mnist_bn-seed$seed.csv 1e-5 1e-4 ||
        fail "seed $seed: the synchronized arm is not one process's run"
done

# the same again, two runs at a time (two mpiexec side by side): the same
# histories, bit for bit but for the seconds
"$SEQC" compare "$MODEL" local.seq --ranks 2 --jobs 2 $DATA -o r2j > log2j 2>&1 ||
    { cat log2j; fail "--ranks 2 --jobs 2 failed"; }
grep -qF "4 runs, 2 at a time, each on 2 MPI ranks" log2j || fail "--jobs 2 not taken"
for f in r2/runs/*.csv; do
    [ "$(cut -d, -f1-5 "$f")" = "$(cut -d, -f1-5 "r2j/runs/${f##*/}")" ] ||
        fail "${f##*/}: another --ranks 2 compare gave another history"
done

# 3. one process per run: sync= changes nothing
"$SEQC" compare "$MODEL" local.seq --ranks 1 $DATA -o r1 > log1 2>&1 ||
    { cat log1; fail "--ranks 1 failed"; }
"$SEQC" compare "$MODEL" local.seq $DATA -o plain > logp 2>&1 ||
    { cat logp; fail "compare without --ranks failed"; }
grep -q 'MPI ranks' r1/report.md && fail "--ranks 1: report.md has a ranks row"
grep -q '"ranks": 1}' r1/summary.json || fail "--ranks 1: summary.json does not say 1"
grep -q 'MPI' log1 && fail "--ranks 1: the runs went through MPI"
for seed in 42 43; do
    for d in r1 plain; do
        [ "$(cut -d, -f1-5 $d/runs/mnist_bn-seed$seed.csv)" = \
          "$(cut -d, -f1-5 $d/runs/local-seed$seed.csv)" ] ||
            fail "$d, seed $seed: sync=false changed one process's history"
    done
    [ "$(cut -d, -f1-5 r1/runs/local-seed$seed.csv)" = \
      "$(cut -d, -f1-5 plain/runs/local-seed$seed.csv)" ] ||
        fail "seed $seed: --ranks 1 and no --ranks differ"
done
echo "one process: the two arms' histories are the same numbers"

# 4. root without the variables: mpiexec's refusal reaches the user
if [ "$(id -u)" = 0 ]; then
    env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
        "$SEQC" compare "$MODEL" local.seq --ranks 2 --data "$SRC/data/mnist-digits" \
        --limit 300 --epochs 1 --seeds 1 -o root > logr 2>&1
    status=$?
    cat logr
    [ $status -eq 1 ] || fail "as root: exit $status, want 1"
    grep -q 'training mnist_bn, seed 42 failed' logr || fail "as root: the failed run is not named"
    grep -q 'attempt to run as root' logr || fail "as root: mpiexec's reason is not shown"
    grep -q 'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1' logr || fail "as root: the way out is not shown"
fi
echo "ok"
