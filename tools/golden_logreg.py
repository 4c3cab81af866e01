#!/usr/bin/python3
"""Golden values for vigil's logistic regression (tests/test_logreg.c).

For each case below, on tests/golden/binary.csv or multiclass.csv standardised
with StandardScaler (population std, ddof=0) and rounded to float32 (the
matrix vigil trains on, written out so both sides see identical numbers):

  logreg_<data>_X.csv          the standardised matrix, '%.9g', label last, no header
  logreg_<case>_coef.csv       the exact minimiser: one row per vector, weights then intercept
  logreg_<case>_proba.csv      predict_proba of the exact minimiser on the same matrix
  logreg_<case>_lbfgs_coef.csv LogisticRegression(solver='lbfgs', tol=1e-10, max_iter=10000)
  logreg_cases.txt             one line per case: parameters and scikit-learn's lbfgs figures

Why two solutions: scikit-learn's lbfgs stops on scipy's relative-decrease rule
(factr * eps = 2.2e-9) before reaching tol=1e-10, up to ~1e-4 away from the
minimiser. The exact minimiser of the same objective comes from the same
estimator with solver='newton-cg', tol=1e-14, checked here by its gradient.
Run with /usr/bin/python3 (Debian's python3-sklearn)."""
import os
import warnings

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "golden")

# name, data, C, fit_intercept, multi_class, class_weight
CASES = [
    ("binary_c1", "binary", 1.0, True, "auto", None),
    ("binary_c01", "binary", 0.1, True, "auto", None),
    ("multi_c1", "multiclass", 1.0, True, "auto", None),
    ("multi_c01", "multiclass", 0.1, True, "auto", None),
    ("binary_balanced", "binary", 1.0, True, "auto", "balanced"),
    ("multi_balanced", "multiclass", 1.0, True, "auto", "balanced"),
    ("binary_multinomial", "binary", 1.0, True, "multinomial", None),
    ("multi_ovr", "multiclass", 1.0, True, "ovr", None),
    ("binary_nointercept", "binary", 1.0, False, "auto", None),
]


def load(name):
    d = np.loadtxt(os.path.join(OUT, f"{name}.csv"), delimiter=",", skiprows=1)
    X, y = d[:, :-1], d[:, -1].astype(int)
    Xs = StandardScaler().fit_transform(X).astype(np.float32)
    with open(os.path.join(OUT, f"logreg_{name}_X.csv"), "w") as f:
        for row, label in zip(Xs, y):
            f.write(",".join("%.9g" % v for v in row) + f",{label}\n")
    return Xs.astype(np.float64), y


def objective_gradient(m, X, y, sw):
    """max|dF/dW| of F = sum sw*loss + ||W||^2/(2C), the objective lbfgs sees."""
    W = np.hstack([m.coef_, m.intercept_[:, None]]) if m.fit_intercept else m.coef_
    Xb = np.hstack([X, np.ones((len(X), 1))]) if m.fit_intercept else X
    K = len(m.classes_)
    reg = W.copy()
    if m.fit_intercept:
        reg[:, -1] = 0
    sigmoid_per_vector = m.multi_class == "ovr" or (m.coef_.shape[0] == 1 and m.multi_class != "multinomial")
    if sigmoid_per_vector:
        worst = 0.0
        for k in range(W.shape[0]):
            pos = (y == m.classes_[1]) if W.shape[0] == 1 else (y == m.classes_[k])
            s = sw if m.class_weight is None else sw * ovr_balanced(pos)
            p = 1 / (1 + np.exp(-Xb @ W[k]))
            g = Xb.T @ (s * (p - pos)) + reg[k] / m.C
            worst = max(worst, np.abs(g).max())
        return worst
    if K == 2:  # multinomial on two classes stores w1 with w0 = -w1
        W = np.vstack([-W, W])
        reg = np.vstack([-reg, reg])
    Z = Xb @ W.T
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    Y = np.eye(K)[y]
    G = (sw[:, None] * (P - Y)).T @ Xb + reg / m.C
    return np.abs(G).max()


def ovr_balanced(pos):
    n, npos = len(pos), pos.sum()
    return np.where(pos, n / (2 * npos), n / (2 * (n - npos)))


def rows(a):
    return "".join(",".join(repr(float(v)) for v in r) + "\n" for r in np.atleast_2d(a))


def main():
    warnings.simplefilter("ignore")
    data = {name: load(name) for name in ("binary", "multiclass")}
    lines = ["# case data C fit_intercept multi_class class_weight "
             "sklearn_lbfgs_n_iter lbfgs_max_coef_diff exact_max_gradient  (sklearn "
             + sklearn.__version__ + ")\n"]
    for case, dname, C, fi, mc, cw in CASES:
        X, y = data[dname]
        kw = dict(C=C, fit_intercept=fi, multi_class=mc, class_weight=cw)
        lb = LogisticRegression(solver="lbfgs", tol=1e-10, max_iter=10000, **kw).fit(X, y)
        ex = LogisticRegression(solver="newton-cg", tol=1e-14, max_iter=10000, **kw).fit(X, y)
        if cw == "balanced" and mc != "ovr" and not (len(ex.classes_) == 2 and mc == "auto"):
            counts = np.bincount(y)
            sw = (len(y) / (len(counts) * counts))[y]
        else:
            sw = np.ones(len(y))
        gmax = objective_gradient(ex, X, y, sw)
        assert gmax < 1e-7, (case, gmax)

        def coef(m):
            b = m.intercept_ if fi else np.zeros(m.coef_.shape[0])
            return np.hstack([m.coef_, b[:, None]])

        diff = np.abs(coef(lb) - coef(ex)).max()
        with open(os.path.join(OUT, f"logreg_{case}_coef.csv"), "w") as f:
            f.write(rows(coef(ex)))
        with open(os.path.join(OUT, f"logreg_{case}_lbfgs_coef.csv"), "w") as f:
            f.write(rows(coef(lb)))
        with open(os.path.join(OUT, f"logreg_{case}_proba.csv"), "w") as f:
            f.write(rows(ex.predict_proba(X)))
        lines.append(f"{case} {dname} {C!r} {int(fi)} {mc} {cw or 'none'} "
                     f"{int(lb.n_iter_.max())} {diff:.3g} {gmax:.3g}\n")
        print(lines[-1], end="")
    with open(os.path.join(OUT, "logreg_cases.txt"), "w") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
