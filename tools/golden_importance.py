#!/usr/bin/python3
"""Golden feature importances for tests/test_importance.c: scikit-learn's
DecisionTreeClassifier.feature_importances_ (normalised total impurity
decrease per feature) for the trees of tools/golden_tree.py: the same data
and cases, and trees that predict exactly like the ones its probability
goldens were made from.

Importance needs one thing more than probabilities: which feature a split
names. When splits on two columns send the same rows the same way, they
score the same; scikit-learn keeps the first in its random feature order,
vigil the lowest column, and the probabilities cannot tell them apart, but
the importances can. So for each case this script tries random_state 0, 1,
2, ... and keeps the first whose tree has no node where a lower-numbered
column scores the same as (within 1e-12 of) the chosen split, whether it
partitions the rows the same way or not; then column order picks what
scikit-learn picked. The script checks that the tree predicts the training
rows exactly as the random_state recorded in tree_golden.txt does.

Output: tests/golden/tree_importance.csv, one line per case:
    <data>,<case>,<random_state>,<importance of column 0>,<column 1>,...

Run with /usr/bin/python3 (Debian's python3-sklearn) after golden_tree.py."""
import os
import re
import sys

import numpy as np
from sklearn.tree import DecisionTreeClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_tree  # noqa: E402  (same reader, cases and impurity)


def recorded_states():
    """(stem, case) -> random_state golden_tree.py recorded."""
    out = {}
    with open(os.path.join(golden_tree.GOLDEN, "tree_golden.txt")) as f:
        for line in f:
            m = re.match(r"(\w+) (\w+): random_state (\d+)", line)
            if m:
                out[(m.group(1), m.group(2))] = int(m.group(3))
    return out


def lower_column_ties(clf, X, y, criterion, min_leaf):
    """Nodes where a split on a lower-numbered column scores like the chosen
    one (any partition, the same one included)."""
    t = clf.tree_
    node_rows = {0: np.arange(len(y))}
    found = []
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
            cl = np.bincount(y[rows][left], minlength=clf.n_classes_).astype(float)
            cr = np.bincount(y[rows][~left], minlength=clf.n_classes_).astype(float)
            return -(nr * golden_tree.impurity(cr, criterion) + nl * golden_tree.impurity(cl, criterion))

        best = score(left0)
        for f in range(f0):
            vals = np.unique(X[rows, f])
            for a, b in zip(vals[:-1], vals[1:]):
                s = score(X[rows, f] <= (a / 2.0 + b / 2.0))
                if s is not None and abs(s - best) <= 1e-12 * max(1.0, abs(best)):
                    found.append((node, int(f0), f))
    return found


def main():
    states = recorded_states()
    lines = []
    for data in ["tree_binary.csv", "multiclass.csv"]:
        _, X, y = golden_tree.read(data)
        stem = data.replace(".csv", "").replace("tree_", "")
        for name, kw in golden_tree.CASES:
            ref = DecisionTreeClassifier(random_state=states[(stem, name)], **kw).fit(X, y)
            for rs in range(1000):
                clf = DecisionTreeClassifier(random_state=rs, **kw).fit(X, y)
                if (clf.predict_proba(X) != ref.predict_proba(X)).any():
                    continue
                if not lower_column_ties(clf, X.astype(np.float64), y, kw["criterion"],
                                         kw.get("min_samples_leaf", 1)):
                    break
            else:
                raise SystemExit(f"{stem} {name}: no random_state picks the lowest column at every tie")
            lines.append(",".join([stem, name, str(rs)] + [repr(float(v)) for v in clf.feature_importances_]))
            print(f"{stem} {name}: random_state {rs}")
    with open(os.path.join(golden_tree.GOLDEN, "tree_importance.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
