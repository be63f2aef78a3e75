#!/bin/sh
# install.sh: libseqrt consumed as an installed C library.
#   install.sh BUILD_DIR SOURCE_DIR WORK_DIR CC
# 1. cmake --install into WORK/prefix: seqc, libseqrt.a, seqrt.h, seqrt.pc,
#    the CMake package, the docs;
# 2. an emitted trainer compiles with cc t.c $(pkg-config --cflags --libs seqrt)
#    and runs (one short epoch);
# 3. a CMake project with find_package(seqrt) and seqrt::seqrt builds it;
# 4. seqc --help names the installed docs, which are there;
# 5. with MPI, the installed seqc build --mpi (below).
set -eu
BUILD=$1 SRC=$2 WORK=$3 CC=$4
PREFIX=$WORK/prefix
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "install: FAIL: $*" >&2; exit 1; }

cmake --install "$BUILD" --prefix "$PREFIX" > "$WORK/install.log" || fail "cmake --install"
PC=$(find "$PREFIX" -name seqrt.pc) && [ -n "$PC" ] || fail "no seqrt.pc installed"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$PC")
VERSION=$("$PREFIX/bin/seqc" --version | sed 's/^seqc //')
[ "$(pkg-config --modversion seqrt)" = "$VERSION" ] ||
    fail "seqrt.pc version $(pkg-config --modversion seqrt), seqc --version $VERSION"

"$PREFIX/bin/seqc" emit "$SRC/models/mnist_bn.seq" -o "$WORK/t.c" || fail "seqc emit"
# shellcheck disable=SC2046
"$CC" -std=c11 -O2 "$WORK/t.c" -o "$WORK/t_pc" $(pkg-config --cflags --libs seqrt) ||
    fail "cc t.c \$(pkg-config --cflags --libs seqrt)"
"$WORK/t_pc" --data "$SRC/data/mnist-digits" --epochs 1 --limit 500 --threads 1 --quiet \
    --history "$WORK/pc.csv" || fail "the pkg-config trainer did not train"
[ "$(wc -l < "$WORK/pc.csv")" -eq 2 ] || fail "the pkg-config trainer wrote no epoch"
echo "pkg-config: $(pkg-config --cflags --libs seqrt)"

mkdir -p "$WORK/proj"
cp "$WORK/t.c" "$WORK/proj/t.c"
cat > "$WORK/proj/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(uses_seqrt C)
find_package(seqrt 0.1 REQUIRED)
add_executable(t t.c)
target_link_libraries(t PRIVATE seqrt::seqrt)
CMAKE
cmake -S "$WORK/proj" -B "$WORK/proj/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
      -DCMAKE_C_COMPILER="$CC" > "$WORK/proj.log" || { cat "$WORK/proj.log"; fail "find_package(seqrt)"; }
cmake --build "$WORK/proj/build" >> "$WORK/proj.log" || { cat "$WORK/proj.log"; fail "building with seqrt::seqrt"; }
"$WORK/proj/build/t" --data "$SRC/data/mnist-digits" --epochs 1 --limit 500 --threads 1 --quiet ||
    fail "the find_package trainer did not train"
echo "find_package(seqrt): built and trained"

[ -f "$PREFIX/share/doc/seqc/language.md" ] || fail "docs not installed under share/doc/seqc"
"$PREFIX/bin/seqc" --help | grep -q "share/doc/seqc/language.md" ||
    fail "seqc --help does not name the installed docs"
echo "docs: $PREFIX/share/doc/seqc"

# 5. with MPI (libseqrt_mpi.a installed beside libseqrt.a when CMake found
#    MPI): the installed seqc builds an MPI trainer, which trains as one
#    process when started without mpirun
if [ -n "$(find "$PREFIX" -name libseqrt_mpi.a)" ]; then
    "$PREFIX/bin/seqc" build "$SRC/models/mnist_bn.seq" --mpi -o "$WORK/t_mpi" ||
        fail "the installed seqc build --mpi"
    "$WORK/t_mpi" --data "$SRC/data/mnist-digits" --epochs 1 --limit 500 --threads 1 --quiet \
        --history "$WORK/mpi.csv" || fail "the installed MPI trainer did not train"
    [ "$(wc -l < "$WORK/mpi.csv")" -eq 2 ] || fail "the installed MPI trainer wrote no epoch"
    echo "seqc build --mpi: libseqrt_mpi.a installed, built and trained"
fi
