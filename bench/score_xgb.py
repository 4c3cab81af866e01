#!/usr/bin/python3
"""The XGBoost side of bench/score.py, in its own process: batch scoring of
NSL-KDD records the way an XGBoost user scores them.

usage: score_xgb.py TRAIN.gz DATA MODEL_DIR THREADS REPS

Fits (once, then kept in MODEL_DIR) XGBClassifier(tree_method='hist',
n_estimators=200, max_depth=6, learning_rate=0.1, max_bin=256) on TRAIN with
protocol_type/service/flag one-hot encoded (OneHotEncoder fitted on TRAIN,
unknown categories ignored). Then, on DATA (KDD-format text, no header), with
the booster's own threads set to THREADS (nthread, not OMP_NUM_THREADS):
  matrix  - Booster.inplace_predict on the encoded float32 matrix;
  records - from the raw records in memory (the 38 numbers as float32, the 3
            categories as strings) to scores: the one-hot encoding, then
            inplace_predict; two encoders, the best counted:
              sklearn - OneHotEncoder.transform + np.hstack,
              numpy   - the category codes found by np.searchsorted in
                        the training categories, written into a
                        preallocated matrix by fancy indexing;
  file    - from the file: pandas.read_csv (when pandas is installed, else
            left out), then the numpy encoder and inplace_predict.
Each is the best of REPS runs (wall seconds, perf_counter). Prints one JSON
line."""
import json
import os
import sys
import time

import csv
import gzip

import numpy as np
import xgboost as xgb
from sklearn.preprocessing import OneHotEncoder

CAT_COLS = [1, 2, 3]
NUM_COLS = [0] + list(range(4, 41))


def read(path):
    """Records as a user holds them: numbers as float32, categories as strings."""
    opener = gzip.open if path.endswith(".gz") else open
    num, cat, y = [], [], []
    with opener(path, "rt") as f:
        for row in csv.reader(f):
            cat.append(row[1:4])
            num.append([float(row[i]) for i in NUM_COLS])
            y.append(row[41] != "normal")
    return np.array(num, dtype=np.float32), np.array(cat, dtype=object), np.array(y)


class NumpyEncoder:
    """One-hot through category codes: what a user writes to avoid
    OneHotEncoder's per-call checks."""

    def __init__(self, enc):
        self.cats = [np.array(c, dtype=str) for c in enc.categories_]  # sorted, as OneHotEncoder keeps them
        self.offsets = np.cumsum([0] + [len(c) for c in self.cats])[:-1]
        self.width = int(sum(len(c) for c in self.cats))

    def transform(self, num, cat):
        n = num.shape[0]
        X = np.zeros((n, num.shape[1] + self.width), dtype=np.float32)
        X[:, :num.shape[1]] = num
        rows = np.arange(n)
        for j, cats in enumerate(self.cats):
            col = cat[:, j].astype(str)
            codes = np.minimum(np.searchsorted(cats, col), len(cats) - 1)
            ok = cats[codes] == col
            X[rows[ok], num.shape[1] + self.offsets[j] + codes[ok]] = 1.0
        return X


CPU = {}


def best(fn, reps, name=None):
    """Best wall seconds of reps runs; CPU[name] gets the best CPU seconds
    (all the process's threads), which a busy machine inflates less."""
    t, c = float("inf"), float("inf")
    out = None
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        t, c = min(t, time.perf_counter() - t0), min(c, time.process_time() - c0)
    if name:
        CPU[name] = c
    return t, out


def main():
    train, data, model_dir, threads, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    num_tr, cat_tr, y_tr = read(train)
    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32).fit(cat_tr)
    path = os.path.join(model_dir, "xgb_score.json")
    if not os.path.exists(path):
        model = xgb.XGBClassifier(tree_method="hist", n_estimators=200, max_depth=6, learning_rate=0.1,
                                  max_bin=256, n_jobs=threads)
        model.fit(np.hstack([num_tr, enc.transform(cat_tr)]), y_tr)
        model.get_booster().save_model(path)
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": threads})
    np_enc = NumpyEncoder(enc)

    num, cat, y = read(data)
    X = np.hstack([num, enc.transform(cat)])
    booster.inplace_predict(X[:1000])  # warm up
    t_matrix, p = best(lambda: booster.inplace_predict(X), reps, "matrix_cpu_s")
    t_sklearn, p2 = best(lambda: booster.inplace_predict(np.hstack([num, enc.transform(cat)])), reps, "sklearn_cpu_s")
    t_numpy, p3 = best(lambda: booster.inplace_predict(np_enc.transform(num, cat)), reps, "numpy_cpu_s")
    assert np.array_equal(p, p2) and np.array_equal(p, p3), "the encoders disagree"

    try:
        import pandas as pd
    except ImportError:
        pd = None

    def from_file():
        d = pd.read_csv(data, header=None)
        return booster.inplace_predict(np_enc.transform(d[NUM_COLS].to_numpy(dtype=np.float32),
                                                        d[CAT_COLS].astype(str).to_numpy()))
    t_file = best(from_file, reps)[0] if pd else None
    from sklearn.metrics import roc_auc_score
    print(json.dumps({"rows": int(X.shape[0]), "columns": int(X.shape[1]), "threads": threads,
                      "xgboost": xgb.__version__, "matrix_s": t_matrix, "records_sklearn_s": t_sklearn,
                      "records_numpy_s": t_numpy, "records_s": min(t_sklearn, t_numpy), "file_s": t_file,
                      "matrix_cpu_s": CPU["matrix_cpu_s"],
                      "records_cpu_s": min(CPU["sklearn_cpu_s"], CPU["numpy_cpu_s"]),
                      "roc_auc": roc_auc_score(y, p)}))


if __name__ == "__main__":
    main()
