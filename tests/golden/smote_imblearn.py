#!/usr/bin/python3
"""Golden values for tests/test_sampler.c: imbalanced-learn 0.10's SMOTE and
SMOTENC on a fixed small set. Writes tests/golden/smote_imblearn.h.

The random draws cannot be shared (numpy's generator is not vigil's), so the
test compares what can be: the neighbour table (exact, from the same
distances), the class counts, and the new rows given imbalanced-learn's own
draws, which are recomputed here from the same RandomState and checked to
rebuild imbalanced-learn's output before they are written."""
import numpy as np
from imblearn.over_sampling import SMOTE, SMOTENC
from sklearn.neighbors import NearestNeighbors

rs = np.random.RandomState(3)
n_min, n_maj, d = 30, 70, 4
X = np.vstack([rs.normal(0, 1, (n_maj, d)), rs.normal(1.5, 0.7, (n_min, d))]).astype(np.float32).astype(np.float64)
y = np.array([0] * n_maj + [1] * n_min)
K = 3
out = ["/* Made by tests/golden/smote_imblearn.py (imbalanced-learn 0.10); do not edit. */"]


def arr(name, ctype, v, fmt):
    out.append(f"static const {ctype} {name}[{len(v)}] = {{" + ", ".join(fmt % x for x in v) + "};")


def draws(nn_num, n):
    r = np.random.RandomState(0)
    idx = r.randint(low=0, high=nn_num.size, size=n)
    steps = r.uniform(size=n)
    return idx, steps


# Plain SMOTE, 'auto': the minority up to 70.
Xr, yr = SMOTE(k_neighbors=K, random_state=0).fit_resample(X, y)
Xmin = X[y == 1]
nn = NearestNeighbors(n_neighbors=K + 1).fit(Xmin).kneighbors(Xmin, return_distance=False)[:, 1:]
n_new = n_maj - n_min
idx, steps = draws(nn, n_new)
rows, cols = idx // K, idx % K
rebuilt = Xmin[rows] + steps[:, None] * (Xmin[nn[rows, cols]] - Xmin[rows])
assert np.allclose(rebuilt, Xr[len(X):]), "the draws do not rebuild imbalanced-learn's rows"
out.append(f"#define GOLD_ROWS {len(X)}\n#define GOLD_COLS {d}\n#define GOLD_MIN {n_min}\n#define GOLD_K {K}\n#define GOLD_NEW {n_new}")
arr("gold_X", "float", X.ravel(), "%.9e")
arr("gold_y", "int32_t", y, "%d")
arr("gold_nn", "uint32_t", nn.ravel(), "%d")
arr("gold_pick", "uint32_t", idx, "%d")
arr("gold_gap", "double", steps, "%.17g")
arr("gold_new", "double", Xr[len(X):].ravel(), "%.17g")

# SMOTENC: column 3 made categorical (codes 0..2).
Xc = X.copy()
Xc[:, 3] = np.floor(np.abs(X[:, 3]) * 2) % 3
sm = SMOTENC(categorical_features=[3], k_neighbors=K, random_state=0)
Xcr, _ = sm.fit_resample(Xc, y)
Xcmin = Xc[y == 1]
med = sm.median_std_
enc = np.hstack([Xcmin[:, :3], np.eye(3)[Xcmin[:, 3].astype(int)] * med / 2])
nnc = NearestNeighbors(n_neighbors=K + 1).fit(enc).kneighbors(enc, return_distance=False)[:, 1:]
idx, steps = draws(nnc, n_new)
rows, cols = idx // K, idx % K
reb = Xcmin[rows, :3] + steps[:, None] * (Xcmin[nnc[rows, cols], :3] - Xcmin[rows, :3])
assert np.allclose(reb, Xcr[len(X):, :3]), "SMOTENC: the draws do not rebuild the numeric columns"
# imbalanced-learn 0.10 breaks a tie between the most frequent neighbour
# categories at random; vigil takes the lowest. Rows without a tie are compared.
cats = Xcmin[nnc[rows], 3].astype(int)
counts_nc = np.array([np.bincount(c, minlength=3) for c in cats])
unique = (counts_nc == counts_nc.max(axis=1, keepdims=True)).sum(axis=1) == 1
assert (Xcr[len(X):, 3][unique] == np.argmax(counts_nc, axis=1)[unique]).all()
arr("gold_nc_unique", "uint8_t", unique.astype(int), "%d")
arr("gold_nc_X", "float", Xc.ravel(), "%.9e")
arr("gold_nc_nn", "uint32_t", nnc.ravel(), "%d")
arr("gold_nc_pick", "uint32_t", idx, "%d")
arr("gold_nc_gap", "double", steps, "%.17g")
arr("gold_nc_new", "double", Xcr[len(X):].ravel(), "%.17g")
out.append(f"#define GOLD_NC_COST {med * med / 2:.17g}")

# Counts of the strategies on classes of 70 / 30 / 12 rows.
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
y3 = np.array([0] * 70 + [1] * 30 + [2] * 12)
X3 = np.zeros((len(y3), 1))
counts = []
for s in [RandomOverSampler(random_state=0),
          RandomUnderSampler(random_state=0), RandomUnderSampler(sampling_strategy="majority", random_state=0)]:
    _, yy = s.fit_resample(X3, y3)
    counts += list(np.bincount(yy))
yb = y3[y3 < 2]
for s in [RandomOverSampler(sampling_strategy=0.6, random_state=0), RandomUnderSampler(sampling_strategy=0.6, random_state=0)]:
    _, yy = s.fit_resample(X3[: len(yb)], yb)
    counts += list(np.bincount(yy)) + [0]
arr("gold_counts", "size_t", counts, "%d")
open(__file__.replace(".py", ".h"), "w").write("\n".join(out) + "\n")
print("ok")
