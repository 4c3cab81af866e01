#!/usr/bin/python3
"""Anomaly detectors without labels: vigil beside scikit-learn (issue 12).

usage: bench/anomaly.py [--vigil PATH] [--families iforest,...] [--datasets NAME,...]
                        [--reps 3] [--seed 1] [--no-write]

One row per (family, data set): each side fits on the training rows (the normal
ones, or all of them with the labels ignored), scores the test rows, and is
judged by ROC-AUC and PR-AUC of attack vs normal (the labels are used for that
only), fit seconds and scoring rows/s. Each measurement is the best of --reps
runs, vigil and the peer alternating; both run plainly with their own default
thread counts. The load average is printed with the table, which goes to
bench/RESULTS.md under its own heading (bench/results.py).

vigil is measured through its command line, as a user runs it:
  vigil train --data TRAIN --format F --model FAMILY --fit-on normal|all [--param ...] --seed S -o M.vgm --json
  vigil eval --model M.vgm --data TEST --json
fit = train's train_seconds, scoring = eval's predict_seconds (falling back to
the command's wall time when a field is absent), ROC-AUC and PR-AUC from eval.
The peer is timed on the estimator's fit and score_samples only, its data
already read and encoded in memory (what a notebook user times), so the
comparison favours the peer.

To add a family, add a FAMILIES entry: the vigil model name and --param list,
a factory for the peer, its speed targets, and how the peer's rows are encoded ("ordinal" codes
for tree models, "onehot_scaled" for distance and neural models). To add a
data set, add a DATASETS entry; a csv one names its label, normal value and
ignored columns, and is split here (a seeded 70/30 split written to a temp
folder, so both sides read the same files)."""
import argparse
import csv
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import put_section  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("VG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
CONTAMINATION = 0.01  # vigil train's default operating point; the peer is given the same
HEADING = "## Anomaly detection without labels: vigil beside scikit-learn (bench/anomaly.py)"


def iforest_peer(seed, contamination):
    from sklearn.ensemble import IsolationForest
    return IsolationForest(n_estimators=100, max_samples="auto", random_state=seed, contamination=contamination)


FAMILIES = {
    # name: vigil model, its --param list, the peer's name, factory and encoding
    "iforest": dict(model="iforest", params=[], peer="sklearn IsolationForest", make=iforest_peer,
                    encoding="ordinal", targets=dict(fit=2, score=10)),
}

KDD_CATEGORICAL = [1, 2, 3]
DATASETS = {
    "nslkdd-normal": dict(title="NSL-KDD, fit on normal", format="kdd", train="nsl-kdd/KDDTrain+.txt.gz", test="nsl-kdd/KDDTest+.txt.gz",
                                   fit_on="normal"),
    "nslkdd-all": dict(title="NSL-KDD, fit on all", format="kdd", train="nsl-kdd/KDDTrain+.txt.gz", test="nsl-kdd/KDDTest+.txt.gz",
                                fit_on="all"),
    "kdd99-normal": dict(title="KDD 99 10% -> corrected, fit on normal", format="kdd", train="kdd-cup-1999/kddcup.data_10_percent.gz",
                                                  test="kdd-cup-1999/corrected.gz", fit_on="normal"),
    "sessions-normal": dict(title="sessions (70/30 split), fit on normal", format="csv", source="cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz",
                                    label="attack_detected", normal="0", ignore=["session_id"], fit_on="normal"),
}


# ---- reading the data for the peer ----

def read_kdd(path):
    """41 feature columns (1..3 categorical), label normal / attack (KDD 99's
    labels end in '.'; NSL-KDD's difficulty column is dropped)."""
    rows, attack = [], []
    with gzip.open(path, "rt") as f:
        for rec in csv.reader(f):
            if len(rec) < 42:
                continue
            rows.append(rec[:41])
            attack.append(rec[41].rstrip(".") != "normal")
    return rows, np.array(attack), KDD_CATEGORICAL


def read_csv(path, label, normal, ignore):
    with open(path) as f:
        r = csv.reader(f)
        header = next(r)
        keep = [i for i, h in enumerate(header) if h != label and h not in ignore]
        li = header.index(label)
        rows, attack = [], []
        for rec in r:
            rows.append([rec[i] for i in keep])
            attack.append(rec[li] != normal)
    cats = []
    for j in range(len(keep)):
        try:
            [float(row[j]) for row in rows if row[j] != ""]
        except ValueError:
            cats.append(j)
    return rows, np.array(attack), cats


def encode(train_rows, test_rows, cats, how):
    """Numbers as floats (empty = the training median); categories as
    ordinal codes (unseen = -1) or one-hot; onehot_scaled also standardises."""
    n = len(train_rows[0])
    nums = [j for j in range(n) if j not in cats]

    def numeric(rows, j):
        return np.array([float(r[j]) if r[j] != "" else np.nan for r in rows])

    tr_cols, te_cols = [], []
    for j in nums:
        a, b = numeric(train_rows, j), numeric(test_rows, j)
        med = np.nanmedian(a)
        a[np.isnan(a)], b[np.isnan(b)] = med, med
        if how == "onehot_scaled":
            mu, sd = a.mean(), a.std() or 1.0
            a, b = (a - mu) / sd, (b - mu) / sd
        tr_cols.append(a)
        te_cols.append(b)
    for j in cats:
        levels = sorted({r[j] for r in train_rows})
        code = {v: i for i, v in enumerate(levels)}
        if how == "ordinal":
            tr_cols.append(np.array([code[r[j]] for r in train_rows], float))
            te_cols.append(np.array([code.get(r[j], -1) for r in test_rows], float))
        else:
            for v in levels:
                tr_cols.append(np.array([r[j] == v for r in train_rows], float))
                te_cols.append(np.array([r[j] == v for r in test_rows], float))
    return np.column_stack(tr_cols).astype(np.float32), np.column_stack(te_cols).astype(np.float32)


# ---- the two sides ----

def run_vigil(vigil, ds, fam, files, seed, workdir):
    model = os.path.join(workdir, "m.vgm")
    cmd = [vigil, "train", "--data", files["train"], "--format", ds["format"], "--model", fam["model"],
           "--fit-on", ds["fit_on"], "--contamination", str(CONTAMINATION), "--seed", str(seed), "-o", model,
           "--json"]
    if ds["format"] == "csv":
        cmd += ["--label", ds["label"], "--normal", ds["normal"]]
        if ds.get("ignore"):
            cmd += ["--ignore", ",".join(ds["ignore"])]
    for p in fam["params"]:
        cmd += ["--param", p]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    train_wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or ["failed"])[-1])
    train = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
    t0 = time.perf_counter()
    p = subprocess.run([vigil, "eval", "--model", model, "--data", files["test"], "--json"], capture_output=True,
                       text=True)
    eval_wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError((p.stderr.strip().splitlines() or ["failed"])[-1])
    ev = json.loads(p.stdout)
    return dict(roc_auc=ev.get("roc_auc"), pr_auc=ev.get("pr_auc"),
                fit=train.get("train_seconds", train_wall), score=ev.get("predict_seconds", eval_wall),
                rows=ev.get("rows"))


def run_peer(fam, data, seed):
    """fit: with contamination=CONTAMINATION, so the peer, like vigil train,
    scores its training rows to place the threshold; fit_bare: the default
    (contamination "auto": a fixed offset, no scoring), the time a notebook
    user sees."""
    from sklearn.metrics import average_precision_score, roc_auc_score
    X_fit, X_test, y_test = data
    t0 = time.perf_counter()
    fam["make"](seed, "auto").fit(X_fit)
    t1 = time.perf_counter()
    est = fam["make"](seed, CONTAMINATION)
    est.fit(X_fit)
    t2 = time.perf_counter()
    s = -est.score_samples(X_test)
    t3 = time.perf_counter()
    return dict(roc_auc=roc_auc_score(y_test, s), pr_auc=average_precision_score(y_test, s), fit=t2 - t1,
                fit_bare=t1 - t0, score=t3 - t2, rows=len(X_test))


def prepare(ds, workdir, seed):
    """The files vigil reads and the rows the peer reads, per data set."""
    if ds["format"] == "kdd":
        files = dict(train=os.path.join(SHARED, ds["train"]), test=os.path.join(SHARED, ds["test"]))
        tr, y_tr, cats = read_kdd(files["train"])
        te, y_te, _ = read_kdd(files["test"])
    else:
        with gzip.open(os.path.join(SHARED, ds["source"]), "rt") as f:
            lines = f.read().splitlines()
        header, body = lines[0], lines[1:]
        order = np.random.RandomState(seed).permutation(len(body))
        cut = int(0.7 * len(body))
        files = dict(train=os.path.join(workdir, "train.csv"), test=os.path.join(workdir, "test.csv"))
        for name, idx in (("train", order[:cut]), ("test", order[cut:])):
            with open(files[name], "w") as f:
                f.write(header + "\n" + "".join(body[i] + "\n" for i in sorted(idx)))
        tr, y_tr, cats = read_csv(files["train"], ds["label"], ds["normal"], ds.get("ignore", []))
        te, y_te, _ = read_csv(files["test"], ds["label"], ds["normal"], ds.get("ignore", []))
    if ds["fit_on"] == "normal":
        tr = [r for r, a in zip(tr, y_tr) if not a]
    return files, tr, te, y_te, cats


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--datasets", default=",".join(DATASETS), help="names from DATASETS, comma-separated")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    for fname in args.families.split(","):
        fam = FAMILIES[fname]
        for dname in args.datasets.split(","):
            ds = DATASETS[dname]
            with tempfile.TemporaryDirectory(prefix="vg-anomaly-") as work:
                files, tr, te, y_te, cats = prepare(ds, work, args.seed)
                X_fit, X_te = encode(tr, te, cats, fam["encoding"])
                best = {"vigil": None, "peer": None}
                errors = {}
                for _ in range(args.reps):
                    for side in ("vigil", "peer"):
                        if side in errors:
                            continue
                        try:
                            r = (run_vigil(args.vigil, ds, fam, files, args.seed, work) if side == "vigil"
                                 else run_peer(fam, (X_fit, X_te, y_te), args.seed))
                        except (RuntimeError, OSError, ValueError) as e:
                            errors[side] = str(e)
                            continue
                        b = best[side]
                        if b is None:
                            best[side] = r
                        else:
                            for key in ("fit", "fit_bare", "score"):
                                if key in r:
                                    b[key] = min(b[key], r[key])
                rows.append((fname, ds["title"], fam, len(X_fit), len(X_te), best, errors))
                print(f"{fname} / {dname}: {best} {errors}", file=sys.stderr)
    load_after = os.getloadavg()[0]

    lines = [HEADING, "",
             f"Best of {args.reps}, vigil and the peer alternating, each with its default threads; seed "
             f"{args.seed}; load average {load_before:.2f} before, {load_after:.2f} after "
             f"({os.cpu_count()} CPUs). Fit: vigil's train_seconds (pipeline, forest, and scoring the fitted rows "
             f"for the threshold at contamination {CONTAMINATION}); the peer's fit() with the same contamination, "
             "which also scores its training rows for its offset, and in brackets its bare fit() (contamination "
             "'auto', no scoring). Scoring: rows/s of vigil eval's predict_seconds (pipeline and forest) and of "
             "the peer's score_samples on rows already encoded in memory.", "",
             "| family | data set | fit rows | test rows | tool | ROC-AUC | PR-AUC | fit s | scoring rows/s |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|"]
    verdicts = []
    for fname, dname, fam, n_fit, n_te, best, errors in rows:
        for side, tool in (("vigil", "vigil " + fam["model"]), ("peer", fam["peer"])):
            b = best[side]
            if b is None:
                lines.append(f"| {fname} | {dname} | {n_fit} | {n_te} | {tool} | not run: {errors.get(side, '?')} "
                             "| | | |")
                continue
            fit = f"{b['fit']:.3f}" + (f" ({b['fit_bare']:.3f} bare)" if "fit_bare" in b else "")
            lines.append(f"| {fname} | {dname} | {n_fit} | {n_te} | {tool} | {fmt(b['roc_auc'], '.4f')} | "
                         f"{fmt(b['pr_auc'], '.4f')} | {fit} | {n_te / b['score']:,.0f} |")
        v, p = best["vigil"], best["peer"]
        if v and p:
            auc_ok = v["roc_auc"] is not None and v["roc_auc"] >= p["roc_auc"]
            fit_ratio, score_ratio = p["fit"] / v["fit"], p["score"] / v["score"]
            bare_ratio = p["fit_bare"] / v["fit"]
            want = fam["targets"]
            verdicts.append(f"| {fname} | {dname} | {v['roc_auc']:.4f} vs {p['roc_auc']:.4f}: "
                            f"{'met' if auc_ok else 'not met'} | {fit_ratio:.1f}x faster: "
                            f"{'met' if fit_ratio >= want['fit'] else 'not met'} (bare fit: {bare_ratio:.1f}x, "
                            f"{'met' if bare_ratio >= want['fit'] else 'not met'}) | {score_ratio:.1f}x: "
                            f"{'met' if score_ratio >= want['score'] else 'not met'} |")
    if verdicts:
        lines += ["", "Targets (issue 12): ROC-AUC at least the peer's; isolation forest fit in at most half the "
                  "peer's time and scoring at least 10x its rows/s (each family's FAMILIES entry holds its own).", "",
                  "| family | data set | ROC-AUC | fit | scoring |", "|---|---|---|---|---|"] + verdicts
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        put_section(section)


if __name__ == "__main__":
    main()
