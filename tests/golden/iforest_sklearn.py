#!/usr/bin/python3
"""Golden values for tests/test_iforest.c from scikit-learn's IsolationForest.

Writes tests/golden/iforest_sklearn.txt:
  c N VALUE                    sklearn.ensemble._iforest._average_path_length([N])
  forest N_FEATURES N_TREES PSI
  tree N_NODES                 then N_NODES lines, breadth-first so that a split's
  node LEFT FEATURE THRESHOLD N_SAMPLES    children are LEFT and LEFT + 1 (FEATURE -1: a leaf);
                               THRESHOLD is scikit-learn's double rounded down to a float,
                               which sends every float row the same way
  x V1 .. VF SCORE             a row and -score_samples (the anomaly score)
Run once: /usr/bin/python3 tests/golden/iforest_sklearn.py > tests/golden/iforest_sklearn.txt
"""
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.ensemble._iforest import _average_path_length

for n in [1, 2, 3, 4, 5, 10, 100, 256, 1000, 12345]:
    print("c %d %.17g" % (n, _average_path_length(np.array([n]))[0]))

rng = np.random.RandomState(7)
X = np.vstack([rng.normal(0, 1, size=(60, 3)), rng.normal(4, 0.5, size=(4, 3))]).astype(np.float32)
forest = IsolationForest(n_estimators=5, max_samples=32, random_state=3).fit(X)
print("forest %d %d %d" % (X.shape[1], len(forest.estimators_), forest.max_samples_))
for est, feats in zip(forest.estimators_, forest.estimators_features_):
    t = est.tree_
    order, new_id = [0], {0: 0}
    i = 0
    while i < len(order):
        node = order[i]
        if t.children_left[node] != -1:
            for child in (t.children_left[node], t.children_right[node]):
                new_id[child] = len(order)
                order.append(child)
        i += 1
    print("tree %d" % len(order))
    for node in order:
        if t.children_left[node] == -1:
            print("node 0 -1 0 %d" % t.n_node_samples[node])
            continue
        thr = np.float32(t.threshold[node])
        if float(thr) > t.threshold[node]:
            thr = np.nextafter(thr, np.float32(-np.inf))
        print("node %d %d %.9g %d" % (new_id[t.children_left[node]], feats[t.feature[node]], thr,
                                      t.n_node_samples[node]))
Q = np.vstack([X[:6], X[-4:], rng.normal(0, 3, size=(10, 3)).astype(np.float32)])
for row, s in zip(Q, -forest.score_samples(Q)):
    print("x " + " ".join("%.9g" % v for v in row) + " %.17g" % s)
