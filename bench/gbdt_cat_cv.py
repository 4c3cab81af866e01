#!/usr/bin/python3
"""Choose gbdt's default max_cat_threshold by cross-validation on training
data only: stratified K-fold over NSL-KDD KDDTrain+ (never KDDTest+), for the
binary and the category task, one `vigil train --data FOLD_TRAIN --test
FOLD_VALID` per fold and value. Prints mean ROC-AUC and log loss per value
and writes the section "## gbdt max_cat_threshold by cross-validation" of
bench/RESULTS.md.

  /usr/bin/python3 bench/gbdt_cat_cv.py [--folds 3] [--values 1,2,4,8,16,32,64]
"""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

from results import put_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECTION = "## gbdt max_cat_threshold by cross-validation"


def folds_of(lines, k, seed):
    """Stratified by the record's label (field 42): each class dealt round-robin
    over the folds after a seeded shuffle."""
    by_label = {}
    for ln in lines:
        by_label.setdefault(ln.split(",")[41], []).append(ln)
    rng = random.Random(seed)
    folds = [[] for _ in range(k)]
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        for i, ln in enumerate(rows):
            folds[i % k].append(ln)
    return folds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--train", default=os.path.join(ROOT, "data", "nsl-kdd", "KDDTrain+.txt.gz"))
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--values", default="1,2,4,8,16,32,64")
    ap.add_argument("--params", default="n_estimators=200,max_depth=6,learning_rate=0.1",
                    help="the other gbdt parameters (those of bench/gbdt.py)")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    values = [int(v) for v in args.values.split(",")]
    with gzip.open(args.train, "rt") as f:
        lines = [ln for ln in f if ln.strip()]
    folds = folds_of(lines, args.folds, 1)
    work = tempfile.mkdtemp(prefix="vigil-cat-cv.")
    table = {}
    try:
        for i in range(args.folds):
            tr, va = os.path.join(work, f"train{i}.txt"), os.path.join(work, f"valid{i}.txt")
            with open(tr, "w") as f:
                f.writelines(ln for j, fold in enumerate(folds) if j != i for ln in fold)
            with open(va, "w") as f:
                f.writelines(folds[i])
        for task in ("binary", "category"):
            for v in values:
                aucs, losses = [], []
                for i in range(args.folds):
                    cmd = [args.vigil, "train", "--data", os.path.join(work, f"train{i}.txt"), "--test",
                           os.path.join(work, f"valid{i}.txt"), "--format", "kdd", "--task", task, "--model", "gbdt",
                           "--json", "-o", os.path.join(work, "m.vgm"), "--param", f"max_cat_threshold={v}"]
                    for p in args.params.split(","):
                        cmd += ["--param", p]
                    out = subprocess.run(cmd, capture_output=True, text=True)
                    if out.returncode:
                        sys.exit(f"gbdt_cat_cv: {' '.join(cmd)} failed: {out.stderr.strip()}")
                    j = json.loads(out.stdout)
                    aucs.append(j["roc_auc"])
                    losses.append(j["log_loss"])
                table[(task, v)] = (sum(aucs) / len(aucs), sum(losses) / len(losses))
                print(f"{task:8s} max_cat_threshold={v:3d}: ROC-AUC {table[(task, v)][0]:.6f}  "
                      f"log loss {table[(task, v)][1]:.6f}", flush=True)
    finally:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)

    lines_out = [SECTION, "",
                 f"`/usr/bin/python3 bench/gbdt_cat_cv.py --folds {args.folds} --values {args.values}`: "
                 f"{args.folds}-fold cross-validation stratified by attack label on KDDTrain+ only (KDDTest+ is not "
                 f"read), gbdt with {args.params.replace(',', ', ')}; mean over the folds of the held-out fold's "
                 "ROC-AUC (category: one-vs-rest macro) and log loss.", "",
                 "| max_cat_threshold | binary ROC-AUC | binary log loss | category ROC-AUC | category log loss |",
                 "|---:|---:|---:|---:|---:|"]
    for v in values:
        b, c = table[("binary", v)], table[("category", v)]
        lines_out.append(f"| {v} | {b[0]:.6f} | {b[1]:.6f} | {c[0]:.6f} | {c[1]:.6f} |")
    best = {task: min(values, key=lambda v: (table[(task, v)][1], v)) for task in ("binary", "category")}
    lines_out += ["", f"Lowest mean log loss: binary at {best['binary']}, category at {best['category']}.", ""]
    text = "\n".join(lines_out)
    print(text)
    if not args.no_write:
        put_section(text, args.results)


if __name__ == "__main__":
    main()
