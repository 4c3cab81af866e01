#!/usr/bin/python3
"""vigil's mlp (and autoencoder) against scikit-learn's MLPClassifier and the
same networks in PyTorch, on NSL-KDD: KDDTrain+ -> KDDTest+.

Features for all three: one-hot protocol_type/service/flag (0/1) and the 38
numeric columns standardised on KDDTrain+ (122 columns), as float32; vigil
reads the same matrix through build/bench_nn (the estimator vtable).

mlp row: binary (attack = 1), one hidden layer of 100 ReLU, Adam lr 1e-3,
batch 200, early stopping on 10% of the training rows (accuracy, tol 1e-4,
10 epochs without improvement). scikit-learn: MLPClassifier(100, adam,
early_stopping=True); PyTorch: the same network, BCE loss, the same
stopping rule written in Python (tensor slicing, no DataLoader).
autoencoder row: 122-64-16-64-122 ReLU, linear output, MSE, Adam lr 1e-3,
batch 200, early stopping on 10% (validation MSE), fit on the normal rows of
KDDTrain+, score = mean squared reconstruction error on KDDTest+.

Each peer runs plainly (its default threads), best of --repeat runs,
alternating; ROC-AUC is of the last run. Writes the section
"## mlp and autoencoder: NSL-KDD" of bench/RESULTS.md.
usage: /usr/bin/python3 bench/mlp.py [--repeat N] [--no-ae] [--build DIR]
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results import put_section  # noqa: E402

DATA = os.environ.get("VG_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
CATEGORICAL = [1, 2, 3]


def read_kdd(path):
    with gzip.open(path, "rt") as f:
        rows = [line.rstrip("\n").split(",") for line in f]
    arr = np.empty((len(rows), 41), dtype=object)
    for j in range(41):
        col = [r[j] for r in rows]
        arr[:, j] = col if j in CATEGORICAL else np.array(col, dtype=np.float64)
    return arr, np.array([r[41] != "normal" for r in rows], dtype=np.int32)


def features():
    Xtr, ytr = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTrain+.txt.gz"))
    Xte, yte = read_kdd(os.path.join(DATA, "nsl-kdd", "KDDTest+.txt.gz"))
    numeric = [j for j in range(41) if j not in CATEGORICAL]
    ct = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                            ("scale", StandardScaler(), numeric)], sparse_threshold=0.0)
    Xtr = np.ascontiguousarray(ct.fit_transform(Xtr), dtype=np.float32)
    Xte = np.ascontiguousarray(ct.transform(Xte), dtype=np.float32)
    return Xtr, ytr, Xte, yte


def dump(prefix, X, y=None):
    X.tofile(prefix + "_X.f32")
    if y is not None:
        y.astype(np.int32).tofile(prefix + "_y.i32")
    with open(prefix + ".shape", "w") as f:
        f.write(f"{X.shape[0]} {X.shape[1]}\n")


def run_vigil(build, family, train, test, params):
    out = train + ".scores"
    t0 = time.perf_counter()
    r = subprocess.run([os.path.join(build, "bench_nn"), family, train, test, out] + params,
                       check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    fit_s, epochs, _ = r.stdout.split()
    return float(fit_s), int(epochs), np.fromfile(out, dtype=np.float32), wall


def run_sklearn(Xtr, ytr, Xte):
    m = MLPClassifier(hidden_layer_sizes=(100,), solver="adam", early_stopping=True, random_state=0)
    t0 = time.perf_counter()
    m.fit(Xtr, ytr)
    return time.perf_counter() - t0, m.n_iter_, m.predict_proba(Xte)[:, 1]


def torch_fit(net, loss_fn, Xtr, Ttr, Xval, score_val, lr=1e-3, batch=200, max_iter=200, tol=1e-4, patience=10):
    """Adam, batches of `batch`, early stopping as scikit-learn's: stop after
    more than `patience` epochs without the validation score rising by tol,
    keep the best weights. Returns (seconds, epochs)."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    n = Xtr.shape[0]
    best, best_state, bad = -np.inf, None, 0
    t0 = time.perf_counter()
    epochs = 0
    for epoch in range(max_iter):
        epochs += 1
        perm = torch.randperm(n, generator=g)
        net.train()
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            opt.zero_grad()
            loss = loss_fn(net(Xtr[idx]), Ttr[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            s = score_val(net, Xval)
        bad = bad + 1 if s < best + tol else 0
        if s > best:
            best, best_state = s, {k: v.clone() for k, v in net.state_dict().items()}
        if bad > patience:
            break
    net.load_state_dict(best_state)
    return time.perf_counter() - t0, epochs


def split(n, frac, seed=0):
    perm = np.random.default_rng(seed).permutation(n)
    k = int(np.ceil(frac * n))
    return perm[k:], perm[:k]


def run_torch_mlp(Xtr, ytr, Xte):
    torch.manual_seed(0)
    tr, va = split(len(ytr), 0.1)
    net = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], 100), torch.nn.ReLU(), torch.nn.Linear(100, 1))
    X = torch.from_numpy(Xtr)
    y = torch.from_numpy(ytr.astype(np.float32)).unsqueeze(1)
    acc = lambda m, idx: float(((m(X[idx]) > 0).float() == y[idx]).float().mean())
    secs, epochs = torch_fit(net, torch.nn.BCEWithLogitsLoss(), X[tr], y[tr], torch.from_numpy(va),
                             lambda m, v: acc(m, v))
    with torch.no_grad():
        p = torch.sigmoid(net(torch.from_numpy(Xte))).squeeze(1).numpy()
    return secs, epochs, p


def run_torch_ae(Xn, Xte):
    torch.manual_seed(0)
    tr, va = split(Xn.shape[0], 0.1)
    d = Xn.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 64), torch.nn.ReLU(), torch.nn.Linear(64, d))
    X = torch.from_numpy(Xn)
    mse = torch.nn.MSELoss()
    secs, epochs = torch_fit(net, mse, X[tr], X[tr], X[va], lambda m, v: -float(mse(m(v), v)))
    with torch.no_grad():
        Xt = torch.from_numpy(Xte)
        s = ((net(Xt) - Xt) ** 2).mean(dim=1).numpy()
    return secs, epochs, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-ae", action="store_true")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    args = ap.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    Xtr, ytr, Xte, yte = features()
    tmp = tempfile.mkdtemp(prefix="vg_bench_mlp_")
    dump(os.path.join(tmp, "train"), Xtr, ytr)
    dump(os.path.join(tmp, "test"), Xte)
    Xn = np.ascontiguousarray(Xtr[ytr == 0])
    dump(os.path.join(tmp, "normal"), Xn)
    load = os.getloadavg()[0]
    print(f"train {Xtr.shape}, test {Xte.shape}, normal rows {Xn.shape[0]}, torch threads "
          f"{torch.get_num_threads()}, load average {load:.2f}")

    mlp_params = ["early_stopping=true"]
    res = {}
    def keep(name, secs, epochs, scores):
        old = res.get(name)
        if old is None or secs < old[0]:
            res[name] = (secs, epochs, scores)
        print(f"  {name}: {secs:.2f} s, {epochs} epochs", flush=True)
    for _ in range(args.repeat):
        s, e, p, _ = run_vigil(args.build, "mlp", os.path.join(tmp, "train"), os.path.join(tmp, "test"), mlp_params)
        keep("vigil mlp", s, e, p)
        keep("scikit-learn MLPClassifier", *run_sklearn(Xtr, ytr, Xte))
        keep("PyTorch MLP", *run_torch_mlp(Xtr, ytr, Xte))
        if not args.no_ae:
            s, e, p, _ = run_vigil(args.build, "autoencoder", os.path.join(tmp, "normal"), os.path.join(tmp, "test"), [])
            keep("vigil autoencoder", s, e, p)
            keep("PyTorch autoencoder", *run_torch_ae(Xn, Xte))
    load_end = os.getloadavg()[0]

    lines = ["## mlp and autoencoder: NSL-KDD", "",
             f"bench/mlp.py, KDDTrain+ -> KDDTest+, 122 features (one-hot + standardised), best of "
             f"{args.repeat} alternating runs; load average {load:.2f} at the start, {load_end:.2f} at the end "
             f"(2 cores). mlp: 100 ReLU, Adam, batch 200, early stopping (10% validation). autoencoder: "
             f"122-64-16-64-122, fit on the normal rows, score = reconstruction MSE.", "",
             "| model | train s | epochs | s / epoch | ROC-AUC |", "|---|---:|---:|---:|---:|"]
    for name, (secs, epochs, scores) in res.items():
        auc = roc_auc_score(yte, scores)
        lines.append(f"| {name} | {secs:.2f} | {epochs} | {secs / max(epochs, 1):.3f} | {auc:.4f} |")
    v, sk, pt = res["vigil mlp"], res["scikit-learn MLPClassifier"], res["PyTorch MLP"]
    lines += ["", f"Targets: vigil mlp time / scikit-learn's = {v[0] / sk[0]:.3f} (target <= 0.1); per epoch / "
              f"PyTorch's = {(v[0] / v[1]) / (pt[0] / pt[1]):.3f} (target <= 0.5)."]
    if not args.no_ae:
        va, pa = res["vigil autoencoder"], res["PyTorch autoencoder"]
        lines[-1] += (f" Autoencoder time / PyTorch's = {va[0] / pa[0]:.3f} (target <= 0.5), ROC-AUC "
                      f"{roc_auc_score(yte, va[2]):.4f} vs {roc_auc_score(yte, pa[2]):.4f}.")
    text = "\n".join(lines)
    print(text)
    put_section(text)


if __name__ == "__main__":
    main()
