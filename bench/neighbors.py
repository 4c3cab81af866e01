#!/usr/bin/python3
"""The distance-based families against scikit-learn on NSL-KDD, on the very
same matrices: vigil's kmeans and lof against KMeans and
LocalOutlierFactor(novelty=True), fitted on the normal rows of KDDTrain+ and
scoring KDDTest+ (ROC-AUC of attack vs normal); vigil's knn against
KNeighborsClassifier (binary task, fitted on KDDTrain+, predicting a seeded
sample of KDDTest+ rows, the same sample both sides).

Features: OneHotEncoder on protocol_type/service/flag (0/1) and
StandardScaler on the 38 numeric columns, fitted on the training rows (the
normal rows for the anomaly families), written as float32 and read by both
sides (scikit-learn gets them as float64, the same values). vigil runs as
build/bench_neighbors, timing its own fit and predict; scikit-learn's are
timed around fit and score_samples / predict_proba (k-means: fit, then the
distance to the nearest centre over the cluster's mean training distance,
vigil's score, computed with KMeans.transform). Each side runs --repeat
times, alternating, best time kept; both use their default threads.

usage: /usr/bin/python3 bench/neighbors.py [--bench build/bench_neighbors] [--repeat N] [--knn-rows N]"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier, LocalOutlierFactor
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_logreg_kdd import CATEGORICAL, DATA, read_kdd, to_frame  # noqa: E402
from results import put_section  # noqa: E402

KM = dict(n_clusters=8, n_init=3, max_iter=300, tol=1e-4)
LOF_K = 20
KNN_K = 5


def encode(fit_rows, rows_list):
    numeric = [j for j in range(41) if j not in CATEGORICAL]
    ct = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                            ("scale", StandardScaler(), numeric)], sparse_threshold=0.0)
    ct.fit(to_frame(fit_rows))
    return [np.ascontiguousarray(ct.transform(to_frame(r)), dtype=np.float32) for r in rows_list]


def dump(d, Xtr, Xte, ytr=None, classes=1):
    os.makedirs(d, exist_ok=True)
    Xtr.tofile(os.path.join(d, "train_X.f32"))
    Xte.tofile(os.path.join(d, "test_X.f32"))
    if ytr is not None:
        ytr.astype(np.int32).tofile(os.path.join(d, "train_y.i32"))
    with open(os.path.join(d, "shape.txt"), "w") as f:
        f.write(f"{Xtr.shape[0]} {Xte.shape[0]} {Xtr.shape[1]} {classes}\n")


def run_vigil(bench, d, model, params):
    out = subprocess.run([bench, d, model, "0", "1"] + params, check=True, stdout=subprocess.PIPE, text=True).stdout
    r = json.loads(out)
    r["scores"] = np.fromfile(os.path.join(d, f"vigil_{model}.f32"), dtype=np.float32)
    return r


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return r.ru_utime + r.ru_stime


def sk_kmeans(Xtr, Xte):
    c0, t0 = cpu(), time.perf_counter()
    km = KMeans(algorithm="lloyd", random_state=42, **KM).fit(Xtr)
    dtr = km.transform(Xtr).min(axis=1)
    scale = np.array([dtr[km.labels_ == j].mean() for j in range(KM["n_clusters"])])
    c2, t2 = cpu(), time.perf_counter()
    D = km.transform(Xte)
    s = D.min(axis=1) / scale[D.argmin(axis=1)]
    c3, t3 = cpu(), time.perf_counter()
    return dict(fit_seconds=t2 - t0, predict_seconds=t3 - t2, fit_cpu=c2 - c0, predict_cpu=c3 - c2, scores=s,
                inertia=km.inertia_, iters=km.n_iter_)


def sk_lof(Xtr, Xte):
    c0, t0 = cpu(), time.perf_counter()
    lof = LocalOutlierFactor(n_neighbors=LOF_K, novelty=True).fit(Xtr)
    c1, t1 = cpu(), time.perf_counter()
    s = -lof.score_samples(Xte)
    c2, t2 = cpu(), time.perf_counter()
    return dict(fit_seconds=t1 - t0, predict_seconds=t2 - t1, fit_cpu=c1 - c0, predict_cpu=c2 - c1, scores=s)


def sk_knn(Xtr, ytr, Xte):
    c0, t0 = cpu(), time.perf_counter()
    m = KNeighborsClassifier(n_neighbors=KNN_K).fit(Xtr, ytr)
    c1, t1 = cpu(), time.perf_counter()
    p = m.predict_proba(Xte)
    c2, t2 = cpu(), time.perf_counter()
    return dict(fit_seconds=t1 - t0, predict_seconds=t2 - t1, fit_cpu=c1 - c0, predict_cpu=c2 - c1, scores=p)


def best(runs):
    r = dict(runs[-1])
    for key in ("fit_seconds", "predict_seconds", "fit_cpu", "predict_cpu"):
        r[key] = min(x[key] for x in runs)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "bench_neighbors"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--knn-rows", type=int, default=5000, help="KDDTest+ rows knn predicts (seeded sample)")
    ap.add_argument("--only", default="kmeans,lof,knn")
    args = ap.parse_args()
    only = args.only.split(",")

    tr_f, tr_l = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTrain+.txt.gz"))
    te_f, te_l = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTest+.txt.gz"))
    normal = [f for f, l in zip(tr_f, tr_l) if l == "normal"]
    yte = np.array([l != "normal" for l in te_l], dtype=np.int32)
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        an = os.path.join(tmp, "anomaly")
        Xn, Xte = encode(normal, [normal, te_f])
        dump(an, Xn, Xte)
        for model, sk, params in (("kmeans", sk_kmeans, [f"{k}={v}" for k, v in KM.items()]),
                                  ("lof", sk_lof, [f"n_neighbors={LOF_K}"])):
            if model not in only:
                continue
            v, s = [], []
            for _ in range(args.repeat):
                v.append(run_vigil(args.bench, an, model, params))
                s.append(sk(Xn.astype(np.float64), Xte.astype(np.float64)))
            v, s = best(v), best(s)
            auc_v, auc_s = roc_auc_score(yte, v["scores"]), roc_auc_score(yte, s["scores"])
            if model == "lof":
                rel = np.abs(v["scores"] - s["scores"]) / np.maximum(1.0, np.abs(s["scores"]))
                off = np.flatnonzero(rel > 1e-4)
                ties = 0
                if len(off):
                    # A row scored differently has its k-th and (k+1)-th neighbours at one distance:
                    # vigil keeps the lower training row, scikit-learn either.
                    dk = LocalOutlierFactor(n_neighbors=LOF_K).fit(Xn.astype(np.float64)).kneighbors(
                        Xte[off].astype(np.float64), n_neighbors=LOF_K + 1)[0]
                    ties = int((np.abs(dk[:, LOF_K - 1] - dk[:, LOF_K]) <= 1e-9 * np.maximum(1.0, dk[:, LOF_K])).sum())
                same = (f"{len(s['scores']) - len(off)} rows within 1e-4 (max rel. diff {rel.max():.1e}); "
                        f"the other {len(off)}: {ties} with the k-th neighbour tied")
            else:
                inertia = float(v["describe"].split("inertia: ")[1].split(";")[0])
                same = f"inertia {inertia:.6g} vs {s['inertia']:.6g}"
            rows.append((model, Xn.shape[0], Xte.shape[0], v, s, f"ROC-AUC {auc_v:.4f} vs {auc_s:.4f}; {same}"))
            print(rows[-1][0], v["fit_seconds"], v["predict_seconds"], s["fit_seconds"], s["predict_seconds"], rows[-1][5],
                  flush=True)
        if "knn" in only:
            kd = os.path.join(tmp, "knn")
            ytr = np.array([l != "normal" for l in tr_l], dtype=np.int32)
            rng = np.random.RandomState(42)
            pick = np.sort(rng.choice(len(te_f), size=min(args.knn_rows, len(te_f)), replace=False))
            Xtr, Xq = encode(tr_f, [tr_f, [te_f[i] for i in pick]])
            dump(kd, Xtr, Xq, ytr, 2)
            v, s = [], []
            for _ in range(args.repeat):
                v.append(run_vigil(args.bench, kd, "knn", [f"n_neighbors={KNN_K}"]))
                s.append(sk_knn(Xtr.astype(np.float64), ytr, Xq.astype(np.float64)))
            v, s = best(v), best(s)
            pv = v["scores"].reshape(-1, 2)
            agree = float((pv.argmax(axis=1) == s["scores"].argmax(axis=1)).mean())
            maxdiff = float(np.abs(pv - s["scores"]).max())
            acc = float((pv.argmax(axis=1) == yte[pick]).mean())
            rows.append(("knn", Xtr.shape[0], len(pick), v, s,
                         f"same predictions {agree:.4%}, max proba diff {maxdiff:.2g}; accuracy {acc:.4f}"))
            print(rows[-1][0], v["fit_seconds"], v["predict_seconds"], s["fit_seconds"], s["predict_seconds"], rows[-1][5],
                  flush=True)

    lines = ["## Distance-based families: kmeans, lof, knn vs scikit-learn (bench/neighbors.py)", "",
             f"NSL-KDD, one-hot + standardised features (122 columns), the same float32 matrices both sides; "
             f"kmeans {KM} (vigil: lloyd, k-means++), lof n_neighbors={LOF_K} novelty, knn n_neighbors={KNN_K} "
             f"uniform euclidean. Anomaly families fit on the normal rows of KDDTrain+ and score KDDTest+; "
             f"knn fits KDDTrain+ (binary) and predicts a seeded sample of KDDTest+. Best of {args.repeat}, "
             f"alternating, default threads both sides; scikit-learn {__import__('sklearn').__version__}; "
             f"load average at start {load[0]:.2f} on {os.cpu_count()} CPUs.", "",
             "Wall seconds, and in brackets CPU seconds of all threads (the fairer figure on a busy machine).", "",
             "| model | train rows | scored rows | vigil fit s | sklearn fit s | fit speed-up (cpu) | vigil predict s | "
             "sklearn predict s | predict speed-up (cpu) | same result? |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def ratio(a, b):
        return f"{a / max(b, 1e-9):.1f}x"

    for model, ntr, nte, v, s, note in rows:
        lines.append(f"| {model} | {ntr} | {nte} | {v['fit_seconds']:.3f} ({v['fit_cpu']:.2f}) | "
                     f"{s['fit_seconds']:.3f} ({s['fit_cpu']:.2f}) | "
                     f"{ratio(s['fit_seconds'], v['fit_seconds'])} ({ratio(s['fit_cpu'], v['fit_cpu'])}) | "
                     f"{v['predict_seconds']:.3f} ({v['predict_cpu']:.2f}) | "
                     f"{s['predict_seconds']:.3f} ({s['predict_cpu']:.2f}) | "
                     f"{ratio(s['predict_seconds'], v['predict_seconds'])} ({ratio(s['predict_cpu'], v['predict_cpu'])}) "
                     f"| {note} |")
    section = "\n".join(lines) + "\n"
    print(section)
    put_section(section)


if __name__ == "__main__":
    main()
