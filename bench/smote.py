#!/usr/bin/python3
"""SMOTE: vigil vs imbalanced-learn on NSL-KDD KDDTrain+ (issue 14's target:
at least 10x faster). Both get the very same matrix: one-hot protocol,
service and flag, standardised numeric columns (fitted on KDDTrain+, as
bench/bench_logreg_kdd.py builds it), float32; tasks binary (attack vs
normal) and the five categories. Both run SMOTE(k_neighbors=5,
sampling_strategy='auto'); imbalanced-learn with its defaults (n_jobs None,
scikit-learn choosing the neighbour algorithm), vigil with its default
threads. Best of --runs each, alternating. Writes "## SMOTE: vigil vs
imbalanced-learn" into bench/RESULTS.md.

usage: /usr/bin/python3 bench/smote.py [--build build] [--runs 3]"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_logreg_kdd as kdd  # noqa: E402  the same reader and encoding
from results import put_section  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dump", help="write the matrix and labels to this folder and stop (for bench_smote alone)")
    a = ap.parse_args()
    from imblearn import __version__ as imb_version
    from imblearn.over_sampling import SMOTE

    feats, labels = kdd.read_kdd(os.path.join(kdd.DATA, "nsl-kdd", "KDDTrain+.txt.gz"))
    X = kdd.to_frame(feats)
    num = [j for j in range(41) if j not in kdd.CATEGORICAL]
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), kdd.CATEGORICAL),
                            ("num", StandardScaler(), num)])
    Xm = ct.fit_transform(X).astype(np.float32)
    cat = kdd.categories()
    lab = [l.strip() for l in labels]
    y_bin = np.array([0 if l == "normal" else 1 for l in lab], dtype=np.int32)
    names = sorted(set(cat[l] for l in lab))
    y_cat = np.array([names.index(cat[l]) for l in lab], dtype=np.int32)
    load = open("/proc/loadavg").read().split()[:3]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = a.dump or tmp
        os.makedirs(d, exist_ok=True)
        Xm.tofile(os.path.join(d, "train_X.f32"))
        y_bin.tofile(os.path.join(d, "train_y_binary.i32"))
        y_cat.tofile(os.path.join(d, "train_y_category.i32"))
        open(os.path.join(d, "shape.txt"), "w").write(f"{Xm.shape[0]} {Xm.shape[1]}\n")
        if a.dump:
            return
        for task, y in (("binary", y_bin), ("category", y_cat)):
            best_v, best_i, out_v, out_i = 1e300, 1e300, 0, 0
            for _ in range(a.runs):
                r = subprocess.run([os.path.join(a.build, "bench_smote"), d, task, "0", "1"], check=True,
                                   capture_output=True, text=True)
                n, t = r.stdout.split()
                best_v, out_v = min(best_v, float(t)), int(n)
                t0 = time.perf_counter()
                Xr, _ = SMOTE(k_neighbors=5, random_state=0).fit_resample(Xm, y)
                best_i, out_i = min(best_i, time.perf_counter() - t0), len(Xr)
            print(f"{task:9s} rows {len(y)} x {Xm.shape[1]} -> vigil {out_v} rows {best_v:.2f} s, "
                  f"imbalanced-learn {out_i} rows {best_i:.2f} s, {best_i / best_v:.1f}x", flush=True)
            rows.append(f"| {task} | {len(y)} x {Xm.shape[1]} | {out_v} | {best_v:.2f} | {out_i} | {best_i:.2f} | "
                        f"{best_i / best_v:.1f}x |")
    put_section("\n".join([
        "## SMOTE: vigil vs imbalanced-learn",
        "",
        "NSL-KDD KDDTrain+, one-hot + standardised (the same float32 matrix for both), SMOTE(k_neighbors=5,",
        f"sampling_strategy='auto'); imbalanced-learn {imb_version} with its defaults, vigil with its default threads",
        f"(bench/smote.py, bench/bench_smote.c); best of {a.runs}, alternating. Load average at start: {' '.join(load)}",
        "(2 cores, shared with other sessions).",
        "",
        "| task | input | vigil rows | vigil s | imblearn rows | imblearn s | speed-up |",
        "|---|---|---|---|---|---|---|",
        *rows]))


if __name__ == "__main__":
    main()
