#!/bin/sh
# io_safety.sh: seqc's inputs and outputs under hostile paths, in a scratch
# folder. Outputs never destroy inputs (the model file, also through a
# symbolic or a hard link, a model file without .seq, compare's folder);
# a bad output path is refused before any work; model inputs are read
# with a size limit (a 65 MiB file, a FIFO that goes on, a directory);
# diagnostics on a 10 MB one-line model stay small.
#   usage: io_safety.sh SEQC SOURCE_DIR WORK_DIR
set -u
SEQC=$1 SRC=$2 WORK=$3
DATA=$SRC/data/mnist-digits
failed=0

rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
cp "$SRC/models/mnist_bn.seq" m.seq || exit 1
cp m.seq pristine
cp m.seq noext
ln -s m.seq sym.seq
ln m.seq hard.seq
mkdir outdir

fail() { echo "FAIL: $*"; [ -f log ] && sed 's/^/    /' log | head -20; failed=1; }

# expect STATUS MESSAGE -- ARGS...: seqc ARGS exits STATUS and says MESSAGE
# (an empty MESSAGE: says nothing)
expect() {
    want_status=$1 want_msg=$2
    shift 3
    "$SEQC" "$@" >log 2>&1
    status=$?
    if [ $status -ne "$want_status" ]; then
        fail "seqc $*: exit $status, want $want_status"
    elif [ -z "$want_msg" ] && [ -s log ]; then
        fail "seqc $*: printed something"
    elif [ -n "$want_msg" ] && ! grep -qF -- "$want_msg" log; then
        fail "seqc $*: no '$want_msg' in the output"
    elif grep -q 'bug in seqc' log; then
        fail "seqc $*: blames a bug in seqc"
    else
        echo "ok: seqc $*"
    fi
}

# every model file and link is still the model, byte for byte, and a link
intact() {
    for f in m.seq sym.seq hard.seq noext; do
        cmp -s "$f" pristine || fail "$1 changed $f"
    done
    [ -L sym.seq ] || fail "$1 replaced the link sym.seq"
}

# outputs that are the input
expect 1 "cannot write m.seq: it is the input m.seq" -- build m.seq -o m.seq
expect 1 "cannot write m.seq: it is the input m.seq" -- emit m.seq -o m.seq
expect 1 "cannot write sym.seq: it is the input m.seq" -- emit m.seq -o sym.seq
expect 1 "cannot write hard.seq: it is the input m.seq" -- build m.seq -o hard.seq
expect 1 "cannot write m.seq: it is the input sym.seq" -- emit sym.seq -o m.seq
expect 1 "cannot write noext: it is the input noext" -- build noext
expect 1 "cannot write noext: it is the input noext" -- emit noext -o noext
intact "build/emit"

# output paths that cannot be written, refused before any work: the model
# has an error too, and the output's is the one reported
printf 'model bad {\n  input 4\n  dense 0\n}\n' >bad.seq
expect 1 "cannot write /nonexistent/x: the directory /nonexistent does not exist" -- \
    build bad.seq -o /nonexistent/x
expect 1 "cannot write outdir: it is a directory" -- build bad.seq -o outdir
expect 1 "cannot write outdir/: it names a directory" -- emit bad.seq -o outdir/
expect 1 "cannot write m.seq/x: m.seq is not a directory" -- emit bad.seq -o m.seq/x
grep -q 'units must be at least 1' log && fail "the model was compiled before the output was checked"
[ -z "$(ls outdir)" ] || fail "something was written into outdir"
ls ./*.tmp.* >/dev/null 2>&1 && fail "a temporary file was left"

# compare: its folder and the files in it are checked before building
mkdir cmp
ln -s ../m.seq cmp/report.md
expect 1 "cannot write into m.seq: it is not a folder" -- \
    compare m.seq --without batchnorm --data "$DATA" -o m.seq
expect 1 "cannot write cmp/report.md: it is the input m.seq" -- \
    compare m.seq --without batchnorm --data "$DATA" -o cmp
[ -e cmp/trainers ] && fail "compare built before it checked its outputs"
intact "compare"

# bounded input: a file over 64 MiB, a directory, a FIFO that goes on past
# the limit are refused; a FIFO holding a model is read
truncate -s 65M big.seq
expect 1 "big.seq: error: larger than 64 MiB" -- check big.seq
expect 1 "outdir: error: is a directory" -- check outdir
mkfifo fifo.seq
(yes 'model m { input 4; dense 2 }' | head -c 70000000 >fifo.seq) 2>/dev/null &
expect 1 "fifo.seq: error: larger than 64 MiB" -- check fifo.seq
wait
cat m.seq >fifo.seq &
expect 0 "" -- check fifo.seq
wait

# bounded diagnostics: a 10 MB model on one line with an error every few
# bytes gives a few kilobytes of stderr, not gigabytes
awk 'BEGIN { printf "model m { input 4; "; for (i = 0; i < 1100000; i++) printf "dense 0; "; print "}" }' \
    >oneline.seq
"$SEQC" check oneline.seq >/dev/null 2>err.txt
status=$?
size=$(wc -c <err.txt)
if [ $status -ne 1 ] || [ "$size" -gt 20000 ] || ! grep -q 'too many errors (more than 20)' err.txt; then
    fail "check oneline.seq: exit $status, $size bytes of stderr"
else
    echo "ok: check oneline.seq: $size bytes of stderr"
fi

# build's program goes through the same writer as every output: a symlink
# is written through (the link stays a link), a new program is executable,
# nothing is left beside the output
mkdir bin && : >bin/real && ln -s real bin/link
expect 0 "" -- build m.seq -o bin/link
if [ ! -L bin/link ] || [ ! -x bin/real ] || ! bin/link --help >/dev/null 2>&1; then
    fail "build -o bin/link: the link was replaced or the program does not run"
elif [ "$(ls bin)" != "$(printf 'link\nreal')" ]; then
    fail "build -o bin/link: left $(ls bin | tr '\n' ' ')"
else
    echo "ok: build -o symlink writes through"
fi
expect 0 "" -- build m.seq -o bin/new
[ -x bin/new ] || fail "build -o bin/new: not executable"

[ $failed -eq 0 ] && echo "all io_safety checks passed"
exit $failed
