# pytorch_conv.py: PyTorch's conv2d forward + backward at the two
# convolutions of issue #13's CNN at batch 32, the shapes
# bench/conv_paths.c times for libseqrt, on 1 and 2 threads.
# Run with Debian's /usr/bin/python3 (python3-torch):
#   /usr/bin/python3 bench/peers/pytorch_conv.py [BATCH]
# Prints the fastest and the median of REPS calls and the fastest's GFLOP/s
# (2*oh*ow*kh*kw*cin*cout*batch per forward, twice that for a backward
# with dx, once for the first layer's, which has no dx).
import sys
import time

import torch
import torch.nn.functional as F

REPS = 200
batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
layers = [  # name, (c, h, w), cout, kernel, padding, first
    ("conv1 28x28x1 -> 28x28x32 k3 same", (1, 28, 28), 32, 3, 1, True),
    ("conv2 14x14x32 -> 12x12x64 k3 valid", (32, 14, 14), 64, 3, 0, False),
]


def timed(fn):
    for _ in range(REPS // 10):
        fn()
    t = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    t.sort()
    return t[0], t[len(t) // 2]


print("torch %s, mkldnn %s, batch %d, fastest and median of %d calls"
      % (torch.__version__, torch.backends.mkldnn.is_available(), batch, REPS))
for threads in (1, 2):
    torch.set_num_threads(threads)
    print("%d thread%s" % (threads, "s" if threads > 1 else ""))
    total = total_flop = 0.0
    for name, (c, h, w), cout, k, pad, first in layers:
        g = torch.Generator().manual_seed(1)
        x = torch.rand(batch, c, h, w, generator=g, requires_grad=not first)
        wt = torch.rand(cout, c, k, k, generator=g, requires_grad=True)
        b = torch.rand(cout, generator=g, requires_grad=True)
        oh = h + 2 * pad - k + 1
        flop = 2.0 * oh * oh * k * k * c * cout * batch
        flop_b = flop if first else 2 * flop
        with torch.no_grad():
            tf, mf = timed(lambda: F.conv2d(x, wt, b, padding=pad))
        y = F.conv2d(x, wt, b, padding=pad)
        dy = torch.rand_like(y)
        inputs = [wt, b] if first else [x, wt, b]

        def backward():
            yy = F.conv2d(x, wt, b, padding=pad)
            torch.autograd.grad(yy, inputs, dy)

        tfb, mfb = timed(backward)  # forward and backward together
        tb = max(tfb - tf, 1e-9)
        print("  %s\n    forward            %7.3f ms (median %7.3f) %6.1f GFLOP/s"
              % (name, tf, mf, flop / tf / 1e6))
        print("    forward + backward %7.3f ms (median %7.3f) %6.1f GFLOP/s%s"
              % (tfb, mfb, (flop + flop_b) / tfb / 1e6, " (no dx)" if first else ""))
        total += tfb
        total_flop += flop + flop_b
    print("  both layers, forward + backward: %.3f ms, %.1f GFLOP/s" % (total, total_flop / total / 1e6))
