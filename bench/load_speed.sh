#!/bin/bash
# bench/load_speed.sh: how fast libseqrt reads NumPy archives and CSV files,
# against NumPy reading the same files in the same run (issue #11).
#
# Writes into a temporary folder an MNIST-sized data set, x_train float32
# (ROWS, COLS) and y_train uint8 (ROWS,) class numbers 0..9 (seeded; about 80%
# of the values 0, the others k/255 for a byte k, as pixels scaled to 0..1):
#   x.npz    np.savez             (stored)
#   xz.npz   np.savez_compressed  (deflate)
#   x.csv    a header row, COLS value columns, then `label`; each value the
#            shortest decimal that reads back as its float32
# then times, best and median of REPS loads of each (the page cache is warm
# for all: the files were just written):
#   numpy.load     np.load(F) and both arrays read (np.load alone is lazy)
#   numpy.loadtxt  np.loadtxt(F, delimiter=",", skiprows=1, dtype=float32)
#   seqrt          bench/load_data.c: seqrt_load_npz(F, "train", ...) and
#                  seqrt_load_csv(F, defaults, ...) from build/libseqrt_data.a
# and checks that both read the same numbers (the sums of x and of y).
#
#   bench/load_speed.sh [--rows N] [--cols N] [--reps N] [--build DIR]
#                       [--numpy-only] [--keep DIR]
# Debian's /usr/bin/python3 with python3-numpy runs the NumPy half.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROWS=60000
COLS=784
REPS=3
BUILD="$ROOT/build"
NUMPY_ONLY=
KEEP=
PY=/usr/bin/python3

say() { printf '%s\n' "$*"; }
# "sum_x=A sum_y=B" twice: equal within 1e-6 relative (the order of a sum
# of 47 million floats in double differs between NumPy and C)
same_sums() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        split(a, p, /[ =]/); split(b, q, /[ =]/)
        for (i = 2; i <= 4; i += 2) {
            d = p[i] - q[i]; if (d < 0) d = -d
            m = q[i] < 0 ? -q[i] : q[i]
            if (d > 1e-6 * m) exit 1
        }
    }'
}
die() { printf 'load_speed: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rows) ROWS=${2:?--rows needs a number}; shift 2 ;;
        --cols) COLS=${2:?--cols needs a number}; shift 2 ;;
        --reps) REPS=${2:?--reps needs a number}; shift 2 ;;
        --build) BUILD=${2:?--build needs a folder}; shift 2 ;;
        --numpy-only) NUMPY_ONLY=1; shift ;;
        --keep) KEEP=${2:?--keep needs a folder}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
done
for v in ROWS COLS REPS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v,,} must be a positive integer, not '${!v}'"
done
[ -x "$PY" ] || die "$PY not found: install python3-numpy (Debian)"

if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" || die "cannot create $KEEP"
    DIR=$(cd "$KEEP" && pwd)
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/seqc-load-speed.XXXXXX")
    trap 'rm -rf "$DIR"' EXIT
fi

# ------------------------------------------------------------ the files
say "== writing ${ROWS}x${COLS} float32 as .npz (stored, deflate) and .csv into $DIR"
"$PY" - "$DIR" "$ROWS" "$COLS" <<'EOF'
import os, sys, time
import numpy as np
out, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(11)
k = rng.integers(1, 256, size=(rows, cols)) * (rng.random((rows, cols)) < 0.2)
x = (k.astype(np.float32) / np.float32(255)).astype(np.float32)
y = rng.integers(0, 10, size=rows).astype(np.uint8)
np.savez(os.path.join(out, "x.npz"), x_train=x, y_train=y)
np.savez_compressed(os.path.join(out, "xz.npz"), x_train=x, y_train=y)
# x only takes the 256 values k/255: format each once, shortest float32 form
text = np.array([np.format_float_positional(np.float32(v), unique=True, trim="-")
                 for v in (np.arange(256, dtype=np.float32) / np.float32(255))], dtype=object)
labels = [str(int(v)) for v in y]
with open(os.path.join(out, "x.csv"), "w") as f:
    f.write(",".join([f"p{i}" for i in range(cols)] + ["label"]) + "\n")
    for r in range(rows):
        f.write(",".join(text[k[r]]) + "," + labels[r] + "\n")
for name in ("x.npz", "xz.npz", "x.csv"):
    print(f"  {name:7s} {os.path.getsize(os.path.join(out, name)) / 1e6:8.1f} MB")
sums = f"sum_x={x.sum(dtype=np.float64):.6e} sum_y={y.sum(dtype=np.float64):.6e}"
print(f"  {sums}")
with open(os.path.join(out, "sums"), "w") as f:
    f.write(sums + "\n")
EOF
SUMS=$(cat "$DIR/sums")

# ------------------------------------------------------------ NumPy
say "== NumPy $("$PY" -c 'import numpy; print(numpy.__version__)'), best and median of $REPS"
"$PY" - "$DIR" "$REPS" <<'EOF'
import os, sys, time
import numpy as np
out, reps = sys.argv[1], int(sys.argv[2])

def npz(path):
    with np.load(path) as z:
        return z["x_train"], z["y_train"]  # reading the members loads them

def txt(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    return a[:, :-1], a[:, -1]

for label, fn, name in (("numpy.load", npz, "x.npz"), ("numpy.load", npz, "xz.npz"),
                        ("numpy.loadtxt", txt, "x.csv")):
    path = os.path.join(out, name)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        x, y = fn(path)
        times.append(time.perf_counter() - t0)
        sx, sy = x.sum(dtype=np.float64), y.sum(dtype=np.float64)
        del x, y
    times.sort()
    sums = f"sum_x={sx:.6e} sum_y={sy:.6e}"
    print(f"  {label:14s} {name:7s} best {times[0]:8.3f} s  median {times[len(times) // 2]:8.3f} s  {sums}")
    want = [float(w.split("=")[1]) for w in open(os.path.join(out, "sums")).read().split()]
    if not all(abs(g - w) <= 1e-6 * abs(w) for g, w in zip((sx, sy), want)):
        sys.exit(f"load_speed: {name}: NumPy read back {sums}")
EOF

[ -n "$NUMPY_ONLY" ] && exit 0

# ------------------------------------------------------------ seqrt
# The loaders alone: libseqrt_data.a (libc, zlib and libzip; no BLAS).
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" >"$DIR/cmake.log" 2>&1 \
        || { tail -20 "$DIR/cmake.log" >&2; die "cmake configure failed"; }
fi
cmake --build "$BUILD" --parallel 2 --target seqrt_data >>"$DIR/cmake.log" 2>&1 \
    || { tail -30 "$DIR/cmake.log" >&2; die "could not build libseqrt_data"; }
# shellcheck disable=SC2046 # pkg-config prints several flags, split on purpose
cc -O2 -std=c11 -Wall -Wextra -I"$ROOT/runtime/include" -o "$DIR/load_data" \
    "$ROOT/bench/load_data.c" "$BUILD/libseqrt_data.a" \
    $(pkg-config --cflags --libs libzip zlib) -lm \
    || die "could not build bench/load_data.c"
say "== seqrt (bench/load_data.c), best and median of $REPS"
for f in npz:x.npz npz:xz.npz csv:x.csv; do
    kind=${f%%:*} name=${f#*:}
    line=$("$DIR/load_data" "$kind" "$DIR/$name" "$REPS") || die "seqrt could not load $name"
    best=$(sed -n 's/.*best_s=\([^ ]*\).*/\1/p' <<<"$line")
    median=$(sed -n 's/.*median_s=\([^ ]*\).*/\1/p' <<<"$line")
    sums=$(grep -o 'sum_x=[^ ]* sum_y=[^ ]*' <<<"$line")
    counts=$(grep -o 'count=[^ ]* sample_size=[^ ]* y_width=[^ ]*' <<<"$line")
    printf '  %-14s %-7s best %8.3f s  median %8.3f s  %s  (%s)\n' \
        "seqrt_load_$kind" "$name" "$best" "$median" "$sums" "$counts"
    same_sums "$sums" "$SUMS" || die "$name: seqrt read $sums, NumPy wrote $SUMS"
    [ "$counts" = "count=$ROWS sample_size=$COLS y_width=1" ] \
        || die "$name: seqrt read $counts, expected count=$ROWS sample_size=$COLS y_width=1"
done
