#!/bin/sh
# mpi_errors.sh SEQC SOURCE_DIR WORK_DIR MPIEXEC: what cannot be split over
# the ranks, and failures of one rank, end every rank with an error and
# never hang (each run has a 120 s timeout, exit 124):
#   - a batch smaller than the ranks, fewer training samples than ranks:
#     one clear error (from rank 0), exit 1;
#   - a data file that only rank 0 can read... is the same file here, so:
#     a missing data file gives the error once, not once per rank;
#   - a rank killed mid-training: mpirun ends the job with a non-zero
#     status and a message;
#   - without mpirun the MPI trainer is one process, the ordinary one;
#   - evaluate under mpirun runs on rank 0 alone.
set -u
SEQC=$1 SRC=$2 WORK=$3 MPIEXEC=$4
fail() { echo "mpi_errors.sh: FAIL: $*" >&2; exit 1; }
. "$SRC/tests/mpi/mpi_run.sh"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
D="--data $SRC/data/mnist-digits --threads 1 --quiet"
"$SEQC" build "$SRC/models/mnist_bn.seq" --mpi -o bn_mpi || fail "seqc build --mpi"

expect() { # expect STATUS PATTERN P ARGS...: exit status and one matching stderr line
    want=$1 pat=$2 p=$3; shift 3
    run_mpi "$p" ./bn_mpi "$@" > out.txt 2> err.txt
    st=$?
    [ "$st" -ne 124 ] || fail "$*: hung (timeout)"
    [ "$st" -eq "$want" ] || { cat err.txt; fail "$*: exit $st, expected $want"; }
    n=$(grep -c -- "$pat" err.txt)
    [ "$n" -eq 1 ] || { cat err.txt; fail "$*: '$pat' printed $n times"; }
    echo "$p ranks, $*: exit $st, $(grep -- "$pat" err.txt)"
}

expect 1 "a batch of 2 cannot be split over 3 ranks" 3 $D --batch 2
expect 1 "2 training samples cannot be split over 3 ranks" 3 $D --batch 3 --limit 2
expect 1 "nowhere" 2 --data "$WORK/nowhere" --quiet
expect 2 "unknown" 2 $D --no-such-flag

# a rank killed mid-training: the job fails, with a message, in bounded time
cat > die.sh <<'W'
#!/bin/sh
# rank 1 is killed (SIGKILL) a second into training
if [ "${OMPI_COMM_WORLD_RANK:-0}" = 1 ]; then exec timeout -s KILL 1 "$@"; fi
exec "$@"
W
chmod +x die.sh
run_mpi 2 ./die.sh ./bn_mpi $D --epochs 50 > out.txt 2> err.txt
st=$?
[ "$st" -ne 124 ] || fail "a killed rank left the job hanging"
[ "$st" -ne 0 ] || fail "a killed rank: exit 0"
[ -s err.txt ] || fail "a killed rank: no message"
grep -q 'rank 1' err.txt || { cat err.txt; fail "a killed rank: mpirun did not name it"; }
echo "rank 1 killed: mpirun exit $st: $(grep -m1 'rank 1' err.txt)"

# without mpirun an MPI trainer is one process (MPI's singleton start),
# and the same as the ordinary trainer
"$SEQC" build "$SRC/models/mnist_bn.seq" -o bn || fail "seqc build"
./bn $D --epochs 1 --save one.ck --history one.csv || fail "train one.ck"
./bn_mpi $D --epochs 1 --save single.ck --history single.csv || fail "bn_mpi without mpirun"
cmp one.ck single.ck || fail "bn_mpi without mpirun differs from the ordinary trainer"
echo "bn_mpi without mpirun: the ordinary trainer's checkpoint, byte for byte"

# evaluate: rank 0 alone
run_mpi 2 ./bn_mpi evaluate --data "$SRC/data/mnist-digits" --load one.ck > out.txt ||
    fail "evaluate under mpirun"
[ "$(grep -c '^val_loss: ' out.txt)" -eq 1 ] || { cat out.txt; fail "evaluate printed $(grep -c '^val_loss: ' out.txt) results"; }
echo "evaluate under mpirun -np 2: $(cat out.txt)"
echo "mpi_errors.sh: all passed"
