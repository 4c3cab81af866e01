#!/usr/bin/python3
"""The scikit-learn side of the NSL-KDD benchmark: what a notebook user runs.

usage: sklearn_nslkdd.py MODEL TASK TRAIN TEST THREADS
  MODEL: logreg | tree | forest;  TASK: binary | category
Reads the gzipped KDD files, one-hot encodes protocol_type/service/flag
(OneHotEncoder, unknown categories ignored), standardises the numeric columns
for logreg, fits with the same settings vigil uses, and prints one JSON line:
accuracy, f1, roc_auc, train_seconds, predict_seconds. Peak memory is taken
from outside (/usr/bin/time) so both sides are measured the same way."""
import csv
import gzip
import json
import sys
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

CATEGORY = {}


def load_categories(path):
    with open(path) as f:
        for row in csv.DictReader(f):
            CATEGORY[row["attack"]] = row["category"]


def read(path, task):
    X_num, X_cat, y = [], [], []
    with gzip.open(path, "rt") as f:
        for row in csv.reader(f):
            X_cat.append(row[1:4])
            X_num.append([float(v) for v in [row[0]] + row[4:41]])
            label = row[41].rstrip(".")
            y.append(("attack" if label != "normal" else "normal") if task == "binary" else CATEGORY[label])
    return np.array(X_num), np.array(X_cat, dtype=object), np.array(y)


def main():
    model, task, train, test, threads = sys.argv[1:6]
    threads = int(threads)
    load_categories(sys.argv[6])
    num_tr, cat_tr, y_tr = read(train, task)
    num_te, cat_te, y_te = read(test, task)
    X_tr = np.concatenate([num_tr, cat_tr], axis=1)
    X_te = np.concatenate([num_te, cat_te], axis=1)
    num_idx = list(range(38))
    cat_idx = [38, 39, 40]
    onehot = OneHotEncoder(handle_unknown="ignore")
    if model == "logreg":
        prep = ColumnTransformer([("num", StandardScaler(), num_idx), ("cat", onehot, cat_idx)])
        est = LogisticRegression(C=1.0, max_iter=100, tol=1e-4)
    elif model == "tree":
        prep = ColumnTransformer([("num", "passthrough", num_idx), ("cat", onehot, cat_idx)])
        est = DecisionTreeClassifier(random_state=42)
    else:
        prep = ColumnTransformer([("num", "passthrough", num_idx), ("cat", onehot, cat_idx)])
        est = RandomForestClassifier(n_estimators=100, n_jobs=threads, random_state=42)
    pipe = Pipeline([("prep", prep), ("model", est)])
    t0 = time.perf_counter()
    pipe.fit(X_tr, y_tr)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = pipe.predict_proba(X_te)
    predict_s = time.perf_counter() - t0
    classes = list(pipe.classes_)
    pred = np.array(classes)[proba.argmax(axis=1)]
    if task == "binary":
        pos = classes.index("attack")
        f1 = f1_score(y_te, pred, pos_label="attack")
        auc = roc_auc_score(y_te == "attack", proba[:, pos])
    else:
        f1 = f1_score(y_te, pred, average="macro")
        auc = roc_auc_score(y_te, proba, multi_class="ovr", labels=classes)
    print(json.dumps({"accuracy": accuracy_score(y_te, pred), "f1": f1, "roc_auc": auc,
                      "train_seconds": train_s, "predict_seconds": predict_s}))


if __name__ == "__main__":
    main()
