#!/usr/bin/env python3
"""compare.py: an exported model's outputs against the trainer's predictions.

  compare.py inputs  DATA INPUT_SIZE LIMIT X.bin
      writes the check inputs as float32, the way the trainer feeds them:
      IDX bytes / 255 (a directory's t10k set) or a CSV's input columns
      (the target, the last column, dropped when there is one too many);
      prints the number of samples.
  compare.py outputs WHAT PRED.csv Y.bin OUTPUT_SIZE
      compares Y.bin (float32 rows) with the trainer's `predict --output`
      file: classifiers must agree on >= 99.9% of the classes (1,998 of
      2,000), and every probability or value within 1e-4 (relative for
      values larger than 1); prints both numbers.
"""
import gzip
import struct
import sys

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    assert magic >> 8 == 0x08, "only ubyte images"
    return np.frombuffer(data[4 + 4 * ndims:], dtype=np.uint8).reshape(dims)


def inputs(data, input_size, limit, out):
    import os
    if os.path.isdir(data):
        x = read_idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"))
        x = x.reshape(x.shape[0], -1).astype(np.float32) * np.float32(1.0 / 255.0)
    else:
        x = np.loadtxt(data, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
        if x.shape[1] == input_size + 1:
            x = x[:, :-1]
        x = x.astype(np.float32)
    assert x.shape[1] == input_size, f"{data}: {x.shape[1]} inputs, not {input_size}"
    if limit > 0:
        x = x[:limit]
    np.ascontiguousarray(x, dtype=np.float32).tofile(out)
    print(x.shape[0])


def outputs(what, pred, ybin, output_size):
    with open(pred) as f:
        header = f.readline().strip().split(",")
    p = np.loadtxt(pred, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    classifier = header[0] == "class"
    if classifier:
        p = p[:, 1:]
    y = np.fromfile(ybin, dtype=np.float32).astype(np.float64).reshape(-1, output_size)
    assert y.shape == p.shape, f"{what}: {y.shape} outputs, the trainer {p.shape}"
    diff = np.abs(y - p) / np.maximum(1.0, np.abs(p))
    worst = float(diff.max())
    n = y.shape[0]
    line = f"{what}: {n} samples, worst difference {worst:.3g}"
    ok = worst <= 1e-4
    if classifier or header[0].startswith("probability"):
        if output_size == 1:
            same = int(np.sum((y[:, 0] >= 0.5) == (p[:, 0] >= 0.5)))
        else:
            same = int(np.sum(np.argmax(y, axis=1) == np.argmax(p, axis=1)))
        line += f", {same} of {n} identical classes"
        ok = ok and same >= 0.999 * n
    print(line)
    if not ok:
        print(f"{what}: FAIL: the export disagrees with the trainer's predictions",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "outputs":
        outputs(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(f"compare.py: unknown mode {sys.argv[1]}")
