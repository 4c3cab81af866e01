#!/usr/bin/python3
"""Time scikit-learn's LogisticRegression(solver='lbfgs') on NSL-KDD, the
baseline for vigil's logreg speed target, and optionally dump the exact
feature matrices so bench/bench_logreg_kdd.c trains vigil on the same numbers.

Features: OneHotEncoder(handle_unknown='ignore') on protocol_type, service and
flag (left 0/1, as vigil's pipeline does) and StandardScaler on the 38 numeric
columns, both fitted on KDDTrain+. Tasks: binary (attack = 1) and the five
categories (classes in sorted order: DoS, Probe, R2L, U2R, normal).

usage: /usr/bin/python3 bench/bench_logreg_kdd.py [--dump DIR] [--sparse] [--repeat N]
--dump writes DIR/{train,test}_X.f32 (row-major float32), DIR/{train,test}_y_{binary,category}.i32
and DIR/shape.txt ("train_rows test_rows cols")."""
import argparse
import gzip
import os
import sys
import time
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("VG_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
CATEGORICAL = [1, 2, 3]


def read_kdd(path):
    rows = []
    with gzip.open(path, "rt") as f:
        for line in f:
            rows.append(line.rstrip("\n").split(","))
    feats = [r[:41] for r in rows]
    labels = [r[41] for r in rows]
    return feats, labels


def categories():
    cat = {}
    with open(os.path.join(DATA, "nsl-kdd", "attack_categories.csv")) as f:
        next(f)
        for line in f:
            a, c = line.strip().split(",")
            cat[a] = c
    return cat


def to_frame(feats):
    # Object array: numeric columns as float, categorical as str.
    arr = np.empty((len(feats), 41), dtype=object)
    for j in range(41):
        col = [r[j] for r in feats]
        arr[:, j] = col if j in CATEGORICAL else np.array(col, dtype=np.float64)
    return arr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump")
    ap.add_argument("--sparse", action="store_true", help="give scikit-learn a CSR matrix")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    tr_f, tr_l = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTrain+.txt.gz"))
    te_f, te_l = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTest+.txt.gz"))
    numeric = [j for j in range(41) if j not in CATEGORICAL]
    ct = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
         ("scale", StandardScaler(), numeric)],
        sparse_threshold=1.0 if args.sparse else 0.0)
    Xtr = ct.fit_transform(to_frame(tr_f))
    Xte = ct.transform(to_frame(te_f))
    if not args.sparse:
        Xtr = np.ascontiguousarray(Xtr, dtype=np.float64)
        Xte = np.ascontiguousarray(Xte, dtype=np.float64)
    cat = categories()
    names = sorted(set(cat.values()))
    tasks = {
        "binary": (np.array([l != "normal" for l in tr_l], dtype=np.int32),
                   np.array([l != "normal" for l in te_l], dtype=np.int32)),
        "category": (np.array([names.index(cat[l]) for l in tr_l], dtype=np.int32),
                     np.array([names.index(cat[l]) for l in te_l], dtype=np.int32)),
    }
    print(f"train {Xtr.shape}, test {Xte.shape}, nonzeros per row "
          f"{(Xtr != 0).sum() / Xtr.shape[0]:.1f}, sparse input: {args.sparse}")

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        dense = (lambda m: m.toarray()) if args.sparse else (lambda m: m)
        dense(Xtr).astype(np.float32).tofile(os.path.join(args.dump, "train_X.f32"))
        dense(Xte).astype(np.float32).tofile(os.path.join(args.dump, "test_X.f32"))
        for t, (ytr, yte) in tasks.items():
            ytr.tofile(os.path.join(args.dump, f"train_y_{t}.i32"))
            yte.tofile(os.path.join(args.dump, f"test_y_{t}.i32"))
        with open(os.path.join(args.dump, "shape.txt"), "w") as f:
            f.write(f"{Xtr.shape[0]} {Xte.shape[0]} {Xtr.shape[1]}\n")

    warnings.simplefilter("ignore", ConvergenceWarning)
    for t, (ytr, yte) in tasks.items():
        best = None
        for _ in range(args.repeat):
            m = LogisticRegression(C=1.0, max_iter=100, tol=1e-4)
            t0 = time.perf_counter()
            m.fit(Xtr, ytr)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        acc = float((m.predict(Xte) == yte).mean())
        print(f"sklearn {t}: fit {best:.3f} s, n_iter {int(m.n_iter_.max())}, "
              f"test accuracy {acc:.4f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
