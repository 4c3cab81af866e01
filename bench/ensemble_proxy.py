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
        # Scored: every row it does not train on; the unseen figures read va only.
        return [(tr, ~tr)], y, {0: sorted(RARE)}, va
    counts = {n: int((names == n).sum()) for n in set(names) - {"normal"}}
    load, where = [0] * k, {}
    for n in sorted(counts, key=lambda n: (-counts[n], n)):
        f = min(range(k), key=lambda j: (load[j], j))
        where[n] = f
        load[f] += counts[n]
    fold = np.array([(normal_no[i] - 1) % k if n == "normal" else where[n] for i, n in enumerate(names)])
    return [(fold != f, fold == f) for f in range(k)], y, {f: sorted(n for n in where if where[n] == f)
                                                          for f in range(k)}, None


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


def scores_auc(s, y, names, splits, where, unseen):
    """Pooled ROC-AUC over the unseen rows (held-out attack names and their normal rows), the mean over held-out
    attack names of each name's ROC-AUC against those normal rows (every unseen kind counts once), and, when
    attack names seen in training were scored too (rare), the pooled ROC-AUC over every scored row."""
    m = ~np.isnan(s)
    u = m if unseen is None else m & unseen
    per = []
    for f, (_, vam) in enumerate(splits):
        nrm = vam & u & (names == "normal")
        for n in where[f]:
            sel = vam & (names == n)
            if sel.any():
                per.append(roc_auc_score(np.r_[np.ones(sel.sum()), np.zeros(nrm.sum())], np.r_[s[sel], s[nrm]]))
    out = [roc_auc_score(y[u], s[u]), float(np.mean(per))]
    return out + ([] if unseen is None else [roc_auc_score(y[m], s[m])])


def rule_choice(vigil, lines, setting, rules, cache, threads):
    """The threshold rule on the rare split: `vigil train --threshold-by RULE` on its training rows (the rule reads
    their out-of-fold scores), then `vigil eval` on the unseen rows and on every held-out row."""
    (trm, _), = splits_of(lines, "rare", 1)[0]
    unseen = splits_of(lines, "rare", 1)[3]
    tr, va, ho = (os.path.join(cache, f) for f in ("rule_tr.txt", "rule_va.txt", "rule_ho.txt"))
    with open(tr, "w") as a, open(va, "w") as b, open(ho, "w") as c:
        for ln, t, u in zip(lines, trm, unseen):
            (a if t else c).write(ln)
            if u:
                b.write(ln)
    out = []
    for rule in rules:
        model = os.path.join(cache, "rule.vgm")
        cmd = [vigil, "train", "--data", tr, "--format", "kdd", *setting.split(), "--threshold-by", rule, "-o", model]
        if threads:
            cmd += ["--threads", str(threads)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        row = [rule]
        for data in (va, ho):
            d = json.loads(subprocess.run([vigil, "eval", "--model", model, "--data", data, "--json"], check=True,
                                          capture_output=True, text=True).stdout)
            row += ([] if len(row) > 1 else [d["threshold"]]) + [d["fpr"], d["recall"], d["accuracy"],
                                                                 (1 - d["fpr"] + d["recall"]) / 2]
        print(" ".join(str(x) if isinstance(x, str) else f"{x:.4f}" for x in row), file=sys.stderr)
        out.append(row)
    return out


ENCODER = {"mlp": None, "mlp_log": "log1p", "logreg": None, "logreg_log": "log1p", "ae_normal": None,
           "ae_normal_log": "log1p"}


def valid_sets(parts, sizes):
    """Subsets whose one-hot parts share one transform (a vote has one)."""
    for r in sizes:
        for c in itertools.combinations(parts, r):
            if len({ENCODER[n] for n in c if n in ENCODER}) <= 1:
                yield c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--cache", default="/tmp/vg_ensemble_proxy")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--parts", default="gbdt,forest,mlp,mlp_log,ae_normal")
    ap.add_argument("--schemes", default="names,rare")
    ap.add_argument("--rules", default="", help="threshold rules to compare on the rare split, e.g. fpr:0.01,f1")
    ap.add_argument("--setting", default="", help="the vigil train arguments the rules are tried with")
    ap.add_argument("--write", action="store_true", help="write the section into bench/RESULTS.md")
    a = ap.parse_args()
    data = os.environ.get("VG_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
    vigil = os.path.abspath(os.path.join(a.build, "vigil"))
    load = open("/proc/loadavg").read().split()[:3]
    with gzip.open(os.path.join(data, "nsl-kdd", "KDDTrain+.txt.gz"), "rt") as fh:
        lines = fh.readlines()
    names = np.array([ln.rsplit(",", 2)[1] for ln in lines])
    parts = a.parts.split(",")
    if a.rules:
        os.makedirs(a.cache, exist_ok=True)
        rows = rule_choice(vigil, lines, a.setting, a.rules.split(","), a.cache, a.threads)
        table = "\n".join("| " + " | ".join(x if isinstance(x, str) else f"{x:.4f}" for x in r) + " |" for r in rows)
        section = f"""## NSL-KDD threshold rule chosen on training rows only (bench/ensemble_proxy.py --rules)

The rare split of KDDTrain+ (see the section above): `vigil train --data TRAIN {a.setting} --threshold-by RULE`
on its 36,463 training rows (the rule reads their 5-fold out-of-fold scores), then `vigil eval` at the saved
threshold on its unseen rows (16 attack names never trained on, with every 5th normal row) and on every row it
did not train on (seen and unseen names). Balanced accuracy = (1 - FPR + recall) / 2, which does not depend on
how many attacks the evaluated rows hold. KDDTest+ is never read. Load average at start: {' '.join(load)}.

| rule | threshold | unseen: FPR | recall | accuracy | balanced | all held out: FPR | recall | accuracy | balanced |
|---|---|---|---|---|---|---|---|---|---|
{table}

The rule with the best mean of the two balanced accuracies is the one the chosen setting is trained with on all of
KDDTrain+ for KDDTest+ (section "NSL-KDD operating point").
"""
        if a.write:
            put_section(section)
        return
    results = {}
    for scheme in a.schemes.split(","):
        splits, y, where, unseen = splits_of(lines, scheme, a.folds)
        cache = os.path.join(a.cache, scheme)
        os.makedirs(cache, exist_ok=True)
        S, FIT = {}, {}
        for n in parts:
            S[n], FIT[n] = part_scores(vigil, n, lines, splits, cache, a.threads)
        res = results[scheme] = {}

        def add(label, s):
            res[label] = scores_auc(s, y, names, splits, where, unseen)

        for n in parts:
            add(n, S[n])
        sup = [n for n in parts if not n.startswith(("ae_", "iforest_"))]
        for c in valid_sets(sup, (2, 3)):
            add("soft:" + "+".join(c), np.mean([S[n] for n in c], 0))
        R = {n: cdf(S[n], FIT[n], splits) for n in parts}
        for c in valid_sets(parts, (2, 3, 4)):
            for w in itertools.product((1, 2, 3), repeat=len(c)):
                if math.gcd(*w) == 1:
                    add("rank:" + "+".join(n + (f"*{x}" if x > 1 else "") for n, x in zip(c, w)),
                        sum(x * R[n] for n, x in zip(c, w)) / sum(w))
    schemes = list(results)
    heads = [f"{s}: {h}" for s in schemes for h in (("unseen pooled", "per name", "all held out") if s == "rare"
                                                   else ("pooled", "per name"))]
    labels = sorted(results[schemes[0]], key=lambda l: -np.mean([x for s in schemes for x in results[s][l]]))
    for l in labels[:40]:
        figs = [x for s in schemes for x in results[s][l]]
        print(f"{np.mean(figs):.4f}  " + " ".join(f"{x:.4f}" for x in figs), l)
    if not a.write:
        return
    shown = [l for l in labels if "+" not in l] + [l for l in labels if "+" in l][:30]
    table = "\n".join(f"| `{l}` | {np.mean([x for s in schemes for x in results[s][l]]):.4f} | " +
                      " | ".join(f"{x:.4f}" for s in schemes for x in results[s][l]) + " |"
                      for l in sorted(shown, key=labels.index))
    section = f"""## NSL-KDD ensemble choice on held-out attack names (bench/ensemble_proxy.py)

KDDTrain+ alone; KDDTest+ is never read. Two ways to hold attack kinds out, so that scores come from a model that
never saw the row's attack name: **names**: {a.folds} folds in which every attack name lies whole in one fold
(dealt greedily, largest first), the normal rows round-robin, each fold scored by a model of the other folds;
**rare**: the split of bench/operating_point_choice.sh (the 16 attack names with < 1000 rows held out with every
5th normal row: the unseen rows; every 3rd remaining row trains; every row not trained on is scored). Each part
is trained once per split (`vigil train`, no test file) and scores the held-out rows and its own training rows
(`vigil predict`); the scores are cached and the combiners tried on them. Figures (ROC-AUC): pooled over the
unseen rows; the mean over unseen attack names of each name's ROC-AUC against the unseen normal rows (each
unseen kind counts once, so the rare R2L/U2R kinds weigh as much as neptune); rare also pooled over every row
not trained on (seen and unseen names together). The choice is the best mean of the five figures.
Load average at start: {' '.join(load)} (2 cores, shared).

Parts: {'; '.join(f'{n} = `{PARTS[n][0]}`' + (' on log1p of every numeric column' if PARTS[n][1] else '')
                  for n in parts)}.
Combiners: soft = mean probability (`vote`); rank = weighted mean over parts (`*w`: weight w) of the share of
the part's training rows it scored lower (`vote ... voting=rank weights=...`; anomaly parts enter only so;
the parts on log1p are `transform=log1p`, which a vote applies to all its one-hot parts, so a setting never mixes
log1p and plain one-hot parts). Every part alone, then the best 30 combinations.

| setting | mean | {' | '.join(heads)} |
|---|---|{'---|' * len(heads)}
{table}
"""
    put_section(section)


if __name__ == "__main__":
    main()
