#!/usr/bin/python3
"""bench/peers/pytorch_mnist.py: seqc's MNIST-shaped recipes in PyTorch, the
peers seqc's trainers are timed against (bench/run.sh, bench/cnn.sh).

--model dense (the default; issue #6), the network of models/fashion_bn.seq:
  Flatten, Linear(784,128), BatchNorm1d(128), ReLU, Linear(128,64),
  BatchNorm1d(64), ReLU, Linear(64,10); BatchNormalization momentum 0.99 in
  Keras's sense, i.e. PyTorch momentum 0.01.
--model cnn (issue #13), the network of models/mnist_cnn_bn.seq:
  Conv2d(1,32,3,padding=1), BatchNorm2d(32), ReLU, MaxPool2d(2),
  Conv2d(32,64,3) (valid), BatchNorm2d(64), ReLU, MaxPool2d(2), Flatten,
  Linear(2304,10); batchnorm momentum 0.9 in Keras's sense (the model
  file's), i.e. PyTorch momentum 0.1. The images are [N, 1, 28, 28]
  (channels first) where seqc holds [N, 28, 28, 1]: Flatten orders the 2304
  features differently, a fixed permutation of the dense layer's inputs,
  the same network.
Either without the BatchNorm layers with --without batchnorm.
  Keras defaults: glorot_uniform weights (xavier_uniform_, whose fans for a
  [cout,cin,kh,kw] kernel are Keras's kh*kw*cin and kh*kw*cout) and zero
  biases; epsilon 1e-3; Adam lr 0.001, epsilon 1e-7; cross-entropy on the
  logits; batch 32; reshuffled every epoch with a seeded generator; oneDNN
  (torch.backends.mkldnn) on.

The IDX files (gzipped or not) are parsed with numpy and held in memory as
float32/255 tensors before any timing starts. Each epoch's training time
(shuffle, batches, forward, backward, update, running train metrics) is
measured alone; validation runs after it, untimed, in batches of 1000.

Writes a history CSV with the trainer's columns
  epoch,loss,accuracy,val_loss,val_accuracy,seconds
and prints one summary line:
  PEAK_RSS_KB=<ru_maxrss> TORCH=<version> THREADS=<n> MKLDNN=<on|off> OPENBLAS=<config>

Run it with Debian's /usr/bin/python3. The thread count is applied to
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS before torch is
imported, then to torch.set_num_threads.
"""

import argparse
import ctypes
import gzip
import os
import resource
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="directory with the IDX files")
    p.add_argument("--model", choices=["dense", "cnn"], default="dense")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--without", choices=["batchnorm"], default=None,
                   help="drop the BatchNorm layers")
    p.add_argument("--history", help="write the per-epoch history CSV here")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return p.parse_args()


args = parse_args()
# Thread counts must be in the environment before torch (and its OpenMP and
# BLAS libraries) load; otherwise they start one thread per core.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def open_idx(data_dir, stem):
    """Opens DIR/STEM.gz or DIR/STEM, whichever exists."""
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path, opener(path, "rb")
    sys.exit(f"pytorch_mnist: {os.path.join(data_dir, stem)}[.gz]: no such file")


def read_idx(data_dir, stem, magic):
    """Returns the IDX file's contents as a uint8 numpy array of its shape."""
    path, f = open_idx(data_dir, stem)
    with f:
        raw = f.read()
    got = int.from_bytes(raw[0:4], "big")
    if got != magic:
        sys.exit(f"pytorch_mnist: {path}: magic {got:#x}, expected {magic:#x}")
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def load(data_dir, split):
    images = read_idx(data_dir, f"{split}-images-idx3-ubyte", 0x803)
    labels = read_idx(data_dir, f"{split}-labels-idx1-ubyte", 0x801)
    if images.shape[0] != labels.shape[0]:
        sys.exit(f"pytorch_mnist: {split}: {images.shape[0]} images, {labels.shape[0]} labels")
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    if args.model == "cnn":
        x = x.unsqueeze(1)  # [N, 28, 28] -> [N, 1, 28, 28]: one channel, first
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def build_cnn(with_bn):
    def block(cin, cout, padding):
        layers = [nn.Conv2d(cin, cout, 3, padding=padding)]
        if with_bn:
            layers.append(nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1))
        return layers + [nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(1, 32, 1), *block(32, 64, 0),
                         nn.Flatten(), nn.Linear(64 * 6 * 6, 10))


def build_dense(with_bn):
    layers = [nn.Flatten()]
    sizes = [(784, 128), (128, 64)]
    for fan_in, fan_out in sizes:
        layers.append(nn.Linear(fan_in, fan_out))
        if with_bn:
            layers.append(nn.BatchNorm1d(fan_out, eps=1e-3, momentum=0.01))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(64, 10))
    return nn.Sequential(*layers)


def build_model(with_bn):
    model = (build_cnn if args.model == "cnn" else build_dense)(with_bn)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Keras glorot_uniform
            nn.init.zeros_(m.bias)
    return model


def openblas_config():
    """The config string of the OpenBLAS this process loaded, if any."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib.openblas_get_config().decode()
    except (OSError, AttributeError):
        return "none"


def evaluate(model, loss_fn, x, y):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, x.shape[0], 1000)])
        loss = loss_fn(logits, y).item()
        acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


def main():
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = True
    torch.manual_seed(args.seed)
    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")

    model = build_model(args.without != "batchnorm")
    opt = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    n, bs = x_train.shape[0], args.batch

    rows = []
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        loss_sum = torch.zeros(())
        correct = torch.zeros((), dtype=torch.int64)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * xb.shape[0]
                correct += (logits.argmax(1) == yb).sum()
        seconds = time.perf_counter() - t0
        train_loss, train_acc = loss_sum.item() / n, correct.item() / n
        val_loss, val_acc = evaluate(model, loss_fn, x_test, y_test)
        rows.append((epoch + 1, train_loss, train_acc, val_loss, val_acc, seconds))
        if not args.quiet:
            print(f"Epoch {epoch + 1}/{args.epochs} - {seconds:.3f}s - loss: {train_loss:.4f}"
                  f" - accuracy: {train_acc:.4f} - val_loss: {val_loss:.4f}"
                  f" - val_accuracy: {val_acc:.4f}", flush=True)

    if args.history:
        with open(args.history, "w") as f:
            f.write("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]:.6f},{r[2]:.6f},{r[3]:.6f},{r[4]:.6f},{r[5]:.6f}\n")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"PEAK_RSS_KB={peak_kb} TORCH={torch.__version__} THREADS={torch.get_num_threads()}"
          f" MKLDNN={'on' if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled else 'off'}"
          f" OPENBLAS={openblas_config()}")


if __name__ == "__main__":
    main()
