#!/usr/bin/python3
"""bench/peers/pytorch_recipe.py: the training recipe of bench/recipe.sh in
PyTorch, the peer of models/fashion_bn.seq trained with

  optimizer adam lr=LR weight_decay=WD     (AdamW, decoupled decay)
  schedule cosine                          (per epoch, T_max = epochs, eta_min 0)
  batch BATCH

Network: Flatten, Linear(784,128), BatchNorm1d(128), ReLU, Linear(128,64),
BatchNorm1d(64), ReLU, Linear(64,10); batchnorm momentum 0.99 in Keras's
sense (PyTorch 0.01), epsilon 1e-3; glorot_uniform weights, zero biases.
torch.optim.AdamW(betas (0.9, 0.999), eps 1e-7) decays the Linear weights
only: the biases and the BatchNorm weight and bias are a group with
weight_decay 0, as seqc excludes them by default. AdamW's decay is
p *= 1 - lr * wd, seqc's (Keras 3's) p -= lr * wd * p: the same.
torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs) is stepped after
each epoch, so epoch e (from 0) trains at lr * (1 + cos(pi e / epochs)) / 2,
seqc's cosine with min_lr 0 and no warmup. Cross-entropy on the logits;
reshuffled every epoch with a seeded generator.

Prints one line: FINAL test_loss=<x> test_accuracy=<y> (the t10k set after
the last epoch) and writes --history if given.
"""

import argparse
import gzip
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="directory with the IDX files")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--history")
    return p.parse_args()


args = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def read_idx(data_dir, stem, magic):
    for name, opener in ((stem + ".gz", gzip.open), (stem, open)):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            with opener(path, "rb") as f:
                raw = f.read()
            break
    else:
        sys.exit(f"pytorch_recipe: {os.path.join(data_dir, stem)}[.gz]: no such file")
    if int.from_bytes(raw[0:4], "big") != magic:
        sys.exit(f"pytorch_recipe: {path}: not an IDX file of magic {magic:#x}")
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(split):
    x = read_idx(args.data, f"{split}-images-idx3-ubyte", 0x803)
    y = read_idx(args.data, f"{split}-labels-idx1-ubyte", 0x801)
    return (torch.from_numpy(x.astype(np.float32) / 255.0),
            torch.from_numpy(y.astype(np.int64)))


def build():
    layers = [nn.Flatten()]
    for fan_in, fan_out in ((784, 128), (128, 64)):
        layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out, eps=1e-3, momentum=0.01),
                   nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(64, 10))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def evaluate(model, loss_fn, x, y):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, x.shape[0], 1000)])
        return loss_fn(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def main():
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train = load("train")
    x_test, y_test = load("t10k")
    model = build()
    decay = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": rest, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-7)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs, eta_min=0.0)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    n, bs = x_train.shape[0], args.batch
    rows = []
    for epoch in range(args.epochs):
        model.train()
        lr = opt.param_groups[0]["lr"]
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        sched.step()
        val_loss, val_acc = evaluate(model, loss_fn, x_test, y_test)
        rows.append((epoch + 1, val_loss, val_acc, lr))
    if args.history:
        with open(args.history, "w") as f:
            f.write("epoch,val_loss,val_accuracy,lr\n")
            for r in rows:
                f.write(f"{r[0]},{r[1]:.9g},{r[2]:.9g},{r[3]:.9g}\n")
    print(f"FINAL test_loss={rows[-1][1]:.9g} test_accuracy={rows[-1][2]:.9g}")


if __name__ == "__main__":
    main()
