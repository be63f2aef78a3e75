#!/bin/sh
# mpi_build.sh: what `seqc build --mpi` finds, runs and links, in a
# relocated copy of seqc (PREFIX/bin/seqc beside PREFIX/lib/libseqrt.a and
# PREFIX/include/seqrt.h, which build_find_runtime finds first), so the
# test does not depend on whether this build tree has libseqrt_mpi.a.
#   mpi_build.sh SEQC SOURCE_DIR BUILD_DIR WORK_DIR CC    (absolute paths)
#  1. no libseqrt_mpi.a beside libseqrt.a: one error naming the directory,
#     exit 1, no output file (and none for a model with errors either);
#  2. with a libseqrt_mpi.a made here, whose seqrt_mpi_main prints a line
#     and hands over to libseqrt's seqrt_main: the build compiles with
#     -DSEQRT_MPI (main calls seqrt_mpi_main) and links libseqrt_mpi.a
#     before libseqrt.a (or seqrt_main would be missing), with $MPICC as
#     the compiler; the trainer runs and its --help is seqrt_main's;
#  3. without --mpi the same prefix builds the ordinary trainer;
#  4. with the real mpicc, when there is one: the same build links.
# The real libseqrt_mpi (MPI_Init, the ranks) is tested by the MPI tests.
set -eu
SEQC=$1 SRC=$2 BUILD=$3 WORK=$4 CC=$5
rm -rf "$WORK" && mkdir -p "$WORK/prefix/bin" "$WORK/prefix/lib" "$WORK/prefix/include"
fail() { echo "mpi_build: FAIL: $*" >&2; exit 1; }
P=$WORK/prefix
cp "$SEQC" "$P/bin/seqc"
cp "$SRC/runtime/include/seqrt.h" "$P/include/"
cp "$BUILD/libseqrt.a" "$P/lib/"
MODEL=$SRC/models/mnist_bn.seq
cd "$WORK"

# 1. no libseqrt_mpi.a
if MPICC=$CC "$P/bin/seqc" build "$MODEL" --mpi -o t1 > out1 2> err1; then
    fail "built without libseqrt_mpi.a"
fi
want="seqc: error: this seqc was built without MPI support (libseqrt_mpi.a not found in $P/lib): reconfigure with MPI installed (on Debian, apt-get install openmpi-bin libopenmpi-dev) and build again"
[ "$(cat err1)" = "$want" ] || fail "unexpected message: $(cat err1)"
[ ! -s out1 ] || fail "stdout not empty: $(cat out1)"
[ ! -e t1 ] || fail "t1 written"
printf 'model m {\n  input 4\n  dense 3; batchnorm sync=maybe; softmax\n}\n' > bad.seq
if MPICC=$CC "$P/bin/seqc" build bad.seq --mpi -o t1 2> err1b; then
    fail "built a bad model"
fi
[ ! -e t1 ] || fail "t1 written for a bad model"
echo "mpi_build: no libseqrt_mpi.a: one error, nothing written"

# 2. a libseqrt_mpi.a that calls into libseqrt
cat > fake_mpi.c <<'EOF'
#include <stdio.h>
#include "seqrt.h"
int seqrt_mpi_main(int argc, char **argv, const seqrt_model *model)
{
    puts("seqrt_mpi_main called");
    return seqrt_main(argc, argv, model);
}
EOF
"$CC" -std=c11 -I"$P/include" -c fake_mpi.c -o fake_mpi.o || fail "compile fake_mpi.c"
ar rcs "$P/lib/libseqrt_mpi.a" fake_mpi.o || fail "ar"
MPICC=$CC "$P/bin/seqc" build "$MODEL" --mpi -v -o t2 2> err2 || fail "seqc build --mpi: $(cat err2)"
cmd=$(head -n 1 err2)
case "$cmd" in
    "$CC "*" -DSEQRT_MPI "*" $P/lib/libseqrt_mpi.a $P/lib/libseqrt.a "*) ;;
    *) fail "unexpected command line: $cmd" ;;
esac
./t2 --help > help2 || fail "t2 --help"
[ "$(head -n 1 help2)" = "seqrt_mpi_main called" ] || fail "main did not call seqrt_mpi_main: $(head -n 3 help2)"
grep -q "Trainer for model 'mnist_bn'" help2 || fail "unexpected --help: $(cat help2)"
echo "mpi_build: --mpi: $cmd"

# 3. the ordinary trainer from the same prefix
"$P/bin/seqc" build "$MODEL" -o t3 || fail "seqc build"
./t3 --help > help3 || fail "t3 --help"
grep -q "seqrt_mpi_main" help3 && fail "the ordinary trainer calls seqrt_mpi_main"
grep -q "Trainer for model 'mnist_bn'" help3 || fail "unexpected --help: $(cat help3)"

# 4. the real MPI C compiler wrapper
if command -v mpicc > /dev/null 2>&1; then
    MPICC=mpicc "$P/bin/seqc" build "$MODEL" --mpi -o t4 || fail "seqc build --mpi with mpicc"
    ./t4 --help > help4 || fail "t4 --help"
    [ "$(head -n 1 help4)" = "seqrt_mpi_main called" ] || fail "t4: $(head -n 3 help4)"
    echo "mpi_build: mpicc builds it too"
else
    echo "mpi_build: no mpicc on PATH: step 4 not run"
fi
echo "mpi_build: ok"
