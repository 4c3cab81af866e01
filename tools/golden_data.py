#!/usr/bin/python3
"""Write the small, fixed data sets the golden tests share.

binary.csv     : scikit-learn's breast cancer data (569 rows, 30 numeric features, label 0/1)
multiclass.csv : scikit-learn's wine data (178 rows, 13 numeric features, 3 classes)
Both ship with Debian's python3-sklearn; run with /usr/bin/python3."""
import os
from sklearn.datasets import load_breast_cancer, load_wine

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "golden")


def write(name, data):
    with open(os.path.join(OUT, name), "w") as f:
        names = [n.replace(" ", "_") for n in data.feature_names]
        f.write(",".join(names + ["label"]) + "\n")
        for row, y in zip(data.data, data.target):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(y)}\n")


os.makedirs(OUT, exist_ok=True)
write("binary.csv", load_breast_cancer())
write("multiclass.csv", load_wine())
