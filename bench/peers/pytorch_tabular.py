#!/usr/bin/python3
"""bench/peers/pytorch_tabular.py: the recipes of models/breast_cancer.seq,
models/diabetes.seq and models/digits8x8.seq in PyTorch, the reference
seqc's trainers are measured against on the shipped data sets (issue #11).

Each recipe is the model file's, written the way Keras runs it:
  breast_cancer  Normalization, Linear(30,16), ReLU, Linear(16,1), Sigmoid;
                 binary cross-entropy on the sigmoid's output (clipped to
                 [1e-7, 1-1e-7] as Keras does); Adam lr 0.001; 50 epochs;
                 validation_split 0.2; metrics accuracy (p > 0.5) and AUC
  diabetes       Normalization, Linear(10,32), ReLU, Linear(32,1); mean
                 squared error; Adam lr 0.01; 100 epochs; metrics mae, rmse
  digits8x8      x * 0.0625, Flatten, Linear(64,64), ReLU, Linear(64,10),
                 Softmax; sparse categorical cross-entropy; Adam lr 0.001;
                 30 epochs; metrics accuracy
and, for all three: batch 32, the training samples reshuffled every epoch
by a generator seeded with the seed; Keras's initializers (glorot_uniform
weights, xavier_uniform_, and zero biases); Adam with Keras's epsilon 1e-7.

Normalization is Keras's Normalization layer adapted on the training
inputs, the samples the model trains on (after the validation split):
per feature mean and variance (the biased one, as Keras), then
(x - mean) / max(sqrt(var), 1e-7). validation_split F holds out the
samples from floor(N * (1 - F)) on, as stored, before any shuffle
(Keras's rule). The test set is evaluated once, after the
last epoch.

Reads DATA_DIR/NAME/NAME.npz (scripts/make-datasets.py writes them).
Prints a Markdown table of the test metrics over the seeds (mean and
sample standard deviation), and with --verbose one line per seed with the
last epoch's validation numbers too. --epochs, --lr and
--validation-split override a recipe's (to choose a recipe by its
validation numbers, never by the test set's). --adam keras swaps
torch.optim.Adam for Keras's form of the update (the one libseqrt uses).

  /usr/bin/python3 bench/peers/pytorch_tabular.py --data-dir data [--seeds 5]
"""

import argparse
import math
import os
import sys
import time

RECIPES = {
    "breast_cancer": dict(normalize=True, rescale=None, hidden=16, outputs=1,
                          loss="binary_crossentropy", metrics=("accuracy", "auc"),
                          lr=0.001, epochs=50, batch=32, validation_split=0.2),
    "diabetes": dict(normalize=True, rescale=None, hidden=32, outputs=1,
                     loss="mse", metrics=("mse", "mae", "rmse"),
                     lr=0.01, epochs=100, batch=32, validation_split=0.0),
    "digits8x8": dict(normalize=False, rescale=0.0625, hidden=64, outputs=10,
                      loss="sparse_categorical_crossentropy", metrics=("accuracy",),
                      lr=0.001, epochs=30, batch=32, validation_split=0.0),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default="data",
                   help="folder holding NAME/NAME.npz (default: data)")
    p.add_argument("--only", choices=sorted(RECIPES), action="append",
                   help="run only this recipe (repeatable)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--lr", type=float, help="override the recipe's learning rate")
    p.add_argument("--validation-split", type=float,
                   help="override the recipe's validation_split (0: none)")
    p.add_argument("--adam", choices=("torch", "keras"), default="torch",
                   help="torch: torch.optim.Adam (eps added to sqrt(v_hat)); "
                        "keras: Keras's update, eps added to sqrt(v) and the bias "
                        "corrections folded into the step size, as libseqrt does")
    p.add_argument("--verbose", action="store_true",
                   help="one line per seed, with the validation numbers")
    return p.parse_args()


args = parse_args()
# Thread counts must be in the environment before torch loads.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


class Normalization(nn.Module):
    """Keras's Normalization after adapt(): fixed per-feature statistics."""

    def __init__(self, x):
        super().__init__()
        x64 = x.to(torch.float64)
        mean = x64.mean(0)
        var = x64.var(0, unbiased=False)
        self.register_buffer("mean", mean.to(torch.float32))
        self.register_buffer("std", torch.clamp(var.sqrt(), min=1e-7).to(torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


class Rescale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


def load(data_dir, name):
    path = os.path.join(data_dir, name, name + ".npz")
    if not os.path.exists(path):
        sys.exit(f"pytorch_tabular: {path}: no such file (scripts/make-datasets.py writes it)")
    with np.load(path, allow_pickle=False) as z:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            if key not in z.files:
                sys.exit(f"pytorch_tabular: {path}: no array {key}")
        arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    for k in ("x_train", "x_test"):
        arrays[k] = torch.from_numpy(arrays[k].reshape(arrays[k].shape[0], -1).astype(np.float32))
    return path, arrays


def targets(recipe, y):
    if recipe["loss"] == "sparse_categorical_crossentropy":
        return torch.from_numpy(y.astype(np.int64))
    return torch.from_numpy(y.astype(np.float32).reshape(len(y), -1))


def build(recipe, x_adapt):
    inputs = x_adapt.shape[1]
    layers = []
    if recipe["rescale"] is not None:
        layers.append(Rescale(recipe["rescale"]))
    if recipe["normalize"]:
        layers.append(Normalization(x_adapt))
    layers += [nn.Linear(inputs, recipe["hidden"]), nn.ReLU(),
               nn.Linear(recipe["hidden"], recipe["outputs"])]
    if recipe["loss"] == "binary_crossentropy":
        layers.append(nn.Sigmoid())
    # softmax for digits is applied inside the loss (log_softmax + NLL), the
    # numerically stable form of softmax followed by cross-entropy.
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)  # Keras glorot_uniform
            nn.init.zeros_(m.bias)
    return model


def loss_fn(recipe, out, y):
    if recipe["loss"] == "binary_crossentropy":
        p = out.clamp(1e-7, 1 - 1e-7)  # Keras clips probabilities to epsilon
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    if recipe["loss"] == "mse":
        return ((out - y) ** 2).mean()
    return nn.functional.cross_entropy(out, y)


def roc_auc(scores, labels):
    """Exact ROC AUC, ties counted half (the Mann-Whitney statistic)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels) > 0.5
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    s = scores[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def measure(recipe, model, x, y):
    """The recipe's loss and metrics on (x, y), in inference mode."""
    model.eval()
    with torch.no_grad():
        out = model(x)
        res = {"loss": loss_fn(recipe, out, y).item()}
        for m in recipe["metrics"]:
            if m == "accuracy" and recipe["loss"] == "binary_crossentropy":
                res[m] = ((out > 0.5).float() == (y > 0.5).float()).float().mean().item()
            elif m == "accuracy":
                res[m] = (out.argmax(1) == y).float().mean().item()
            elif m == "auc":
                res[m] = roc_auc(out[:, 0].numpy(), y[:, 0].numpy())
            elif m == "mse":
                res[m] = ((out.double() - y.double()) ** 2).mean().item()
            elif m == "mae":
                res[m] = (out.double() - y.double()).abs().mean().item()
            elif m == "rmse":
                res[m] = math.sqrt(((out.double() - y.double()) ** 2).mean().item())
    return res


class KerasAdam:
    """Keras's (and libseqrt's) Adam: p -= lr_t * m / (sqrt(v) + eps) with
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); torch.optim.Adam adds eps
    to sqrt(v / (1 - beta2^t)) instead."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-7):
        self.params = list(params)
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.m = [torch.zeros_like(q) for q in self.params]
        self.v = [torch.zeros_like(q) for q in self.params]

    def zero_grad(self, set_to_none=True):
        for q in self.params:
            q.grad = None

    @torch.no_grad()
    def step(self):
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for q, m, v in zip(self.params, self.m, self.v):
            g = q.grad
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            q.sub_(lr_t * m / (v.sqrt() + self.eps))


def run(recipe, data, seed):
    torch.manual_seed(seed)
    x, y = data["x_train"], targets(recipe, data["y_train"])
    x_val = y_val = None
    split = recipe["validation_split"]
    if split > 0:
        at = int(x.shape[0] * (1.0 - split))  # Keras: the last fraction, unshuffled
        x, x_val, y, y_val = x[:at], x[at:], y[:at], y[at:]
    model = build(recipe, x)
    if args.adam == "keras":
        opt = KerasAdam(model.parameters(), recipe["lr"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"], eps=1e-7)
    gen = torch.Generator().manual_seed(seed)
    n, bs = x.shape[0], recipe["batch"]
    t0 = time.perf_counter()
    for _ in range(recipe["epochs"]):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = perm[start:start + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(recipe, model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - t0
    val = measure(recipe, model, x_val, y_val) if x_val is not None else None
    test = measure(recipe, model, data["x_test"], targets(recipe, data["y_test"]))
    return val, test, seconds


def fmt(v, metric):
    """Digits enough for the metric's scale: MSE in the thousands, MAE and
    RMSE in the tens (diabetes), accuracy and AUC as fractions."""
    return {"mse": f"{v:.1f}", "mae": f"{v:.2f}", "rmse": f"{v:.2f}"}.get(metric, f"{v:.4f}")


def main():
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.only or list(RECIPES):
        recipe = dict(RECIPES[name])
        for key in ("epochs", "lr", "validation_split"):
            if getattr(args, key) is not None:
                recipe[key] = getattr(args, key)
        path, data = load(args.data_dir, name)
        tests, vals = [], []
        for seed in range(1, args.seeds + 1):
            val, test, seconds = run(recipe, data, seed)
            tests.append(test)
            vals.append(val)
            if args.verbose:
                v = " ".join(f"val_{k}={fmt(val[k], k)}" for k in val) if val else ""
                t = " ".join(f"test_{k}={fmt(test[k], k)}" for k in test)
                print(f"{name} seed {seed}: {seconds:.2f}s {v} {t}", flush=True)
        for m in recipe["metrics"]:
            vs = np.array([t[m] for t in tests])
            sd = vs.std(ddof=1) if len(vs) > 1 else float("nan")
            val_col = "-"
            if vals[0] is not None:
                vv = np.array([v[m] for v in vals])
                val_col = f"{fmt(vv.mean(), m)} ± {fmt(vv.std(ddof=1) if len(vv) > 1 else float('nan'), m)}"
            rows.append((name, f"{recipe['epochs']} × batch {recipe['batch']}, adam lr={recipe['lr']:g}"
                         + (f", validation_split {recipe['validation_split']:g}"
                            if recipe["validation_split"] else ""),
                         m, f"{fmt(vs.mean(), m)} ± {fmt(sd, m)}", val_col))
    print(f"\nPyTorch {torch.__version__}, {args.seeds} seeds (1..{args.seeds}), "
          f"{args.threads} thread(s), {args.adam}'s Adam; mean ± sample sd\n")
    print("| data set | recipe | metric | test | validation (last epoch) |")
    print("|---|---|---|---:|---:|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
