#!/bin/sh
# kill9.sh TRAINER DATA_DIR WORK_DIR: a trainer that saves a checkpoint and
# a history after every epoch is killed with SIGKILL at random moments
# (KILLS times, default 30), each run resuming from the checkpoint the
# last one left. After every kill the checkpoint must load (evaluate
# --load: checksum and every field), and temporary files must not pile
# up: at most the killed run's own two (checkpoint and history), which
# the next run removes.
set -u
TRAINER=$1 DATA=$2 WORK=$3
KILLS=${KILLS:-30}
fail() { echo "kill9.sh: FAIL: $*" >&2; exit 1; }

rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || fail "cannot make $WORK"
COMMON="--data $DATA --limit 1000 --threads 1 --quiet"
"$TRAINER" $COMMON --epochs 1 --save k.ck --history k.csv || fail "first run"

# every file besides the run's own outputs is a temporary left behind
temporaries() { ls -A | grep -cvx -e k.ck -e k.csv -e run.err -e eval.err; }
i=0 mid_write=0
while [ "$i" -lt "$KILLS" ]; do
    "$TRAINER" $COMMON --epochs 1000000 --resume k.ck --save k.ck --history k.csv \
        >/dev/null 2>run.err &
    pid=$!
    # 20 to 199 ms: an epoch and its checkpoint take a few ms here, so the
    # kills land in training, in writing and between the two
    ms=$(( $(od -An -N2 -tu2 /dev/urandom) % 180 + 20 ))
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    n=$(temporaries)
    [ "$n" -gt 0 ] && mid_write=$((mid_write + 1))
    [ "$n" -le 2 ] || fail "after kill $i: $n temporary files ($(ls -A | tr '\n' ' '))"
    "$TRAINER" evaluate --data "$DATA" --limit 100 --load k.ck >/dev/null 2>eval.err ||
        fail "after kill $i the checkpoint does not load: $(cat eval.err)"
    i=$((i + 1))
done
# the next run clears whatever the last killed one left
"$TRAINER" $COMMON --epochs 1 --save k.ck --history k.csv || fail "run after the kills"
[ "$(temporaries)" -eq 0 ] || fail "temporaries left after a clean run: $(ls -A | tr '\n' ' ')"
echo "kill9.sh: $KILLS kills ($mid_write left a temporary file behind); the checkpoint always loaded"
