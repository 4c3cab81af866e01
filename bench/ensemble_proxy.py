#!/usr/bin/python3
"""Choosing the NSL-KDD ensemble on training rows only (issue 14), cheaply.

KDDTest+ holds attack kinds KDDTrain+ lacks, so the proxy holds attack kinds
out: KDDTrain+ is cut into K folds where every attack name lies whole in one
fold (names dealt greedily, largest first, to the fold with the fewest attack
rows) and the normal rows are dealt round-robin. Each part (a vigil model
with its parameters) is trained once per fold on the other folds
(`vigil train`, no --test) and scores the held-out fold (`vigil predict`), so
every KDDTrain+ row gets one out-of-fold score from a model that never saw
its attack kind. The scores are cached (one file per part), and the
combiners (mean of probabilities, of log-odds, of ranks; a logistic
regression over the parts' held-out scores, cross-fitted over the folds) are
tried on them in seconds. KDDTest+ is never read here.

Anomaly parts (`--fit-on normal`) score with their own scale; they enter the
combiners through ranks (or the logistic regression), never as probabilities.

usage: bench/ensemble_proxy.py [--build build] [--folds 3] [--cache DIR] [--write]
"""
import argparse
import gzip
import itertools
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results import put_section  # noqa: E402

# name -> (vigil train arguments, transform of the data file)
PARTS = {
    "gbdt": ("--model gbdt --param max_cat_to_onehot=256", None),
    "forest": ("--model forest --param n_estimators=300", None),
    "mlp": ("--model mlp --param max_iter=20", None),
    "mlp_log": ("--model mlp --param max_iter=20", "log1p"),
    "logreg": ("--model logreg", None),
    "logreg_log": ("--model logreg", "log1p"),
    "ae_normal": ("--model autoencoder --fit-on normal", None),
    "ae_normal_log": ("--model autoencoder --fit-on normal", "log1p"),
    "iforest_normal": ("--model iforest --fit-on normal", None),
}
SYMBOLIC = {1, 2, 3, 41, 42}  # 0-based: protocol, service, flag, label, difficulty


def log1p_line(line):
    f = line.rstrip("\n").split(",")
    return ",".join(v if i in SYMBOLIC else repr(math.log1p(float(v))) for i, v in enumerate(f)) + "\n"


RARE = set("back teardrop warezclient pod guess_passwd buffer_overflow warezmaster land imap rootkit "
           "loadmodule ftp_write multihop phf perl spy".split())


def splits_of(lines, scheme, k):
    """(train mask, evaluation mask) pairs, y, and where each held-out attack name went.

    names: k folds, each attack name whole in one fold (dealt greedily, largest first, to the fold with the fewest
    attack rows), normal rows round-robin; each fold is evaluated by a model of the other folds.
    rare: bench/operating_point_choice.sh's split: the attack names with < 1000 rows and every 5th normal row are
    evaluated, every 3rd remaining row trains."""
    names = np.array([ln.rsplit(",", 2)[1] for ln in lines])
    y = (names != "normal").astype(int)
    normal_no = np.cumsum(names == "normal")
    if scheme == "rare":
        va = np.isin(names, list(RARE)) | ((names == "normal") & (normal_no % 5 == 0))
        rest = np.cumsum(~va)
        tr = ~va & (rest % 3 == 0)
        return [(tr, va)], y, {0: sorted(RARE)}
    counts = {n: int((names == n).sum()) for n in set(names) - {"normal"}}
    load, where = [0] * k, {}
    for n in sorted(counts, key=lambda n: (-counts[n], n)):
        f = min(range(k), key=lambda j: (load[j], j))
        where[n] = f
        load[f] += counts[n]
    fold = np.array([(normal_no[i] - 1) % k if n == "normal" else where[n] for i, n in enumerate(names)])
    return [(fold != f, fold == f) for f in range(k)], y, {f: sorted(n for n in where if where[n] == f)
                                                          for f in range(k)}


def part_scores(vigil, name, lines, splits, cache, threads):
    """Held-out scores (NaN where no split evaluates a row) and each split's model on its own training rows."""
    path = os.path.join(cache, f"{name}.npy")
    fit_path = os.path.join(cache, f"{name}.fit.npy")
    if os.path.exists(path) and os.path.exists(fit_path):
        return np.load(path), np.load(fit_path)
    args, transform = PARTS[name]
    data = [log1p_line(ln) for ln in lines] if transform == "log1p" else lines
    out = np.full(len(lines), np.nan)
    fit = np.full((len(splits), len(lines)), np.nan)
    t0 = time.time()
    model, pred = os.path.join(cache, "m.vgm"), os.path.join(cache, "p.csv")
    for f, (trm, vam) in enumerate(splits):
        tr, va = os.path.join(cache, "tr.txt"), os.path.join(cache, "va.txt")
        with open(tr, "w") as a, open(va, "w") as b:
            for ln, t, v in zip(data, trm, vam):
                if t:
                    a.write(ln)
                elif v:
                    b.write(ln)
        cmd = [vigil, "train", "--data", tr, "--format", "kdd", *args.split(), "-o", model]
        if threads:
            cmd += ["--threads", str(threads)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for rows, mask, dst in ((va, vam, out), (tr, trm, fit[f])):
            subprocess.run([vigil, "predict", "--model", model, "--data", rows, "-o", pred],
                           check=True, stdout=subprocess.DEVNULL)
            dst[mask] = np.loadtxt(pred, delimiter=",", skiprows=1, usecols=1)
    np.save(path, out)
    np.save(fit_path, fit)
    print(f"{name}: {time.time() - t0:.0f} s", file=sys.stderr)
    return out, fit


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def ranks(s):
    return (np.argsort(np.argsort(s, kind="stable"), kind="stable") + 0.5) / len(s)


def cdf(s, fit, splits):
    """Each row's score as the share of its split's training rows that score lower (ties half): voting=rank."""
    out = np.full(len(s), np.nan)
    for f, (trm, vam) in enumerate(splits):
        ref = np.sort(fit[f][trm])
        lo, hi = np.searchsorted(ref, s[vam], "left"), np.searchsorted(ref, s[vam], "right")
        out[vam] = (lo + hi) / 2 / len(ref)
    return out


def stacked(cols, y, splits):
    """Logistic regression over the parts' held-out scores, fitted on the other splits' held-out rows."""
    X = np.column_stack(cols)
    out = np.full(len(y), np.nan)
    for f, (_, vam) in enumerate(splits):
        tr = ~vam & ~np.isnan(X[:, 0])
        mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-12
        m = LogisticRegression(C=1.0, max_iter=1000).fit((X[tr] - mu) / sd, y[tr])
        out[vam] = m.decision_function((X[vam] - mu) / sd)
    return out


def scores_auc(s, y, names, splits, where):
    """Pooled ROC-AUC over the evaluated rows, and the mean over held-out attack names of each name's ROC-AUC
    against the normal rows scored with it (every unseen kind counts once)."""
    m = ~np.isnan(s)
    per = []
    for f, (_, vam) in enumerate(splits):
        nrm = vam & (names == "normal")
        for n in where[f]:
            sel = vam & (names == n)
            if sel.any():
                per.append(roc_auc_score(np.r_[np.ones(sel.sum()), np.zeros(nrm.sum())], np.r_[s[sel], s[nrm]]))
    return roc_auc_score(y[m], s[m]), float(np.mean(per))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--cache", default="/tmp/vg_ensemble_proxy")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--parts", default="gbdt,forest,mlp,mlp_log,ae_normal")
    ap.add_argument("--schemes", default="names,rare")
    ap.add_argument("--write", action="store_true", help="write the section into bench/RESULTS.md")
    a = ap.parse_args()
    data = os.environ.get("VG_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
    vigil = os.path.abspath(os.path.join(a.build, "vigil"))
    load = open("/proc/loadavg").read().split()[:3]
    with gzip.open(os.path.join(data, "nsl-kdd", "KDDTrain+.txt.gz"), "rt") as fh:
        lines = fh.readlines()
    names = np.array([ln.rsplit(",", 2)[1] for ln in lines])
    parts = a.parts.split(",")
    results = {}
    for scheme in a.schemes.split(","):
        splits, y, where = splits_of(lines, scheme, a.folds)
        cache = os.path.join(a.cache, scheme)
        os.makedirs(cache, exist_ok=True)
        S, FIT = {}, {}
        for n in parts:
            S[n], FIT[n] = part_scores(vigil, n, lines, splits, cache, a.threads)
        res = results[scheme] = {}

        def add(label, s):
            res[label] = scores_auc(s, y, names, splits, where)

        for n in parts:
            add(n, S[n])
        sup = [n for n in parts if not n.startswith(("ae_", "iforest_"))]
        ano = [n for n in parts if n.startswith(("ae_", "iforest_"))]
        combos = [c for r in (2, 3, 4) for c in itertools.combinations(sup, r)]
        combos = [c for c in combos if not ({"mlp", "mlp_log"} <= set(c) or {"logreg", "logreg_log"} <= set(c))]
        for c in combos:
            add("soft:" + "+".join(c), np.mean([S[n] for n in c], 0))
            for extra in [()] + [(an,) for an in ano]:
                cc = c + extra
                add("rank:" + "+".join(cc), np.mean([cdf(S[n], FIT[n], splits) for n in cc], 0))
                add("poolrank:" + "+".join(cc), np.mean([np.where(np.isnan(S[n]), np.nan, ranks(np.nan_to_num(S[n])))
                                                        for n in cc], 0))
                if len(splits) > 1:
                    add("stack:" + "+".join(cc), stacked([S[n] if n in ano else logit(S[n]) for n in cc], y, splits))
    schemes = list(results)
    labels = sorted(results[schemes[0]], key=lambda l: -sum(results[s][l][1] for s in schemes))
    for l in labels[:50]:
        print("  ".join(f"{results[s][l][0]:.4f} {results[s][l][1]:.4f}" if l in results[s] else " " * 13
                        for s in schemes), l)
    if not a.write:
        return
    table = "\n".join("| `" + l + "` | " + " | ".join(
        (f"{results[s][l][0]:.4f} | {results[s][l][1]:.4f}" if l in results[s] else "- | -") for s in schemes) + " |"
        for l in labels if ":" not in l or l in labels[:30])
    section = f"""## NSL-KDD ensemble choice on held-out attack names (bench/ensemble_proxy.py)

KDDTrain+ alone; KDDTest+ is never read. Two ways to hold attack kinds out, so that every score comes from a model
that never saw the row's attack name: **names**: {a.folds} folds in which every attack name lies whole in one fold
(dealt greedily, largest first), the normal rows round-robin, each fold scored by a model of the other folds;
**rare**: the split of bench/operating_point_choice.sh (the 16 attack names with < 1000 rows and every 5th normal
row scored, every 3rd remaining row trains). Each part is trained once per split (`vigil train`, no test file) and
scores the held-out rows and its own training rows (`vigil predict`); the scores are cached and the combiners are
tried on them. Two figures per scheme: pooled ROC-AUC over the held-out rows, and the mean over held-out attack
names of each name's ROC-AUC against the normal rows scored with it (each unseen kind counts once; the rare
R2L/U2R kinds that make KDDTest+ hard weigh as much as neptune). Rows sorted by the sum of the per-name means.
Load average at start: {' '.join(load)} (2 cores, shared).

Parts: {'; '.join(f'{n} = `{PARTS[n][0]}`' + (' on log1p of every numeric column' if PARTS[n][1] else '')
                  for n in parts)}.
Combiners: soft = mean probability (`vote`), rank = mean over parts of the share of the part's training rows
scoring below the row (`vote ... voting=rank`), poolrank = mean rank among the held-out rows themselves (not
available to a model, shown for comparison), stack = logistic regression over the parts' log-odds (anomaly
scores as they are) fitted on the other folds' held-out scores (names scheme only).

| setting | {' | '.join(f'{s}: pooled | {s}: per name' for s in schemes)} |
|---|{'---|---|' * len(schemes)}
{table}
"""
    put_section(section)


if __name__ == "__main__":
    main()
