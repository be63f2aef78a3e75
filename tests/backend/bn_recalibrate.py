#!/usr/bin/env python3
"""bn_recalibrate.py CKPT DATA_DIR SAMPLES BATCH UNITS

Checks --recalibrate-bn against an independent computation in NumPy
(float64): for the model `input 28x28; dense UNITS; batchnorm; relu;
dense 10; softmax`, the first batchnorm's moving mean and variance in
the checkpoint must be the plain average, over the batches of BATCH
samples of the first SAMPLES training images in file order (the last
one may be smaller), of each batch's mean and biased variance of the
layer's input x @ kernel + bias, computed here from the checkpoint's own
dense weights (recalibration does not change them).

The checkpoint layout is docs/checkpoint.md's (format version 4): magic,
version, name, source, four u64 counts, 136 bytes of run state (96 of
the run, 40 of the training recipe), then the
parameters as float32, trainable first in layer order (kernel [784,
UNITS], bias, gamma, beta, the second dense's kernel and bias), then the
moving mean and moving variance.
"""
import gzip
import struct
import sys

import numpy as np


def read_params(path):
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"SEQCKPT\0", "not a checkpoint"
    (version,) = struct.unpack_from("<I", b, 8)
    assert version == 4, f"checkpoint format {version}, this reader knows 4"
    off = 12
    for _ in range(2):  # name, source
        (n,) = struct.unpack_from("<I", b, off)
        off += 4 + n
    _, pcount, _, _ = struct.unpack_from("<4Q", b, off)
    off += 32 + 136
    return np.frombuffer(b, dtype="<f4", count=pcount, offset=off).astype(np.float64)


def read_images(data_dir, count):
    with gzip.open(f"{data_dir}/train-images-idx3-ubyte.gz", "rb") as f:
        b = f.read()
    magic, n, rows, cols = struct.unpack_from(">4I", b, 0)
    assert magic == 2051 and n >= count
    x = np.frombuffer(b, dtype=np.uint8, count=count * rows * cols, offset=16)
    return x.reshape(count, rows * cols).astype(np.float64) / 255.0


def main():
    ckpt, data_dir, samples, batch, units = sys.argv[1:6]
    samples, batch, units = int(samples), int(batch), int(units)
    p = read_params(ckpt)
    kernel = p[: 784 * units].reshape(784, units)
    bias = p[784 * units : 785 * units]
    trainable = 785 * units + 2 * units + units * 10 + 10
    moving_mean = p[trainable : trainable + units]
    moving_var = p[trainable + units : trainable + 2 * units]

    h = read_images(data_dir, samples) @ kernel + bias
    means, variances = [], []
    for start in range(0, samples, batch):
        part = h[start : start + batch]
        means.append(part.mean(axis=0))
        variances.append(part.var(axis=0))  # biased, as Keras
    want_mean = np.mean(means, axis=0)
    want_var = np.mean(variances, axis=0)

    # float32 sums over up to BATCH rows and a running average over the
    # batches: a few float32 ulps of the values' scale
    tol_mean = 1e-5 * (1 + np.abs(want_mean).max())
    tol_var = 1e-5 * (1 + np.abs(want_var).max())
    err_mean = np.abs(moving_mean - want_mean).max()
    err_var = np.abs(moving_var - want_var).max()
    print(f"recalibrated moving mean: max |diff| {err_mean:.3g} (tolerance {tol_mean:.3g}); "
          f"moving variance: {err_var:.3g} (tolerance {tol_var:.3g}); "
          f"{len(means)} batches")
    # a checkpoint whose statistics are the momentum-0.99 ones is far off
    if not (err_mean <= tol_mean and err_var <= tol_var):
        print("FAIL: the moving statistics are not the average of the batch statistics")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
