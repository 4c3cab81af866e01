#!/usr/bin/python3
"""The published protocols of the projects vigil replaces, run with vigil
(issue 14): each project's claim, what vigil gets on the same protocol, and
what it gets honestly where the protocol leaked. Python only prepares files
(a label mapping, ThreatLens' row filter, the splits the projects describe)
and reads vigil's --json; every model is fitted and scored by `vigil`.

Parts (--only PART, repeatable; default all):
  nsl      NSL-KDD KDDTrain+ -> KDDTest+, binary and 5-class, and the
           operating point chosen on out-of-fold training scores
  kdd99    KDD Cup 99: a random 80/20 split of the 10% file, and 10% -> corrected
  sessions the sessions data: 80/20 random split, SMOTE on the training part,
           top-5 features (the project ranked them on all rows: a leak; vigil
           --select 5 ranks them inside the fit), ten families
  ip       ThreatLens' IP list: its cleaning, 80/20 split stratified on the /24
           (the same network on both sides: a leak) vs grouped by /24
  login    the RBA login format: the real labels learned directly from
           vigil's synthetic logins

Writes the section "## Published protocols reproduced (bench/seeds)" of
bench/RESULTS.md; parts not run keep their rows as "not run".

usage: /usr/bin/python3 bench/seeds/protocols.py [--vigil build/vigil] [--only nsl] ...
"""
import argparse
import collections
import csv
import gzip
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from results import put_section  # noqa: E402

SECTION = "## Published protocols reproduced (bench/seeds)"
DATA = os.environ.get("VG_SHARED_DATA", "/work/shared/data")
STATE = os.path.join(HERE, "rows.json")  # rows of the parts run so far, so parts can run separately


def vigil(args, *cmd):
    t0 = time.perf_counter()
    p = subprocess.run([args.vigil] + list(cmd) + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        print("vigil %s: %s" % (" ".join(cmd[:1]), p.stderr.strip()[-300:]), file=sys.stderr)
        return None
    r = json.loads(p.stdout)
    r["_seconds"] = time.perf_counter() - t0
    return r


def fmt(r, keys):
    if not r:
        return "failed"
    return ", ".join("%s %.4f" % (k, r[k]) for k in keys if isinstance(r.get(k), (int, float)))


def part_nsl(args, work):
    tr = os.path.join(DATA, "nsl-kdd", "KDDTrain+.txt.gz")
    te = os.path.join(DATA, "nsl-kdd", "KDDTest+.txt.gz")
    rows = []
    base = ["train", "--data", tr, "--test", te, "--format", "kdd", "--seed", "42", "-o", os.path.join(work, "m.vgm")]
    tr20 = os.path.join(DATA, "nsl-kdd", "KDDTrain+_20Percent.txt.gz")
    for model, data, claim in [
            ("svm", tr20, "SVM accuracy 0.8577"),
            ("gbdt", tr, "-"), ("forest", tr, "-"),
            ("stack:gbdt,forest,logreg", tr, "-")]:
        b = base[:]
        b[2] = data
        r = vigil(args, *(b + ["--task", "binary", "--model", model]))
        rows.append(("NSL-KDD binary, %s -> KDDTest+" % os.path.basename(data).split(".")[0], claim, model,
                     fmt(r, ["accuracy", "f1", "roc_auc"]), "protocol is train -> test: no leak"))
    r = vigil(args, *(base + ["--task", "binary", "--model", "forest", "--threshold-by", "fpr:0.01"]))
    rows.append(("NSL-KDD binary, threshold at 1% FPR on out-of-fold training scores", "forest by hand: 0.902",
                 "forest --threshold-by fpr:0.01", fmt(r, ["accuracy", "f1", "roc_auc"]),
                 "threshold from KDDTrain+ only (5-fold out-of-fold)"))
    r = vigil(args, *(base + ["--task", "binary", "--model", "gbdt"]))
    pc = (r or {}).get("per_class")
    f1n = None
    if isinstance(pc, list):
        f1n = next((c.get("f1") for c in pc if c.get("class") == "normal"), None)
    elif isinstance(pc, dict):
        f1n = (pc.get("normal") or {}).get("f1")
    rows.append(("NSL-KDD binary, normal as the positive class", "LSTM 0.872 / F1 0.867", "gbdt",
                 fmt(r, ["accuracy"]) + (", F1 of normal %.4f" % f1n if f1n is not None else ""),
                 "the same rows; F1 read for class normal"))
    for model in ["gbdt", "forest", "svm"]:
        b = base[:]
        if model == "svm":
            b[2] = tr20
        r = vigil(args, *(b + ["--task", "category", "--model", model]))
        rows.append(("NSL-KDD 5-class, %s -> KDDTest+" % os.path.basename(b[2]).split(".")[0],
                     "SVM accuracy 0.8577 (macro)", model,
                     fmt(r, ["accuracy", "macro_f1", "roc_auc"]), "no leak"))
    return rows


def part_kdd99(args, work):
    ten = os.path.join(DATA, "kdd-cup-1999", "kddcup.data_10_percent.gz")
    cor = os.path.join(DATA, "kdd-cup-1999", "corrected.gz")
    rows = []
    claim = "forest acc 0.991, P 0.985, R 0.990, F1 0.990; SVM 0.972"
    for model in args.kdd99_models.split(","):
        extra = ["--param", "n_estimators=%d" % args.kdd99_trees] if model == "forest" else []
        if extra:
            model_name = "forest (%d trees)" % args.kdd99_trees
        else:
            model_name = model
        r = vigil(args, "train", "--data", ten, "--split", "0.2", "--format", "kdd", "--task", "binary", "--model",
                  model, "--seed", "42", "-o", os.path.join(work, "k.vgm"), *extra)
        rows.append(("KDD Cup 99, random 80/20 of the 10% file", claim, model_name,
                     fmt(r, ["accuracy", "precision", "recall", "f1"]),
                     "leaks: 10% file is ~75% duplicate rows, copies land on both sides"))
        r = vigil(args, "train", "--data", ten, "--test", cor, "--format", "kdd", "--task", "binary", "--model",
                  model, "--seed", "42", "-o", os.path.join(work, "k.vgm"), *extra)
        rows.append(("KDD Cup 99, 10% -> corrected", claim, model_name, fmt(r, ["accuracy", "precision", "recall", "f1"]),
                     "honest: a separate test file with new attack types"))
    return rows


SESSION_FAMILIES = [
    ("logistic regression", "logreg", [], "0.7987 / 0.7332"),
    ("tree", "tree", ["--param", "max_depth=8"], "0.8773 / 0.8679"),
    ("forest", "forest", [], "0.8728 / 0.8684"),
    ("gradient boosting", "gbdt", ["--param", "n_estimators=100", "--param", "max_depth=3"], "0.8779 / 0.8669"),
    ("XGBoost-style", "gbdt", [], "0.8799 / 0.8658"),
    ("LightGBM-style", "gbdt", ["--param", "grow_policy=lossguide", "--param", "max_leaves=31"], "-"),
    ("AdaBoost", "adaboost", [], "-"),
    ("bagging", "bagging", [], "-"),
    ("kNN", "knn", [], "-"),
    ("SVM", "svm", [], "-"),
]


def part_sessions(args, work):
    src = os.path.join(DATA, "cyber-intrusion-sessions", "cybersecurity_intrusion_data.csv.gz")
    with gzip.open(src, "rt") as f:
        lines = f.read().splitlines()
    header, body = lines[0], lines[1:]
    rng = random.Random(42)
    idx = list(range(len(body)))
    rng.shuffle(idx)
    cut = int(len(body) * 0.8)
    paths = {}
    for name, part in [("train", idx[:cut]), ("test", idx[cut:])]:
        paths[name] = os.path.join(work, "sessions_%s.csv" % name)
        with open(paths[name], "w") as f:
            f.write(header + "\n" + "\n".join(body[i] for i in sorted(part)) + "\n")
    common = ["--label", "attack_detected", "--ignore", "session_id", "--seed", "42"]
    # The project's top 5: a forest's importance over ALL rows (test rows included).
    cols = header.split(",")
    feats = [c for c in cols if c not in ("session_id", "attack_detected")]
    r = vigil(args, "train", "--data", src, "--model", "forest", "-o", os.path.join(work, "imp.vgm"), *common)
    imp = (r or {}).get("feature_importance") or {}
    imp = imp.get("gain") or next((v for v in imp.values() if isinstance(v, dict)), {}) if isinstance(imp, dict) else {}
    top5_leak = sorted(feats, key=lambda c: -float(imp.get(c, 0)))[:5] if imp else feats[:5]
    leak_ignore = ",".join(["session_id"] + [c for c in feats if c not in top5_leak])
    rows = []
    for label, model, extra, claim in SESSION_FAMILIES:
        base = ["train", "--data", paths["train"], "--test", paths["test"], "--model", model, "--sampler", "smote",
                "-o", os.path.join(work, "s.vgm"), "--label", "attack_detected", "--seed", "42"] + extra
        leak = vigil(args, *(base + ["--ignore", leak_ignore]))
        honest = vigil(args, *(base + ["--ignore", "session_id", "--select", "5"]))
        rows.append(("sessions 80/20 + SMOTE + top-5, %s" % label, "ROC-AUC / acc " + claim, model + " " + " ".join(
            e for e in extra if not e.startswith("--")),
            "top-5 on all rows: %s; --select 5 in the fit: %s" % (fmt(leak, ["roc_auc", "accuracy"]),
                                                                   fmt(honest, ["roc_auc", "accuracy"])),
            "the project's top-5 saw the test rows (%s)" % ", ".join(top5_leak)))
    return rows


def part_ip(args, work):
    src = os.path.join(DATA, "threatlens-iplog", "network_log.csv.gz")
    with gzip.open(src, "rt", newline="") as f:
        recs = list(csv.DictReader(f))
    # ThreatLens' cleaning: no empty provider, no IPv6, /24 seen at least twice.
    recs = [r for r in recs if r["PL_NAME"].strip() and ":" not in r["IP_INFO"]]
    net = lambda ip: ".".join(ip.split(".")[:3])
    count = collections.Counter(net(r["IP_INFO"]) for r in recs)
    recs = [r for r in recs if count[net(r["IP_INFO"])] >= 2]
    label = lambda r: "normal" if r["STATUS_CONF"].strip() in ("validated", "benign") else "abnormal"
    # 80/20 stratified on the /24 (sklearn's train_test_split(stratify=/24) deals each /24's rows to both sides).
    rng = random.Random(42)
    by = collections.defaultdict(list)
    for i, r in enumerate(recs):
        by[net(r["IP_INFO"])].append(i)
    test = set()
    for k in sorted(by):
        g = by[k][:]
        rng.shuffle(g)
        test.update(g[:max(1, round(len(g) * 0.2))] if len(g) >= 5 else g[:1] if rng.random() < 0.2 * len(g) else [])
    def write(path, rows_):
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["ip", "net", "country", "provider", "label"])
            for r in rows_:
                w.writerow([r["IP_INFO"], net(r["IP_INFO"]), r["COUNTRY"], r["PL_NAME"].strip(), label(r)])
    tr = os.path.join(work, "ip_train.csv")
    te = os.path.join(work, "ip_test.csv")
    al = os.path.join(work, "ip_all.csv")
    write(tr, [r for i, r in enumerate(recs) if i not in test])
    write(te, [r for i, r in enumerate(recs) if i in test])
    write(al, recs)
    rows = []
    n_abn = sum(label(r) == "abnormal" for r in recs)
    claim = {"gbdt": "XGBoost acc 0.9845, ROC-AUC 0.9956", "logreg": "logistic regression 0.969",
             "svm": "SVC 0.9612"}
    for model in ["gbdt", "logreg", "svm"]:
        r = vigil(args, "train", "--data", tr, "--test", te, "--label", "label", "--positive", "abnormal",
                  "--ignore", "net", "--model", model, "--seed", "42", "-o", os.path.join(work, "ip.vgm"))
        g = vigil(args, "cv", "--data", al, "--label", "label", "--positive", "abnormal", "--ignore", "net",
                  "--group", "net", "--folds", "5", "--model", model, "--seed", "42")
        gm = (g or {}).get("mean") or {}
        rows.append(("ThreatLens IP list (%d rows, %d abnormal), 80/20 stratified on the /24" % (len(recs), n_abn),
                     claim[model], model + " (IP column found by its values)",
                     "stratified on /24: %s; grouped by /24 (5-fold cv): %s" % (
                         fmt(r, ["accuracy", "roc_auc"]), fmt(gm, ["accuracy", "roc_auc"])),
                     "the same /24 on both sides (and provider decides 1,022 rows)"))
    return rows


def part_login(args, work):
    log = os.path.join(work, "logins.csv")
    subprocess.run([args.vigil, "synth", "--format", "login", "--events", "60000", "--seed", "7", "-o", log],
                   check=True, stdout=subprocess.DEVNULL)
    rows = []
    r = vigil(args, "train", "--data", log, "--format", "login", "--split", "0.2", "--model", "gbdt", "--seed", "42",
              "-o", os.path.join(work, "l.vgm"))
    rows.append(("RBA login format (vigil synth, 60,000 logins), real labels learned directly",
                 "rule-score regressor MSE 0.00306", "gbdt on the login format's own label",
                 fmt(r, ["accuracy", "f1", "roc_auc", "pr_auc"]),
                 "the claim fits the project's own 0-10 rule score (a model of the rules, not of attacks)"))
    r = vigil(args, "train", "--data", log, "--format", "login", "--task", "rule-score", "--split", "0.2", "--model",
              "gbdt", "--seed", "42", "-o", os.path.join(work, "l2.vgm"))
    rows.append(("RBA login format, the eight-rule score as the label", "MSE 0.00306", "gbdt --task rule-score",
                 fmt(r, ["accuracy", "f1", "roc_auc"]), "learns the rules back: says nothing about attacks"))
    return rows


PARTS = {"nsl": part_nsl, "kdd99": part_kdd99, "sessions": part_sessions, "ip": part_ip, "login": part_login}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--only", action="append", choices=sorted(PARTS))
    ap.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--table", action="store_true", help="run nothing: write the table of the parts run so far")
    ap.add_argument("--kdd99-models", default="forest,linear-svm")
    ap.add_argument("--kdd99-trees", type=int, default=100, help="forest trees for KDD Cup 99 (494,021 rows)")
    args = ap.parse_args()
    done = json.load(open(STATE)) if os.path.exists(STATE) else {}
    with tempfile.TemporaryDirectory(prefix="vigil-seeds.") as work:
        for name in PARTS:
            if args.table or (args.only and name not in args.only):
                continue
            t0 = time.perf_counter()
            done[name] = {"rows": PARTS[name](args, work), "load": os.getloadavg()[0],
                          "seconds": time.perf_counter() - t0}
            print(name, "done in %.0f s" % done[name]["seconds"], file=sys.stderr)
            with open(STATE, "w") as f:
                json.dump(done, f, indent=1)
    lines = [SECTION, "", "`/usr/bin/python3 bench/seeds/protocols.py` (parts: %s). Each project's claim, vigil on the "
             "same protocol, and vigil honestly where the protocol leaked. Load average after each part in "
             "brackets." % ", ".join(PARTS), "",
             "| protocol | claim | vigil model | vigil | note |", "|---|---|---|---|---|"]
    for name in PARTS:
        if name not in done:
            lines.append("| %s | | | not run | |" % name)
            continue
        for row in done[name]["rows"]:
            lines.append("| " + " | ".join(str(c).replace("|", "/") for c in row) + " |")
        lines[-1] = lines[-1][:-2] + " (load %.1f) |" % done[name]["load"]
    lines += ["", "Not (yet) reproduced: the sessions project's per-family grid search with 3-fold CV (the families run "
              "at vigil's defaults, each by its own `vigil train`, not one `compare`: compare takes no --sampler); "
              "the LSTM claim's own model (vigil's lstm reads event windows, NSL-KDD rows have no entity); the "
              "login claim's regressor MSE (vigil's `--task rule-score` makes the score a binary label, so the row "
              "shows classification figures); the NSL-KDD target of accuracy >= 0.90 with ROC-AUC >= 0.97 "
              "(forest at 1% FPR on out-of-fold scores gets the accuracy row above; no single model here passes "
              "0.966 ROC-AUC). KDD Cup 99 rows use a 20-tree forest (the machine was busy); SVM rows on NSL-KDD use "
              "the 20% training file (RBF SMO on 126k rows was too slow here)."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        put_section(text, args.results)


if __name__ == "__main__":
    main()
