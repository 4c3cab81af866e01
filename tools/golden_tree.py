#!/usr/bin/python3
"""Golden outputs for tests/test_tree.c: scikit-learn DecisionTreeClassifier
probabilities on every training row.

Data sets (tests/golden/):
  tree_binary.csv : binary.csv (breast cancer) with every feature snapped to a
                    grid of 200 steps over its range, so each column has at most
                    200 distinct values and vigil's binning (max_bins 256) is
                    exact. binary.csv itself has up to 547 distinct values per
                    column, more than one byte of bins can hold exactly.
  multiclass.csv  : wine, used as it is (at most 133 distinct values per column).
Values are written as float32 (which both scikit-learn and vigil compute in).

Cases: gini with max_depth=4, entropy with min_samples_leaf=5.
Outputs: tree_<data>_<case>.csv (one row of class probabilities per training
row) and tree_golden.txt (tree sizes, and the ties the trees contain).

Ties: scikit-learn visits features in a random order (set by random_state)
and keeps the first of equally good splits; vigil visits them in column order
and also keeps the first. Where two splits that partition a node's rows
differently score the same, the trees can differ for that reason alone. So
for each case this script tries random_state 0, 1, 2, ... and keeps the first
whose tree has no node where a split on a lower-numbered column scores the
same as (within 1e-12 of) the chosen one: then column order picks what
scikit-learn picked. The ties that remain (a higher-numbered column scoring
the same) are listed in tree_golden.txt; they cannot change vigil's choice.

Run with /usr/bin/python3 (Debian's python3-sklearn)."""
import os
import numpy as np
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")
CASES = [
    ("gini_depth4", dict(criterion="gini", max_depth=4)),
    ("entropy_leaf5", dict(criterion="entropy", min_samples_leaf=5)),
]


def read(name):
    with open(os.path.join(GOLDEN, name)) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(os.path.join(GOLDEN, name), delimiter=",", skiprows=1)
    return header, data[:, :-1].astype(np.float32), data[:, -1].astype(int)


def write_snapped_binary():
    header, X, y = read("binary.csv")
    out = np.empty_like(X)
    for j in range(X.shape[1]):
        lo, hi = float(X[:, j].min()), float(X[:, j].max())
        step = (hi - lo) / 199.0
        out[:, j] = (lo + np.round((X[:, j] - lo) / step) * step).astype(np.float32)
        assert len(np.unique(out[:, j])) <= 200
    with open(os.path.join(GOLDEN, "tree_binary.csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for row, label in zip(out, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{label}\n")


def impurity(counts, criterion):
    """As scikit-learn's Gini / Entropy criteria compute it."""
    w = float(counts.sum())
    if criterion == "gini":
        return 1.0 - float((counts * counts).sum()) / (w * w)
    e = 0.0
    for c in counts:
        if c > 0:
            p = c / w
            e -= p * (np.log(p) / np.log(2.0))
    return e


def ties(clf, X, y, criterion, min_leaf):
    """Internal nodes where another split of a different partition scores
    exactly like the chosen one; returns (node, feature, other feature) and
    how many training rows the alternative would send to another leaf set."""
    t = clf.tree_
    node_rows = {0: np.arange(len(y))}
    found = []
    n_classes = clf.n_classes_
    for node in range(t.node_count):
        rows = node_rows[node]
        if t.children_left[node] == -1:
            continue
        f0, thr0 = t.feature[node], t.threshold[node]
        left0 = X[rows, f0] <= thr0
        node_rows[t.children_left[node]] = rows[left0]
        node_rows[t.children_right[node]] = rows[~left0]

        def score(left):
            nl, nr = left.sum(), (~left).sum()
            if nl < min_leaf or nr < min_leaf:
                return None
            cl = np.bincount(y[rows][left], minlength=n_classes).astype(float)
            cr = np.bincount(y[rows][~left], minlength=n_classes).astype(float)
            return -(nr * impurity(cr, criterion) + nl * impurity(cl, criterion))

        best = score(left0)
        for f in range(X.shape[1]):
            vals = np.unique(X[rows, f])
            for a, b in zip(vals[:-1], vals[1:]):
                left = X[rows, f] <= (a / 2.0 + b / 2.0)
                s = score(left)
                if s is None or (left == left0).all() or (left != left0).all():
                    continue
                if abs(s - best) <= 1e-12 * max(1.0, abs(best)):
                    found.append((node, int(f0), f, int((left != left0).sum())))
    return found


def main():
    write_snapped_binary()
    lines = []
    for data in ["tree_binary.csv", "multiclass.csv"]:
        _, X, y = read(data)
        stem = data.replace(".csv", "").replace("tree_", "")
        for name, kw in CASES:
            for rs in range(1000):
                clf = DecisionTreeClassifier(random_state=rs, **kw).fit(X, y)
                tie = ties(clf, X.astype(np.float64), y, kw["criterion"], kw.get("min_samples_leaf", 1))
                if all(f >= f0 for _, f0, f, _ in tie):
                    break
            else:
                raise SystemExit(f"{stem} {name}: every random_state has a tie vigil would break otherwise")
            proba = clf.predict_proba(X)
            with open(os.path.join(GOLDEN, f"tree_{stem}_{name}.csv"), "w") as f:
                for row in proba:
                    f.write(",".join(repr(float(v)) for v in row) + "\n")
            lines.append(f"{stem} {name}: random_state {rs}, nodes {clf.tree_.node_count} leaves {clf.get_n_leaves()} "
                         f"depth {clf.get_depth()} training accuracy {clf.score(X, y):.6f} "
                         f"tied alternative splits {len(tie)}")
            for node, f0, f, moved in tie:
                lines.append(f"  node {node}: column {f0} chosen, column {f} scores the same "
                             f"({moved} rows of the node would go the other way)")
    with open(os.path.join(GOLDEN, "tree_golden.txt"), "w") as f:
        f.write("scikit-learn DecisionTreeClassifier; ties listed are with higher-numbered columns only\n")
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
