#!/usr/bin/python3
"""Data for bench/svm.sh: a stratified sample of NSL-KDD's KDDTrain+ (by attack
category, seeded) written twice, so vigil and LIBSVM learn from the same rows
and the same numbers:
  sample.txt            the sampled raw records (KDD format, for `vigil train --format kdd`)
  train.svm / test.svm  LIBSVM format: the encoding vigil's pipeline gives a
                        linear/kernel family (numbers standardised with the
                        sample's mean and population std, a std below 1e-12*(|mean|+1)
                        taken as 1; protocol_type/service/flag one-hot over the
                        categories seen in the sample; an unseen test category is all
                        zeros), label 1 = attack, 0 = normal, in the first row's order.
  gamma.txt             scikit-learn's gamma='scale' on that matrix: 1 / (d * X.var()).
usage: svm_data.py KDDTrain+.txt.gz KDDTest+.txt.gz ROWS SEED OUTDIR  (ROWS 0 = every row)"""
import csv, gzip, os, random, sys

train_path, test_path, rows, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

cats = dict(csv.reader(open(os.path.join(os.path.dirname(train_path), "attack_categories.csv"))))

def read(p):
    with gzip.open(p, "rt") as f:
        return [l.rstrip("\n").split(",") for l in f if l.strip()]

train, test = read(train_path), read(test_path)
if rows and rows < len(train):
    groups = {}
    for i, r in enumerate(train):
        groups.setdefault(cats.get(r[41], "unknown"), []).append(i)
    rng = random.Random(seed)
    pick = []
    # Largest remainder allocation, at least one row per category.
    want = {g: max(1, len(ix) * rows // len(train)) for g, ix in groups.items()}
    left = rows - sum(want.values())
    for g in sorted(groups, key=lambda g: -(len(groups[g]) * rows % len(train)))[:max(0, left)]:
        want[g] += 1
    for g in sorted(groups):
        pick += rng.sample(groups[g], want[g])
    pick.sort()
    train = [train[i] for i in pick]

with open(os.path.join(out, "sample.txt"), "w") as f:
    for r in train:
        f.write(",".join(r) + "\n")

cat_cols = (1, 2, 3)
num_cols = [c for c in range(41) if c not in cat_cols]
stats = {}
for c in num_cols:
    v = [float(r[c]) for r in train]
    m = sum(v) / len(v)
    sd = (sum((x - m) ** 2 for x in v) / len(v)) ** 0.5
    stats[c] = (m, sd if sd > 1e-12 * (abs(m) + 1) else 1.0)
levels = {c: sorted({r[c] for r in train}) for c in cat_cols}

def encode(r):
    x = []
    for c in range(41):
        if c in cat_cols:
            x += [1.0 if r[c] == lv else 0.0 for lv in levels[c]]
        else:
            m, sd = stats[c]
            x.append((float(r[c]) - m) / sd)
    return x

def write(rows_, path):
    with open(path, "w") as f:
        for r in rows_:
            x = encode(r)
            y = 0 if r[41] == "normal" else 1
            f.write(str(y) + "".join(" %d:%.9g" % (j + 1, v) for j, v in enumerate(x) if v != 0.0) + "\n")

write(train, os.path.join(out, "train.svm"))
write(test, os.path.join(out, "test.svm"))
X = [encode(r) for r in train]
d = len(X[0])
flat = [v for x in X for v in x]
m = sum(flat) / len(flat)
var = sum((v - m) ** 2 for v in flat) / len(flat)
with open(os.path.join(out, "gamma.txt"), "w") as f:
    f.write("%.17g\n" % (1.0 / (d * var)))
print("rows %d test %d features %d gamma %.6g" % (len(train), len(test), d, 1.0 / (d * var)))
