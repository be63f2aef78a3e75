#!/bin/sh
# data_load.sh: loading a 60,000 x 784 float32 data set as .npz (stored and
# compressed) and as CSV, libseqrt against NumPy (np.load, np.loadtxt) on
# the same files, in one run. Needs the build (build/libseqrt_data.a) and
# Debian's python3-numpy. Writes its files to a scratch directory.
#   bench/data_load.sh [ROWS]
set -eu
ROWS=${1:-60000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cc -O2 -std=c11 -I"$SRC/runtime/include" "$SRC/bench/data_load.c" \
   "$SRC/build/libseqrt_data.a" -lzip -lz -o "$W/data_load"
/usr/bin/python3 - "$W" "$ROWS" <<'PY'
import sys, numpy as np
w, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.random((rows, 784), dtype=np.float32)
y = rng.integers(0, 10, rows)
np.savez(w + '/stored.npz', x_train=x, y_train=y)
np.savez_compressed(w + '/compressed.npz', x_train=x, y_train=y)
np.savetxt(w + '/data.csv', np.column_stack([x, y]), fmt='%.7g', delimiter=',',
           header=','.join(['p%d' % i for i in range(784)] + ['label']), comments='')
PY
ls -l "$W"
for f in stored.npz compressed.npz data.csv; do "$W/data_load" "$W/$f" 3; done
/usr/bin/python3 - "$W" <<'PY'
import sys, time, numpy as np
w = sys.argv[1]
def best(f, reps):
    t = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    return min(t)
for name in ('stored.npz', 'compressed.npz'):
    def load():
        with np.load(w + '/' + name) as z:
            z['x_train']; z['y_train']
    print('numpy.load %s: best of 3: %.3f s' % (name, best(load, 3)))
print('numpy.loadtxt data.csv: best of 1: %.3f s'
      % best(lambda: np.loadtxt(w + '/data.csv', delimiter=',', skiprows=1,
                                dtype=np.float32), 1))
PY
