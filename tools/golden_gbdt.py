#!/usr/bin/python3
"""Golden outputs for tests/test_gbdt.c: XGBoost's gradient boosting on
tests/golden/binary.csv (breast cancer, 569 rows, 30 numeric features) with
the settings the test gives vigil:

    tree_method='hist', max_bin=256, max_depth=3, n_estimators=10,
    learning_rate=0.3, reg_lambda=1, min_child_weight=1, gamma=0,
    base_score=0.5 (vigil: base_score=0.5, a probability, the same raw 0)

Writes tests/golden/gbdt_xgb_binary.csv: one line per training row with
XGBoost's probability of class 1, and tests/golden/gbdt_xgb_binary.txt with
the training log loss after each round ("round N logloss X").

The trees cannot match exactly: XGBoost's quantile sketch places its bin
edges differently from vigil's binning, and it splits at `x < cut` where
vigil splits at the midpoint between bins. The test therefore compares the
training log loss (a tolerance of a few percent), not the trees.

Run with /usr/bin/python3 (Debian's python3-xgboost 1.7)."""
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "tests", "golden")


def main():
    data = np.loadtxt(os.path.join(GOLDEN, "binary.csv"), delimiter=",", skiprows=1)
    X, y = data[:, :-1].astype(np.float32), data[:, -1].astype(int)
    model = xgb.XGBClassifier(tree_method="hist", max_bin=256, max_depth=3, n_estimators=10, learning_rate=0.3,
                              reg_lambda=1.0, min_child_weight=1.0, gamma=0.0, base_score=0.5, n_jobs=1)
    model.fit(X, y, eval_set=[(X, y)], verbose=False)
    losses = model.evals_result()["validation_0"]["logloss"]
    proba = model.predict_proba(X)[:, 1]
    with open(os.path.join(GOLDEN, "gbdt_xgb_binary.csv"), "w") as f:
        for p in proba:
            f.write(f"{float(p):.9g}\n")
    with open(os.path.join(GOLDEN, "gbdt_xgb_binary.txt"), "w") as f:
        f.write(f"# XGBoost {xgb.__version__}: hist, max_bin 256, depth 3, eta 0.3, lambda 1, base_score 0.5\n")
        for i, loss in enumerate(losses):
            f.write(f"round {i + 1} logloss {loss:.9g}\n")
    print("final training log loss", losses[-1])


if __name__ == "__main__":
    main()
