#!/usr/bin/python3
"""The Python side of the gradient-boosting benchmark (bench/gbdt.py): what a
notebook user runs with XGBoost or scikit-learn.

usage: gbdt_python.py TOOL TASK TRAIN TEST THREADS CATEGORIES_CSV [ROUNDS DEPTH LR]
  TOOL: xgboost | xgboost-native | hgb;  TASK: binary | category;  THREADS: 0 = the tool's default
  (XGBoost n_jobs=None, all the cores OpenMP sees; scikit-learn's OpenMP default)
Reads the gzipped KDD files (NSL-KDD or KDD Cup 99: 41 features, the label,
NSL-KDD's difficulty column ignored), and
  xgboost: one-hot encodes protocol_type/service/flag (OneHotEncoder, unknown
           categories ignored, dense float32 as XGBoost's hist method takes it)
           and fits XGBClassifier(tree_method='hist', n_estimators=ROUNDS,
           max_depth=DEPTH, learning_rate=LR, n_jobs=THREADS or None);
  xgboost-native: XGBoost's own categorical splits instead of one-hot
           (ordinal codes declared categorical with feature_types,
           enable_categorical=True, its default max_cat_to_onehot), otherwise
           as xgboost;
  hgb:     ordinal-encodes the three columns and declares them categorical
           (scikit-learn's native categorical support) for
           HistGradientBoostingClassifier(max_iter=ROUNDS, max_depth=DEPTH,
           learning_rate=LR, early_stopping=False); its OpenMP threads are
           its default (bench/gbdt.py leaves OMP_NUM_THREADS unset).
Prints one JSON line: accuracy, roc_auc, train_seconds (fit, including the
encoder), predict_seconds (transform + predict_proba), rows.
Peak memory is taken from outside (/usr/bin/time)."""
import csv
import gzip
import json
import sys
import time

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score

CATEGORY = {}


def load_categories(path):
    with open(path) as f:
        for row in csv.DictReader(f):
            CATEGORY[row["attack"]] = row["category"]


def read(path, task):
    num, cat, y = [], [], []
    with gzip.open(path, "rt") as f:
        for row in csv.reader(f):
            cat.append(row[1:4])
            num.append([float(v) for v in [row[0]] + row[4:41]])
            label = row[41].rstrip(".")
            y.append(("attack" if label != "normal" else "normal") if task == "binary" else CATEGORY[label])
    return np.array(num, dtype=np.float32), np.array(cat, dtype=object), np.array(y)


def main():
    tool, task, train, test, threads, cats = sys.argv[1:7]
    rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 200
    depth = int(sys.argv[8]) if len(sys.argv) > 8 else 6
    lr = float(sys.argv[9]) if len(sys.argv) > 9 else 0.1
    threads = int(threads)
    load_categories(cats)
    num_tr, cat_tr, y_tr = read(train, task)
    num_te, cat_te, y_te = read(test, task)
    classes = sorted(set(y_tr))
    index = {c: i for i, c in enumerate(classes)}
    yi_tr = np.array([index[c] for c in y_tr])
    keep = np.array([c in index for c in y_te])  # test labels the model knows
    # The encoder and the model per tool; one timed fit and predict for all.
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    n_num = num_tr.shape[1]
    if tool == "xgboost":
        import xgboost as xgb
        enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
        model = xgb.XGBClassifier(tree_method="hist", n_estimators=rounds, max_depth=depth, learning_rate=lr,
                                  n_jobs=threads or None, max_bin=256)
    elif tool == "xgboost-native":
        import xgboost as xgb
        enc = ordinal
        model = xgb.XGBClassifier(tree_method="hist", n_estimators=rounds, max_depth=depth, learning_rate=lr,
                                  n_jobs=threads or None, max_bin=256, enable_categorical=True,
                                  feature_types=["q"] * n_num + ["c"] * 3)
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier
        enc = ordinal
        model = HistGradientBoostingClassifier(max_iter=rounds, max_depth=depth, learning_rate=lr,
                                               early_stopping=False, categorical_features=[False] * n_num + [True] * 3,
                                               random_state=42)
    t0 = time.perf_counter()
    enc.fit(cat_tr)
    model.fit(np.hstack([num_tr, enc.transform(cat_tr).astype(np.float32, copy=False)]), yi_tr)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = model.predict_proba(np.hstack([num_te, enc.transform(cat_te).astype(np.float32, copy=False)]))
    predict_s = time.perf_counter() - t0
    yk = np.array([index[c] for c in y_te[keep]])
    pk = proba[keep]
    if task == "binary":
        auc = roc_auc_score(yk == index["attack"], pk[:, index["attack"]])
    else:
        present = sorted(set(yk))
        # one-vs-rest macro over the classes present in the test set
        per_class = {classes[c]: roc_auc_score(yk == c, pk[:, c]) for c in present}
        auc = float(np.mean(list(per_class.values())))
    out = {"tool": tool, "task": task, "rows": int(len(y_te)), "accuracy": accuracy_score(yk, pk.argmax(1)),
           "roc_auc": auc, "train_seconds": train_s, "predict_seconds": predict_s}
    if task != "binary":
        out["per_class_auc"] = per_class
    print(json.dumps(out))


if __name__ == "__main__":
    main()
