#!/usr/bin/python3
"""Where vigil's gbdt ROC-AUC on NSL-KDD differs from XGBoost's, with the
evidence, and which default cross-validation on training rows picks.

Part 1 (explanation only; no default is chosen from it): the KDDTest+
ROC-AUC (and each class's one-vs-rest AUC) of the same 200 rounds, depth 6,
learning rate 0.1 model with one detail changed at a time:
  - categories: vigil's native categorical splits (LightGBM's method, its
    default) against max_cat_to_onehot=256 (every categorical split is one
    category against the rest: what trees on one-hot columns can split),
    and XGBoost on one-hot columns against XGBoost's own categorical splits
    (enable_categorical=True);
  - bin boundaries: vigil with max_bins 128 / 255 / 256 (XGBoost's own
    figures for max_bin are in the gbdt section's notes).
Part 2 (the default): 3-fold cross-validation on KDDTrain+ only, with folds
stratified by attack name (those of bench/gbdt_cat_cv.py) and with attack
names held out whole (attack_folds), mean held-out ROC-AUC and log loss for
max_cat_to_onehot 4 (the default), 256, and 256 with min_child_weight 0.1.
Each part takes about ten minutes on a quiet machine; --parts runs one.

Writes the section "## gbdt ROC-AUC against XGBoost: where the difference
comes from" of bench/RESULTS.md (the prose under the tables is kept in
NOTES below and says what the figures show).

  /usr/bin/python3 bench/gbdt_auc_gap.py [--vigil build/vigil] [--parts test,cv] [--no-write]"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

from gbdt_cat_cv import folds_of
from results import put_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
NSL = os.path.join(ROOT, "..", "shared", "data", "nsl-kdd")
TRAIN, TEST = os.path.join(NSL, "KDDTrain+.txt.gz"), os.path.join(NSL, "KDDTest+.txt.gz")
CATS = os.path.join(NSL, "attack_categories.csv")
SECTION = "## gbdt ROC-AUC against XGBoost: where the difference comes from"
BASE = ["n_estimators=200", "max_depth=6", "learning_rate=0.1"]
VARIANTS = [("vigil, native categories (default)", []),
            ("vigil, max_cat_to_onehot=256 (one category against the rest)", ["max_cat_to_onehot=256"]),
            ("vigil, max_bins=255", ["max_bins=255"]),
            ("vigil, max_bins=128", ["max_bins=128"])]
CLASSES = ["normal", "DoS", "Probe", "R2L", "U2R"]
CANDIDATES = [("max_cat_to_onehot=4 (default)", ["max_cat_to_onehot=4"]),
              ("max_cat_to_onehot=256", ["max_cat_to_onehot=256"]),
              ("max_cat_to_onehot=256, min_child_weight=0.1", ["max_cat_to_onehot=256", "min_child_weight=0.1"])]


def vigil(exe, train, test, task, params):
    with tempfile.TemporaryDirectory() as d:
        cmd = [exe, "train", "--data", train, "--test", test, "--format", "kdd", "--task", task, "--model", "gbdt",
               "--seed", "42", "--json", "-o", os.path.join(d, "m.vgm")]
        for p in BASE + params:
            cmd += ["--param", p]
        out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"gbdt_auc_gap: {' '.join(cmd)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def xgboost(tool, task):
    # One thread: XGBoost's hist trees do not depend on the thread count, and
    # its OpenMP threads crawl (minutes per fit) when other work shares the cores.
    cmd = ["/usr/bin/python3", os.path.join(HERE, "gbdt_python.py"), tool, task, TRAIN, TEST, "1", CATS, "200", "6",
           "0.1"]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def attack_folds(lines, k, seed):
    """Shifted folds: every attack name whole in one fold, so each held-out fold
    holds attack types its fit never saw, as KDDTest+ does (17 of its 37 attack
    names are not in KDDTrain+). Within each category the names, largest first,
    are dealt round-robin from a rotating start, so every category keeps some
    names on the training side; normal rows are dealt as in folds_of."""
    by_label = {}
    for ln in lines:
        by_label.setdefault(ln.split(",")[41], []).append(ln)
    cat_of = {}
    with open(CATS) as f:
        next(f)
        for row in f:
            a, c = row.strip().split(",")
            cat_of[a] = c
    folds = [[] for _ in range(k)]
    rng = random.Random(seed)
    normal = by_label.pop("normal")
    rng.shuffle(normal)
    for i, ln in enumerate(normal):
        folds[i % k].append(ln)
    by_cat = {}
    for label in by_label:
        by_cat.setdefault(cat_of[label], []).append(label)
    for start, cat in enumerate(sorted(by_cat)):
        names = sorted(by_cat[cat], key=lambda a: (-len(by_label[a]), a))
        for i, a in enumerate(names):
            folds[(start + i) % k] += by_label[a]
    return folds


def cross_validate(exe, lines, scheme, candidates, tasks):
    folds = (folds_of if scheme == "stratified" else attack_folds)(lines, 3, 1)
    cv = {}
    with tempfile.TemporaryDirectory(prefix="vigil-auc-gap.") as work:
        for i in range(3):
            with open(os.path.join(work, f"train{i}.txt"), "w") as f:
                f.writelines(ln for j, fold in enumerate(folds) if j != i for ln in fold)
            with open(os.path.join(work, f"valid{i}.txt"), "w") as f:
                f.writelines(folds[i])
        for task in tasks:
            for name, params in candidates:
                rs = [vigil(exe, os.path.join(work, f"train{i}.txt"), os.path.join(work, f"valid{i}.txt"), task,
                            params) for i in range(3)]
                cv[(task, name)] = (sum(r["roc_auc"] for r in rs) / 3, sum(r["log_loss"] for r in rs) / 3,
                                    [r["roc_auc"] for r in rs])
                print(f"cv {scheme} {task} {name}: {cv[(task, name)]}", file=sys.stderr, flush=True)
    return cv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--parts", default="test,cv", help="test, cv or both (comma-separated)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    parts = args.parts.split(",")
    out = [SECTION, "", "`/usr/bin/python3 bench/gbdt_auc_gap.py`. Every model: 200 rounds, max_depth 6, "
           "learning_rate 0.1, seed 42."]
    if "test" in parts:
        rows = []
        for name, params in VARIANTS:
            r = {t: vigil(args.vigil, TRAIN, TEST, t, params) for t in ("binary", "category")}
            pc = r["category"]["per_class"]
            rows.append((name, r["binary"]["roc_auc"], r["category"]["roc_auc"],
                         {c: pc[c]["roc_auc"] for c in CLASSES}))
            print(f"{name}: {rows[-1]}", file=sys.stderr, flush=True)
        for name, tool in (("XGBoost 1.7, one-hot columns (bench/gbdt.py)", "xgboost"),
                           ("XGBoost 1.7, its categorical splits (enable_categorical)", "xgboost-native")):
            r = {t: xgboost(tool, t) for t in ("binary", "category")}
            rows.append((name, r["binary"]["roc_auc"], r["category"]["roc_auc"], r["category"]["per_class_auc"]))
            print(f"{name}: {rows[-1]}", file=sys.stderr, flush=True)
        out += ["", "Part 1, KDDTest+ ROC-AUC (binary: attack; category: one-vs-rest macro, and each class against "
                "the rest), one detail changed at a time. These test figures explain the difference; they choose "
                "nothing.", "",
                "| model | binary | category | " + " | ".join(CLASSES) + " |",
                "|---|---:|---:|" + "---:|" * len(CLASSES)]
        out += [f"| {n} | {b:.4f} | {c:.4f} | " + " | ".join(f"{pc[k]:.4f}" for k in CLASSES) + " |"
                for n, b, c, pc in rows]
    if "cv" in parts:
        with gzip.open(TRAIN, "rt") as f:
            lines = [ln for ln in f if ln.strip()]
        out += ["", "Part 2, the default: 3-fold cross-validation on KDDTrain+ only (KDDTest+ is not read), mean "
                "held-out ROC-AUC and log loss (ROC-AUC per fold in brackets). *stratified*: folds stratified by "
                "attack name (bench/gbdt_cat_cv.py's). *attack names held out*: each attack name whole in one "
                "fold, so the held-out fold's attacks are of types the fit never saw, the shift KDDTest+ has "
                "(17 of its 37 attack names are not in KDDTrain+); normal rows dealt evenly.", "",
                "| folds | candidate | binary ROC-AUC | binary log loss | category ROC-AUC | category log loss |",
                "|---|---|---:|---:|---:|---:|"]
        for scheme in ("stratified", "attack names held out"):
            cv = cross_validate(args.vigil, lines, scheme, CANDIDATES, ("binary", "category"))
            for name, _ in CANDIDATES:
                b, c = cv[("binary", name)], cv[("category", name)]
                out.append(f"| {scheme} | {name} | {b[0]:.6f} ({', '.join(f'{a:.4f}' for a in b[2])}) | "
                           f"{b[1]:.6f} | {c[0]:.6f} ({', '.join(f'{a:.4f}' for a in c[2])}) | {c[1]:.6f} |")
    out += ["", NOTES, ""]
    text = "\n".join(out)
    print(text)
    if not args.no_write:
        put_section(text)


NOTES = (
    "What the figures show. (1) Categorical handling is most of the difference, and it is the same on XGBoost's "
    "side: XGBoost given protocol/service/flag as categories (its own partition splits) loses about as much "
    "against XGBoost on one-hot columns as vigil's default does (binary 0.9611, category 0.9462: within 0.0012 / "
    "0.0026 of vigil's default). vigil's default splits a categorical column LightGBM's way (categories sorted by "
    "gradient/hessian, a prefix of that order going left, regularised by cat_smooth and cat_l2); one-hot columns "
    "allow only one category against the rest, which max_cat_to_onehot=256 makes vigil do. (2) The rest of the "
    "category gap is R2L: with one category against the rest, R2L's one-vs-rest AUC is 0.018 below XGBoost's "
    "(0.0036 of the 0.0049 macro gap), U2R 0.005 and Probe 0.003 below, DoS 0.002 above. R2L is the class that "
    "moves with every detail: vigil's max_bins 255 / 128 move it by 0.001 / 0.003, and XGBoost's own category "
    "figure drops from 0.9531 to 0.9502 / 0.9489 at max_bin 255 / 128, so what is left is of the size bin "
    "boundaries alone make. (3) Leaf values are XGBoost's (-G/(H+lambda), softmax hessian 2p(1-p), gradients in "
    "float as XGBoost keeps them, sums in double); starting from XGBoost 1.7's base score instead of the log "
    "priors (`--param base_score=0`) moved the category figure by 0.0007 in an earlier run. (4) The default: "
    "neither fold scheme on training rows favours one category against the rest. On stratified folds every "
    "candidate is within 1e-4 of ROC-AUC 1 and max_cat_to_onehot=4 has the lowest log loss on both tasks; on "
    "folds that hold attack names out (the shift KDDTest+ has) 4 has the higher mean ROC-AUC on both tasks "
    "(binary 0.9604 vs 0.9561, category 0.9092 vs 0.9080) and 256 the lower log loss, with fold-to-fold spreads "
    "(0.91-1.00) far above the differences; min_child_weight=0.1 is worse everywhere. So the default stays 4: "
    "on these data the one-hot advantage shows only on the test set, and choosing by it would be leakage.")

if __name__ == "__main__":
    main()
