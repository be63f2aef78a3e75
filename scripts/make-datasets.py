#!/usr/bin/python3
"""scripts/make-datasets.py: writes the small real data sets that ship in
data/ (breast_cancer, diabetes, digits8x8) from Debian's python3-sklearn.

For each data set NAME it writes

  data/NAME/train.csv, data/NAME/test.csv
      a header row of feature names (sklearn's, every character outside
      [A-Za-z0-9_] replaced by '_'), then one sample per line; the last
      column, `target`, is the target;
  data/NAME/NAME.npz
      x_train, y_train, x_test, y_test: what np.savez_compressed writes
      (a deflate zip of .npy members, zip64 forced as NumPy does), with a
      fixed member timestamp so that the file is the same on every run.
      x is float32 (the raw values: nothing is scaled); y is int64 class
      numbers for the classifiers and float32 of shape (N,) for diabetes.

The split is 80/20 by sklearn.model_selection.train_test_split with
random_state=SEED (stratified by class for the classifiers), in the order
train_test_split returns the samples.

Every CSV number is the shortest decimal that reads back (strtod, then
rounded to float32) as exactly the float32 in the .npz; the script checks
this, and that np.load gives back the arrays, before it finishes.

Run it from anywhere with Debian's /usr/bin/python3:
  /usr/bin/python3 scripts/make-datasets.py [--out DIR]     (default: data/)
Two runs give byte-identical files on the same NumPy, sklearn and zlib:
  /usr/bin/python3 scripts/make-datasets.py && sha256sum data/{breast_cancer,diabetes,digits8x8}/*
"""

import argparse
import io
import os
import re
import sys
import zipfile

import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

SEED = 20240611
TEST_SIZE = 0.2
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def parse_args():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(root, "data"),
                   help="the folder that receives NAME/ for each data set (default: data/)")
    return p.parse_args()


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9_]", "_", str(name))


def fmt(v):
    """The shortest decimal that reads back as this float32."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def write_csv(path, names, x, y):
    out = io.StringIO()
    out.write(",".join(names + ["target"]) + "\n")
    for row, t in zip(x, y):
        out.write(",".join([fmt(v) for v in row] + [fmt(t)]) + "\n")
    text = out.getvalue()
    with open(path, "w", newline="\n") as f:
        f.write(text)
    return text


def check_csv(path, text, x, y):
    """The CSV, read as a loader reads it (float64 then float32), gives x and y."""
    lines = text.splitlines()
    got = np.array([[float(c) for c in line.split(",")] for line in lines[1:]])
    if got.shape != (x.shape[0], x.shape[1] + 1):
        sys.exit(f"make-datasets: {path}: shape {got.shape}, expected {(x.shape[0], x.shape[1] + 1)}")
    if not np.array_equal(got[:, :-1].astype(np.float32), x):
        sys.exit(f"make-datasets: {path}: the features do not read back exactly")
    if not np.array_equal(got[:, -1].astype(y.dtype), y):
        sys.exit(f"make-datasets: {path}: the targets do not read back exactly")


def write_npz(path, arrays):
    """np.savez_compressed's layout with a fixed timestamp on every member."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key, val in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(val), allow_pickle=False)
    with np.load(path, allow_pickle=False) as back:
        if sorted(back.files) != sorted(arrays):
            sys.exit(f"make-datasets: {path}: members {back.files}")
        for key, val in arrays.items():
            if back[key].dtype != val.dtype or not np.array_equal(back[key], val):
                sys.exit(f"make-datasets: {path}: {key} does not read back")


def class_counts(y):
    return " ".join(str(c) for c in np.bincount(y))


def make(out_dir, name, x, y, names, classify):
    x = x.astype(np.float32)
    y = y.astype(np.int64) if classify else y.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SEED, stratify=y if classify else None)
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    names = [sanitize(n) for n in names]
    if len(set(names)) != len(names) or "target" in names:
        sys.exit(f"make-datasets: {name}: column names collide after sanitizing")
    for split, xs, ys in (("train", x_train, y_train), ("test", x_test, y_test)):
        path = os.path.join(folder, split + ".csv")
        check_csv(path, write_csv(path, names, xs, ys), xs, ys)
    write_npz(os.path.join(folder, name + ".npz"),
              {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    if classify:
        print(f"{name}: train {x_train.shape} classes {class_counts(y_train)};"
              f" test {x_test.shape} classes {class_counts(y_test)}")
    else:
        mse = float(np.mean((y_test.astype(np.float64) - y_train.mean(dtype=np.float64)) ** 2))
        print(f"{name}: train {x_train.shape}; test {x_test.shape};"
              f" test MSE of the training mean {mse:.1f}")


def main():
    args = parse_args()
    bc = datasets.load_breast_cancer()
    make(args.out, "breast_cancer", bc.data, bc.target, list(bc.feature_names), True)
    db = datasets.load_diabetes(scaled=False)
    make(args.out, "diabetes", db.data, db.target, list(db.feature_names), False)
    dg = datasets.load_digits()
    make(args.out, "digits8x8", dg.data, dg.target, list(dg.feature_names), True)


if __name__ == "__main__":
    main()
