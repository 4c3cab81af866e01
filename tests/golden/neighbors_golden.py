#!/usr/bin/python3
"""Golden values for kmeans, lof and knn (tests/test_kmeans.c, test_lof.c,
test_knn.c) from scikit-learn 1.2. Run once from the repository root:
    /usr/bin/python3 tests/golden/neighbors_golden.py
Each data set mixes standardised-looking numbers with 0/1 one-hot columns,
so the bit-packed path of src/models/distance.c is exercised; values are
float32-exact so both sides see the same inputs. Files are headerless CSV."""
import numpy as np
from sklearn.cluster import KMeans
from sklearn.neighbors import LocalOutlierFactor, KNeighborsClassifier

OUT = "tests/golden/"
rng = np.random.RandomState(7)


def table(n, n_num, n_cat, centers=3):
    """n rows: n_num gaussian blobs, then one-hot of a category with n_cat levels."""
    c = rng.randint(0, centers, n)
    num = rng.normal(0, 1, (n, n_num)) + c[:, None] * 2.5
    cat = np.zeros((n, n_cat))
    cat[np.arange(n), (c + rng.randint(0, 2, n)) % n_cat] = 1.0
    X = np.hstack([num, cat]).astype(np.float32).astype(np.float64)
    return X, c


def save(name, a, fmt="%.17g"):
    np.savetxt(OUT + name, np.atleast_2d(a), delimiter=",", fmt=fmt)


# k-means from given centroids: same centroids and inertia.
X, _ = table(90, 4, 3)
X[5] = X[6]  # a duplicate row
init = X[[0, 1, 2]].copy()
save("kmeans_X.csv", X)
save("kmeans_init.csv", init)
for algo in ("lloyd", "elkan"):
    km = KMeans(n_clusters=3, init=init, n_init=1, algorithm=algo, tol=1e-4, max_iter=300).fit(X)
    save("kmeans_%s_centers.csv" % algo, km.cluster_centers_)
    save("kmeans_%s_inertia.csv" % algo, [km.inertia_, km.n_iter_])
# a run that empties a cluster: init with two identical centroids
init2 = X[[0, 0, 1]].copy()
save("kmeans_init_dup.csv", init2)
km = KMeans(n_clusters=3, init=init2, n_init=1, algorithm="lloyd", tol=1e-4, max_iter=300).fit(X)
save("kmeans_dup_centers.csv", km.cluster_centers_)
save("kmeans_dup_inertia.csv", [km.inertia_, km.n_iter_])

# LOF novelty scores (negated score_samples), n_neighbors=10.
Xtr, _ = table(120, 5, 4)
Xtr[10] = Xtr[11]
Xte, _ = table(40, 5, 4)
Xte[0] = Xtr[3]           # a training row
Xte[1, :5] += 6.0         # an outlier
Xte[2, 5:] = 0.0          # an unseen category (all zeros)
Xte[3, 5] = 0.5           # a non-0/1 value in a one-hot column
lof = LocalOutlierFactor(n_neighbors=10, novelty=True).fit(Xtr)
save("lof_train.csv", Xtr)
save("lof_test.csv", Xte)
save("lof_scores.csv", -lof.score_samples(Xte))
save("lof_train_scores.csv", -lof.negative_outlier_factor_)

# kNN classifier probabilities.
Xtr, ytr = table(150, 5, 4)
Xte, _ = table(50, 5, 4)
Xte[0] = Xtr[7]  # a training row (distance 0 for weights=distance)
save("knn_train.csv", np.hstack([Xtr, ytr[:, None]]))
save("knn_test.csv", Xte)
for k, w, m in ((5, "uniform", "euclidean"), (7, "distance", "manhattan"), (6, "uniform", "cosine"),
                (4, "distance", "euclidean")):
    clf = KNeighborsClassifier(n_neighbors=k, weights=w, metric=m, algorithm="brute").fit(Xtr, ytr)
    save("knn_%d_%s_%s.csv" % (k, w, m), clf.predict_proba(Xte))
