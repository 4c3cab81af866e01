#!/usr/bin/python3
"""Write golden inputs and scikit-learn's metric values for tests/test_metrics.c.

For each case NAME this writes two files under tests/golden/:
  metrics_NAME.csv   the input: header "y,p0,p1,..." (class probabilities) or
                     "y,score" (a raw binary score for the curve functions);
                     probabilities are float32 values printed so they
                     round-trip, since vigil's models emit float32.
  metrics_NAME.json  scikit-learn 1.2's figures, computed from the CSV as
                     written (re-read here, so both sides see identical input).

Cases:
  binary_ties        60 rows, scores on a 0.1 grid: many ties across classes,
                     exact 0 and 1 (log-loss clipping), 0.5/0.5 rows (argmax
                     tie goes to class 0)
  binary_random      1000 random rows, about 30% positive
  multi3             300 rows, 3 classes, all present
  multi5_absent      400 rows, 5 classes; class 3 never occurs in y but is
                     predicted for some rows
  multi4_unpredicted 200 rows, 4 classes; class 2 neither occurs nor is predicted
  scores_signed      200 rows of raw scores (negative and positive, +0/-0 ties,
                     large magnitudes) for vg_roc_auc, vg_average_precision
                     and the curve points

Conventions that scikit-learn leaves open, chosen in vigil and mirrored here:
  - FPR = FP / (FP + TN) of the positive class (binary), or the macro mean of
    the per-class one-vs-rest FPRs over the labels present in y or the
    predictions (scikit-learn's default label set for macro averages);
  - multiclass ROC-AUC and average precision are the macro mean of the
    one-vs-rest binary figures over the classes with both positive and
    negative rows (scikit-learn raises when a class is absent from y);
  - log loss uses eps=1e-15 (scikit-learn 1.2's default is the dtype's eps).
Run with /usr/bin/python3 (Debian's python3-sklearn 1.2.1)."""
import json
import math
import os

import numpy as np
from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix,
                             f1_score, log_loss, precision_recall_curve,
                             precision_recall_fscore_support, precision_score, recall_score,
                             roc_auc_score, roc_curve)
from sklearn.preprocessing import label_binarize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
EPS = 1e-15


def f32(v):
    """Shortest text that parses back to the same float32 (and float64 of it)."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


def write_csv(name, header, y, cols):
    path = os.path.join(OUT, f"metrics_{name}.csv")
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for i in range(len(y)):
            f.write(",".join([str(int(y[i]))] + [f32(c[i]) for c in cols]) + "\n")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    y = data[:, 0].astype(np.int64)
    vals = data[:, 1:].astype(np.float32).astype(np.float64)
    return y, vals


def clean(v):
    """JSON has no NaN: undefined figures are null."""
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return v


def write_json(name, obj):
    with open(os.path.join(OUT, f"metrics_{name}.json"), "w") as f:
        json.dump(clean(obj), f, allow_nan=False)
        f.write("\n")


def curves(y, score):
    """Curve points in vigil's order (highest threshold first, after a start
    point). scikit-learn's start threshold is max+1; vigil's is +inf, so it
    is left out here and the test checks it separately."""
    fpr, tpr, thr = roc_curve(y, score, drop_intermediate=False)
    prec, rec, pthr = precision_recall_curve(y, score)
    return {
        "roc": {"threshold": thr[1:].tolist(), "fpr": fpr.tolist(), "tpr": tpr.tolist()},
        # precision_recall_curve lists thresholds ascending and appends the
        # (recall 0, precision 1) start last; reverse to vigil's order.
        "pr": {"threshold": pthr[::-1].tolist(), "recall": rec[::-1].tolist(),
               "precision": prec[::-1].tolist()},
    }


def one_vs_rest(y, proba, k):
    roc, ap = [], []
    for c in range(k):
        pos = (y == c).astype(int)
        if 0 < pos.sum() < len(y):
            roc.append(roc_auc_score(pos, proba[:, c]))
            ap.append(average_precision_score(pos, proba[:, c]))
        else:
            roc.append(float("nan"))
            ap.append(float("nan"))
    return roc, ap


def oracle(y, proba, with_curves=False):
    n, k = proba.shape
    pred = proba.argmax(axis=1)  # lowest index wins ties, as in vigil
    labels = list(range(k))
    cm = confusion_matrix(y, pred, labels=labels)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    fp = cm.sum(axis=0) - np.diag(cm)
    neg = n - cm.sum(axis=1)
    fpr = np.divide(fp, neg, out=np.zeros(k), where=neg != 0)
    roc, ap = one_vs_rest(y, proba, k)
    present = sorted(set(y.tolist()) | set(pred.tolist()))
    res = {
        "rows": n, "n_classes": k,
        "accuracy": accuracy_score(y, pred),
        "macro_f1": f1_score(y, pred, average="macro", zero_division=0),
        "weighted_f1": f1_score(y, pred, average="weighted", zero_division=0),
        "log_loss": log_loss(y, proba, eps=EPS, labels=labels),
        "confusion_matrix": cm.tolist(),
        "per_class": [{"precision": p[c], "recall": r[c], "f1": f[c], "fpr": fpr[c],
                       "support": s[c], "roc_auc": roc[c], "pr_auc": ap[c]} for c in range(k)],
    }
    if k == 2:
        res.update(precision=precision_score(y, pred, zero_division=0),
                   recall=recall_score(y, pred, zero_division=0),
                   f1=f1_score(y, pred, zero_division=0),
                   fpr=fpr[1],
                   roc_auc=roc_auc_score(y, proba[:, 1]),
                   pr_auc=average_precision_score(y, proba[:, 1]))
        if with_curves:
            res["curves"] = curves(y, proba[:, 1])
    else:
        res.update(precision=precision_score(y, pred, average="macro", zero_division=0),
                   recall=recall_score(y, pred, average="macro", zero_division=0),
                   f1=res["macro_f1"],
                   fpr=float(np.mean([fpr[c] for c in present])),
                   roc_auc=float(np.nanmean(roc)), pr_auc=float(np.nanmean(ap)))
        if len(set(y.tolist())) == k:
            # With every class present, scikit-learn's own multiclass calls
            # must agree with the one-vs-rest means written above.
            assert abs(roc_auc_score(y, proba, multi_class="ovr") - res["roc_auc"]) < 1e-12
            yb = label_binarize(y, classes=labels)
            assert abs(average_precision_score(yb, proba) - res["pr_auc"]) < 1e-12
    return res


def softmax_proba(rng, y, k, sep, extra=None):
    logits = rng.normal(size=(len(y), k))
    logits[np.arange(len(y)), y] += sep
    if extra is not None:
        logits += extra
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def proba_case(name, y, proba, with_curves=False):
    k = proba.shape[1]
    y, vals = write_csv(name, ["y"] + [f"p{c}" for c in range(k)], y, [proba[:, c] for c in range(k)])
    write_json(name, oracle(y, vals, with_curves))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240601)

    s = rng.integers(0, 11, 60) / 10.0
    y = (rng.random(60) < 0.15 + 0.7 * s).astype(int)
    s[:3] = [0.5, 0.0, 1.0]
    proba = np.stack([(1.0 - s), s], axis=1).astype(np.float32)
    proba_case("binary_ties", y, proba, with_curves=True)

    y = (rng.random(1000) < 0.3).astype(int)
    z = rng.normal(size=1000) + 1.6 * y - 0.5
    p1 = 1.0 / (1.0 + np.exp(-z))
    proba_case("binary_random", y, np.stack([1.0 - p1, p1], axis=1).astype(np.float32),
               with_curves=True)

    y = rng.integers(0, 3, 300)
    proba_case("multi3", y, softmax_proba(rng, y, 3, 1.5))

    y = rng.choice([0, 1, 2, 4], size=400, p=[0.4, 0.3, 0.2, 0.1])
    bias = np.zeros(5)
    bias[3] = 0.8  # class 3 gets predicted now and then though nobody has it
    proba_case("multi5_absent", y, softmax_proba(rng, y, 5, 1.8, bias))

    y = rng.choice([0, 1, 3], size=200, p=[0.5, 0.3, 0.2])
    bias = np.zeros(4)
    bias[2] = -30.0  # class 2: absent and never the argmax
    proba_case("multi4_unpredicted", y, softmax_proba(rng, y, 4, 1.5, bias))

    y = (rng.random(200) < 0.4).astype(int)
    score = np.round(rng.normal(size=200) * 3 + 2.0 * y, 1).astype(np.float32)
    score[:6] = [0.0, -0.0, 0.0, -0.0, 3e30, -3e30]
    y[:6] = [1, 0, 0, 1, 1, 0]
    y, vals = write_csv("scores_signed", ["y", "score"], y, [score])
    write_json("scores_signed", {"rows": len(y), "roc_auc": roc_auc_score(y, vals[:, 0]),
                                 "pr_auc": average_precision_score(y, vals[:, 0]),
                                 "curves": curves(y, vals[:, 0])})


if __name__ == "__main__":
    main()
