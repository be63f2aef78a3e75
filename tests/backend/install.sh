#!/bin/sh
# install.sh: the build line in the emitted C's header works as written
# after `cmake --install`.
#   install.sh BUILD_DIR SOURCE_DIR WORK_DIR
# Installs into a staging root (DESTDIR), points pkg-config at it
# (PKG_CONFIG_SYSROOT_DIR, PKG_CONFIG_PATH), emits mnist_bn as trainer.c
# with the installed seqc, runs the header's `cc ...` line through the
# shell, and runs the trainer's --help. Exits 77 (skipped) when the
# install has no seqrt.pc.
set -eu
BUILD=$1 SRC=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
fail() { echo "install: FAIL: $*" >&2; exit 1; }
DESTDIR="$WORK/root" cmake --install "$BUILD" > "$WORK/install.log" || fail "cmake --install"
pc=$(find "$WORK/root" -name seqrt.pc | head -n 1)
[ -n "$pc" ] || { echo "install: no seqrt.pc installed: skipped"; exit 77; }
seqc=$(find "$WORK/root" -path '*/bin/seqc' | head -n 1)
[ -n "$seqc" ] || fail "no bin/seqc installed"
cd "$WORK"
"$seqc" emit "$SRC/models/mnist_bn.seq" -o trainer.c || fail "installed seqc emit"
line=$(sed -n 's/^ \*   \(cc trainer\.c .*\)$/\1/p' trainer.c)
[ -n "$line" ] || fail "no build line in the header of trainer.c"
echo "install: $line"
PKG_CONFIG_SYSROOT_DIR="$WORK/root" PKG_CONFIG_PATH=$(dirname "$pc") sh -c "$line" ||
    fail "the header's build line failed"
./trainer --help > help.txt || fail "trainer --help"
grep -q "Trainer for model 'mnist_bn'" help.txt || fail "unexpected --help: $(cat help.txt)"
