#!/usr/bin/python3
"""Golden TreeSHAP values for tests/test_shap.c from XGBoost's own TreeSHAP
(Booster.predict(pred_contribs=True)): small boosters on a synthetic data set
with missing values, their trees written in vigil's ensemble layout, and for
some rows the margins and the per-feature contributions XGBoost computes.

XGBoost sends x < threshold to "yes"; vigil sends x <= threshold left, so the
threshold is written as the largest float32 below XGBoost's. Children are
renumbered breadth first so that a split's children are consecutive
(left = yes, right = no) and follow it. A node's missing direction is left
when XGBoost's "missing" child is its "yes" child.

Output (tests/golden/shap_xgb_<case>.txt), whitespace-separated:
    ensemble <n_features> <n_classes> <n_outputs> <link: 1 sigmoid, 2 softmax> <n_trees> <base margins...>
    tree <n_nodes> <output>
    node <feature or -1> <left child or 0> <threshold> <missing_left 0/1> <cover> <gain> <leaf value>
    ...
    rows <n>
    row <x_0 ... x_{f-1} (nan for missing)> margin <m_0 ...> contrib <phi[f][o] for f in 0..F, o in 0..K-1>
Contributions are (n_features + 1) x n_outputs by feature, the last row the bias.

Run with /usr/bin/python3 (Debian's python3-xgboost and numpy)."""
import json
import math
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")
N_FEATURES = 6


def data(seed, rows):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(rows, N_FEATURES)).astype(np.float32)
    X[:, 3] = np.round(X[:, 3] * 2.0)  # few distinct values: repeated splits
    X[rng.uniform(size=rows) < 0.15, 2] = np.nan
    s = X[:, 0] + 0.8 * np.nan_to_num(X[:, 2], nan=0.7) + 0.5 * X[:, 1] * X[:, 3] + 0.4 * rng.normal(size=rows)
    return X, s


def layout(tree):
    """Nodes of one XGBoost JSON tree in vigil's order."""
    by_id = {}

    def walk(n):
        by_id[n["nodeid"]] = n
        for c in n.get("children", []):
            walk(c)

    walk(tree)
    order, new = [tree["nodeid"]], {tree["nodeid"]: 0}
    out = []
    i = 0
    while i < len(order):
        n = by_id[order[i]]
        if "leaf" in n:
            out.append((-1, 0, 0.0, 0, n["cover"], 0.0, n["leaf"]))
        else:
            left = len(order)
            for c in (n["yes"], n["no"]):
                new[c] = len(order)
                order.append(c)
            thr = float(np.nextafter(np.float32(n["split_condition"]), np.float32(-np.inf)))
            feature = int(n["split"][1:])
            out.append((feature, left, thr, int(n["missing"] == n["yes"]), n["cover"], n["gain"], 0.0))
        i += 1
    return out


def write(name, bst, X, n_classes, base_margin):
    trees = [json.loads(t) for t in bst.get_dump(dump_format="json", with_stats=True)]
    K = 1 if n_classes == 2 else n_classes
    margin = bst.predict(xgb.DMatrix(X, missing=np.nan), output_margin=True).reshape(len(X), K)
    contrib = bst.predict(xgb.DMatrix(X, missing=np.nan), pred_contribs=True)
    contrib = contrib.reshape(len(X), K, N_FEATURES + 1) if K > 1 else contrib.reshape(len(X), 1, N_FEATURES + 1)
    lines = [f"ensemble {N_FEATURES} {n_classes} {K} {1 if K == 1 else 2} {len(trees)} "
             + " ".join(repr(float(b)) for b in base_margin)]
    for t, tree in enumerate(trees):
        nodes = layout(tree)
        lines.append(f"tree {len(nodes)} {t % K}")
        for f, left, thr, ml, cover, gain, leaf in nodes:
            lines.append(f"node {f} {left} {thr!r} {ml} {float(cover)!r} {float(gain)!r} {float(leaf)!r}")
    lines.append(f"rows {len(X)}")
    for r in range(len(X)):
        xs = " ".join("nan" if math.isnan(v) else repr(float(v)) for v in X[r])
        ms = " ".join(repr(float(v)) for v in margin[r])
        cs = " ".join(repr(float(contrib[r, o, f])) for f in range(N_FEATURES + 1) for o in range(K))
        lines.append(f"row {xs} margin {ms} contrib {cs}")
    with open(os.path.join(GOLDEN, f"shap_xgb_{name}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{name}: {len(trees)} trees, {len(X)} rows")


def main():
    X, s = data(7, 600)
    common = dict(max_depth=4, eta=0.3, tree_method="exact", seed=1, nthread=1)
    y = (s > 0.2).astype(int)
    base = 0.3
    bst = xgb.train(dict(objective="binary:logistic", base_score=base, **common),
                    xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=8)
    write("binary", bst, X[:60], 2, [math.log(base / (1 - base))])
    y3 = np.digitize(s, [-0.6, 0.6])
    bst = xgb.train(dict(objective="multi:softprob", num_class=3, base_score=0.5, **common),
                    xgb.DMatrix(X, label=y3, missing=np.nan), num_boost_round=5)
    write("multi", bst, X[:60], 3, [0.5, 0.5, 0.5])


if __name__ == "__main__":
    main()
