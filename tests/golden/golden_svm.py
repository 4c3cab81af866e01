#!/usr/bin/python3
"""Golden values for tests/test_svm.c from LIBSVM's own tools (Debian's
libsvm-tools 3.24: svm-train, svm-predict). Run once from the source tree:
    /usr/bin/python3 tests/golden/golden_svm.py
It reads tests/golden/logreg_binary_X.csv (569 x 30, standardised) and
logreg_multiclass_X.csv (178 x 13, 3 classes), rounds the features to float32
(what vigil's matrices hold), writes them in LIBSVM's format, trains each case
with svm-train, and from the model file writes, in vigil's conventions:
  svm_cases.txt        name, data, vigil parameters, support vectors, rho per pair
  svm_<name>_dec.csv   per row the decision value of every class pair (a, b),
                       a < b, in the order (0,1), (0,2), ..., positive towards b
  svm_<name>_proba.csv (probability cases) svm-predict -b 1's class probabilities,
                       columns in class-index order
LIBSVM puts the first label it meets as +1; its decision values are recomputed
here in double from the model file (sum of coef * K(sv, x) - rho) and turned
to the sign vigil uses."""
import math, os, subprocess, sys, tempfile
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

def load(name):
    a = np.loadtxt(os.path.join(here, name), delimiter=",")
    return a[:, :-1].astype(np.float32).astype(np.float64), a[:, -1].astype(int)

def write_svm(path, X, y):
    with open(path, "w") as f:
        for xi, yi in zip(X, y):
            f.write(str(yi) + "".join(" %d:%.9g" % (j + 1, v) for j, v in enumerate(xi) if v != 0) + "\n")

def read_model(path):
    lines = open(path).read().split("\n")
    hdr, i = {}, 0
    while lines[i] != "SV":
        k, *v = lines[i].split()
        hdr[k] = v
        i += 1
    coefs, svs = [], []
    for l in lines[i + 1:]:
        if not l.strip():
            continue
        parts = l.split()
        k = len(hdr["label"]) - 1
        coefs.append([float(t) for t in parts[:k]])
        svs.append({int(t.split(":")[0]) - 1: float(t.split(":")[1]) for t in parts[k:]})
    return hdr, np.array(coefs), svs

def kernel(hdr, S, X):
    kt = hdr["kernel_type"][0]
    dot = X @ S.T
    if kt == "linear":
        return dot
    g = float(hdr["gamma"][0])
    if kt == "rbf":
        d2 = (X * X).sum(1)[:, None] + (S * S).sum(1)[None, :] - 2 * dot
        return np.exp(-g * np.maximum(d2, 0))
    c0 = float(hdr.get("coef0", ["0"])[0])
    if kt == "polynomial":
        return (g * dot + c0) ** int(hdr["degree"][0])
    return np.tanh(g * dot + c0)

def gamma_scale(X):
    return 1.0 / (X.shape[1] * X.var())

# name, data file, svm-train options, vigil parameters, class weights {class: w}
cases = [
    ("rbf", "logreg_binary_X.csv", "-t 2 -c 1 -g {gs} -e 1e-6", "kernel=rbf C=1 gamma=scale tol=1e-6", {}),
    ("rbf_default_tol", "logreg_binary_X.csv", "-t 2 -c 1 -g {gs}", "kernel=rbf C=1 gamma=scale", {}),
    ("linear", "logreg_binary_X.csv", "-t 0 -c 0.5 -e 1e-6", "kernel=linear C=0.5 tol=1e-6", {}),
    ("poly", "logreg_binary_X.csv", "-t 1 -c 2 -g 0.05 -r 1 -d 3 -e 1e-6",
     "kernel=poly C=2 gamma=0.05 coef0=1 degree=3 tol=1e-6", {}),
    ("sigmoid", "logreg_binary_X.csv", "-t 3 -c 1 -g 0.01 -r -0.5 -e 1e-6",
     "kernel=sigmoid C=1 gamma=0.01 coef0=-0.5 tol=1e-6", {}),
    ("weighted", "logreg_binary_X.csv", "-t 2 -c 1 -g auto -e 1e-6 -w1 3",
     "kernel=rbf C=1 gamma=auto tol=1e-6", {1: 3.0}),
    ("noshrink", "logreg_binary_X.csv", "-t 2 -c 10 -g 0.02 -e 1e-6 -h 0",
     "kernel=rbf C=10 gamma=0.02 tol=1e-6 shrinking=false", {}),
    ("multi", "logreg_multiclass_X.csv", "-t 2 -c 10 -g {gs} -e 1e-6", "kernel=rbf C=10 gamma=scale tol=1e-6", {}),
    ("multi_linear", "logreg_multiclass_X.csv", "-t 0 -c 0.1 -e 1e-6", "kernel=linear C=0.1 tol=1e-6", {}),
    ("prob", "logreg_binary_X.csv", "-t 2 -c 1 -g {gs} -b 1", "kernel=rbf C=1 gamma=scale probability=true", {}),
    ("multi_prob", "logreg_multiclass_X.csv", "-t 2 -c 1 -g {gs} -b 1",
     "kernel=rbf C=1 gamma=scale probability=true", {}),
]

tmp = tempfile.mkdtemp()
out = open(os.path.join(here, "svm_cases.txt"), "w")
out.write("# name data n_sv rho(per pair, vigil's sign) | vigil parameters (made by golden_svm.py)\n")
for name, data, opts, vparams, weights in cases:
    X, y = load(data)
    gs = gamma_scale(X)
    opts = opts.replace("{gs}", "%.17g" % gs).replace("-g auto", "-g %.17g" % (1.0 / X.shape[1]))
    train = os.path.join(tmp, "train.svm")
    model = os.path.join(tmp, name + ".model")
    write_svm(train, X, y)
    subprocess.run(["svm-train", "-q"] + opts.split() + [train, model], check=True)
    hdr, coef, svs = read_model(model)
    labels = [int(v) for v in hdr["label"]]
    nr = [int(v) for v in hdr["nr_sv"]]
    k = len(labels)
    S = np.zeros((len(svs), X.shape[1]))
    for i, sv in enumerate(svs):
        for j, v in sv.items():
            S[i, j] = v
    K = kernel(hdr, S, X)
    start = np.concatenate([[0], np.cumsum(nr)])
    rho = [float(v) for v in hdr["rho"]]
    dec = np.zeros((len(X), k * (k - 1) // 2))
    vrho = [0.0] * (k * (k - 1) // 2)
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
            f = K[:, si] @ coef[si, j - 1] + K[:, sj] @ coef[sj, i] - rho[p]
            a, b = sorted((labels[i], labels[j]))
            q = a * (2 * k - a - 1) // 2 + (b - a - 1)
            sign = 1 if labels[i] == b else -1  # LIBSVM's f > 0 means labels[i]
            dec[:, q] = sign * f
            vrho[q] = sign * rho[p]
            p += 1
    np.savetxt(os.path.join(here, "svm_%s_dec.csv" % name), dec, delimiter=",", fmt="%.10g")
    if "-b 1" in opts:
        pred = os.path.join(tmp, "pred.txt")
        subprocess.run(["svm-predict", "-q", "-b", "1", train, model, pred], check=True)
        pl = open(pred).read().split("\n")
        order = [int(v) for v in pl[0].split()[1:]]
        P = np.array([[float(v) for v in l.split()[1:]] for l in pl[1:] if l.strip()])
        Pv = np.zeros_like(P)
        for c, lab in enumerate(order):
            Pv[:, lab] = P[:, c]
        np.savetxt(os.path.join(here, "svm_%s_proba.csv" % name), Pv, delimiter=",", fmt="%.8g")
    out.write("%s %s %d %s | %s\n" % (name, data, len(svs), " ".join("%.12g" % r for r in vrho), vparams))
    print(name, "nSV", len(svs), "rho", vrho, "gamma", hdr.get("gamma"))
out.close()
