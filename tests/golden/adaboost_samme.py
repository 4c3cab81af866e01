# Golden values for tests/test_adaboost.c: scikit-learn 1.2's
# AdaBoostClassifier(algorithm="SAMME") over depth-1 stumps on a fixed small
# set (continuous features, so no two splits tie). Prints C arrays.
import numpy as np
from sklearn.ensemble import AdaBoostClassifier
from sklearn.tree import DecisionTreeClassifier

rng = np.random.RandomState(7)
n, f = 60, 3
X = np.round(rng.normal(size=(n, f)), 4)
y2 = ((X[:, 0] + 0.6 * X[:, 1] ** 2 - 0.4 * X[:, 2] + 0.5 * rng.normal(size=n)) > 0.3).astype(int)
s = X[:, 0] - X[:, 2] + 0.4 * rng.normal(size=n)
y3 = np.digitize(s, np.quantile(s, [1 / 3, 2 / 3]))

def show(name, v):
    print(f"static const double {name}[] = {{" + ", ".join(f"{x:.9g}" for x in np.ravel(v)) + "};")

show("X", X)
print("static const int Y2[] = {" + ", ".join(str(v) for v in y2) + "};")
print("static const int Y3[] = {" + ", ".join(str(v) for v in y3) + "};")
for name, y, k in (("BIN", y2, 2), ("MULTI", y3, 3)):
    m = AdaBoostClassifier(estimator=DecisionTreeClassifier(max_depth=1), algorithm="SAMME",
                           n_estimators=12, learning_rate=0.7, random_state=0).fit(X, y)
    show(name + "_ALPHA", m.estimator_weights_[: len(m.estimators_)])
    show(name + "_PROBA", m.predict_proba(X))
