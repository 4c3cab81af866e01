#!/usr/bin/python3
"""Every supervised family in one `vigil compare` table per data set (issue 13).

usage: bench/zoo.py [--vigil PATH] [--datasets NAME,...] [--models A,B,...] [--train-rows N]
                    [--no-write]

Data sets (one `vigil compare --json` run each, every family on the same rows):
  sessions        the cyber-intrusion sessions CSV, a stratified 25% held out
  kdd-binary      NSL-KDD KDDTrain+ -> KDDTest+, attack vs normal (attack positive),
                  --format kdd: the difficulty column is never a feature
  kdd-category    the same, normal/DoS/Probe/R2L/U2R
  leaky-binary    the protocol of the NSL-KDD project vigil replaces: the same
                  files as CSV with the difficulty column kept as a feature and
                  normal as the positive class
  leaky-category  the same leak, five classes

The NSL-KDD project published SVM accuracy 0.8577 and LSTM accuracy 0.872 /
F1 0.867 on its protocol; they are printed beside the leaky and honest rows so
the reader sees which protocol those figures belong to. Every family runs with
vigil's defaults. Each data set's table goes to bench/RESULTS.md as soon as it
is done (a run stopped midway keeps the tables it finished). The load average
is printed with the section: this is one run, not best of 3 (a compare run of
ten families on NSL-KDD takes many minutes). --train-rows N trains the NSL-KDD
runs on a seeded stratified sample of N rows of KDDTrain+ (the test is all of
KDDTest+), for a quick check on a busy machine; the section says so."""
import argparse
import csv
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import put_section  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.environ.get("VG_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
HEADING = "## The supervised zoo in one compare table (bench/zoo.py)"
MODELS = "logreg,tree,forest,gbdt,svm,linear-svm,mlp,lstm,gru,knn"
PUBLISHED = {"svm": "accuracy 0.8577", "lstm": "accuracy 0.872, F1 0.867"}

DATASETS = {
    "sessions": "cyber-intrusion sessions (9,537 rows, 25% stratified hold-out), attack positive",
    "kdd-binary": "NSL-KDD binary, honest: KDDTrain+ -> KDDTest+, attack positive, no difficulty column",
    "leaky-binary": "NSL-KDD binary, the project's protocol: difficulty kept as a feature, normal positive",
    "kdd-category": "NSL-KDD 5-class, honest (macro precision/recall/F1)",
    "leaky-category": "NSL-KDD 5-class, difficulty kept as a feature (macro precision/recall/F1)",
}


def kdd(name):
    return os.path.join(SHARED, "nsl-kdd", name)


def leaky_csv(src, dst, category):
    """KDD records as a CSV with a header, the difficulty column kept."""
    names = [r[0] for r in csv.reader(open(kdd("field_names.csv")))]
    cats = {r[0]: r[1] for r in csv.reader(open(kdd("attack_categories.csv"))) if r[0] != "attack"}
    with gzip.open(src, "rt") as f, open(dst, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n")
        w.writerow(names + ["label", "difficulty"])
        for row in csv.reader(f):
            if category:
                row[41] = cats.get(row[41], row[41])
            w.writerow(row)


def kdd_train(tmp, rows):
    """KDDTrain+, or a seeded sample of `rows` of it stratified by attack name."""
    if not rows:
        return kdd("KDDTrain+.txt.gz")
    path = os.path.join(tmp, "KDDTrain+_sample.txt.gz")
    if os.path.exists(path):
        return path
    by = {}
    with gzip.open(kdd("KDDTrain+.txt.gz"), "rt") as f:
        for line in f:
            by.setdefault(line.split(",")[41], []).append(line)
    total = sum(len(v) for v in by.values())
    rng = random.Random(1)
    keep = []
    for name in sorted(by):
        v = by[name]
        keep += rng.sample(v, max(1, round(len(v) * rows / total)))
    rng.shuffle(keep)
    with gzip.open(path, "wt") as g:
        g.writelines(keep)
    return path


def args_for(ds, tmp, rows):
    if ds == "sessions":
        return ["--data", os.path.join(SHARED, "cyber-intrusion-sessions", "cybersecurity_intrusion_data.csv.gz"),
                "--label", "attack_detected", "--ignore", "session_id", "--split", "0.25"]
    if ds.startswith("kdd-"):
        return ["--format", "kdd", "--data", kdd_train(tmp, rows), "--test", kdd("KDDTest+.txt.gz"),
                "--task", ds[4:]]
    cat = ds == "leaky-category"
    tr, te = os.path.join(tmp, ds + "-train.csv"), os.path.join(tmp, ds + "-test.csv")
    leaky_csv(kdd_train(tmp, rows), tr, cat)
    leaky_csv(kdd("KDDTest+.txt.gz"), te, cat)
    a = ["--data", tr, "--test", te, "--label", "label"]
    return a + (["--task", "label"] if cat else ["--positive", "normal"])


def table(ds, items, load, wall, rows):
    title = DATASETS[ds]
    if rows and ds != "sessions":
        title += f"; trained on a stratified sample of {rows} KDDTrain+ rows"
    lines = [f"### {title}", "",
             f"load average {load[0]:.1f} / {load[1]:.1f} at start / end; whole compare run {wall:.0f} s", "",
             "| model | train acc | test acc | precision | recall | F1 | ROC-AUC | train s | predict s | published |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for it in items:
        pub = PUBLISHED.get(it["model"], "") if ds.startswith(("kdd-bin", "leaky-bin")) else ""
        lines.append("| {} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.2f} | {:.2f} | {} |".format(
            it["model"], it.get("train_accuracy", float("nan")), it["accuracy"], it["precision"], it["recall"],
            it["f1"], it.get("roc_auc", float("nan")), it["train_seconds"], it["predict_seconds"], pub))
    return "\n".join(lines)


INTRO = """Every supervised family with its defaults, one `vigil compare --json` run per data set
(the same training and test rows for all), 2 cores shared with other sessions, one run
each (the load average is in each table; the lead reruns on a quiet machine).

The NSL-KDD project vigil replaces published SVM accuracy 0.8577 and LSTM accuracy 0.872 /
F1 0.867. Its preprocessing kept NSL-KDD's difficulty column as a feature (the column
records how many of 21 learners got the row right, so it leaks the label's hardness and
differs between normal and attack rows) and treated "normal" as the positive class (its
precision/recall/F1 are of normal traffic, which is easy: most errors are missed attacks).
The "honest" tables are vigil's own protocol (`--format kdd`: the difficulty column is
never a feature, attack is the positive class); the "project's protocol" tables rerun the
same families on the same files with the leak and the flipped positive class, so the
difference the protocol makes is in the table, not argued."""


def summary(figs):
    """What the tables say about the published figures. figs: data set ->
    model -> (test accuracy, F1)."""
    h, l = figs.get("kdd-binary", {}), figs.get("leaky-binary", {})
    if not h or not l:
        return ""
    out = ["**Reading the binary tables.**"]
    for m, pub in (("svm", "0.8577"), ("lstm", "0.872 / F1 0.867")):
        if m in h and m in l:
            out.append(f"`{m}`: published accuracy {pub}; vigil on the project's leaky protocol "
                       f"{l[m][0]:.4f} (F1 of normal {l[m][1]:.4f}), vigil honest {h[m][0]:.4f} "
                       f"(F1 of attack {h[m][1]:.4f}).")
    best_h = max(h, key=lambda m: h[m][0])
    out.append(f"The difficulty column adds {sum(l[m][0] - h[m][0] for m in h if m in l) / len(h):+.3f} "
               "accuracy on average over the families (the flipped positive class changes precision, recall "
               f"and F1, not accuracy); the best honest accuracy is {best_h}'s "
               f"{h[best_h][0]:.4f}. The honest figures are the ones to expect on traffic whose "
               "difficulty nobody has scored.")
    return " ".join(out)


def parse_section(text):
    """figs (as summary() takes) from a section this script wrote."""
    figs, ds = {}, None
    names = {v.split(";")[0]: k for k, v in DATASETS.items()}
    for line in text.splitlines():
        if line.startswith("### "):
            ds = names.get(line[4:].split(";")[0])
        elif ds and line.startswith("| ") and not line.startswith(("| model", "|---")):
            c = [x.strip() for x in line.strip("|").split("|")]
            figs.setdefault(ds, {})[c[0]] = (float(c[2]), float(c[5]))
    return figs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--datasets", default=",".join(DATASETS))
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--train-rows", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--summarise-only", action="store_true",
                    help="recompute the summary of the section in bench/RESULTS.md, run nothing")
    a = ap.parse_args()
    if a.summarise_only:
        from results import DEFAULT
        text = open(DEFAULT).read()
        start = text.index(HEADING)
        end = text.find("\n## ", start + 1)
        sec = text[start:end if end > 0 else len(text)]
        tables = sec[sec.index("### "):]
        s = summary(parse_section(tables))
        print(s)
        put_section("\n\n".join([HEADING, INTRO, s, tables.strip()]))
        return
    done, figs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for ds in a.datasets.split(","):
            if ds not in DATASETS:
                sys.exit(f"unknown data set {ds}; one of {', '.join(DATASETS)}")
            cmd = [a.vigil, "compare"] + args_for(ds, tmp, a.train_rows) + ["--models", a.models, "--json"]
            l0 = os.getloadavg()[0]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.time() - t0
            if p.returncode != 0:
                sys.exit(f"{ds}: vigil compare failed ({p.returncode}): {p.stderr.strip()[-500:]}")
            items = json.loads(p.stdout)["models"]
            figs[ds] = {it["model"]: (it["accuracy"], it["f1"]) for it in items}
            done[ds] = table(ds, items, (l0, os.getloadavg()[0]), wall, a.train_rows)
            print(done[ds] + "\n", flush=True)
            if not a.no_write:
                s = summary(figs)
                put_section("\n\n".join([HEADING, INTRO] + ([s] if s else []) + [done[d] for d in DATASETS if d in done]))


if __name__ == "__main__":
    main()
