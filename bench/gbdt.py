#!/usr/bin/python3
"""Gradient-boosting benchmark: vigil's gbdt against XGBoost and
scikit-learn's HistGradientBoostingClassifier on NSL-KDD (KDDTrain+ ->
KDDTest+) and KDD Cup 99 (10% -> corrected), binary and 5-category, with the
same settings on every side: 200 rounds, depth 6, learning rate 0.1, 2
threads (XGBoost n_jobs=2; HistGradientBoosting through OMP_NUM_THREADS=2).
Prints a table and writes it into bench/RESULTS.md as the section
"## Gradient boosting: vigil vs XGBoost and HistGradientBoosting".

Each run is a separate process under /usr/bin/time, which gives the peak
resident memory of the whole process (data loading included). Training and
prediction seconds are each tool's own timing: vigil's --json train_seconds
(pipeline + estimator) and predict_seconds (pipeline transform + predict);
XGBoost's and scikit-learn's fit (encoder included) and transform +
predict_proba (bench/gbdt_python.py). Times are the best of --repeat runs,
taken in turn (vigil, XGBoost, scikit-learn, vigil, ...), memory the
largest.

usage: bench/gbdt.py [--vigil build/vigil] [--repeat N] [--only nsl|kdd99]"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from results import put_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data")
DATASETS = {
    "nsl": ("NSL-KDD", os.path.join(SHARED, "nsl-kdd", "KDDTrain+.txt.gz"),
            os.path.join(SHARED, "nsl-kdd", "KDDTest+.txt.gz"), os.path.join(SHARED, "nsl-kdd", "attack_categories.csv")),
    "kdd99": ("KDD Cup 99", os.path.join(SHARED, "kdd-cup-1999", "kddcup.data_10_percent.gz"),
              os.path.join(SHARED, "kdd-cup-1999", "corrected.gz"),
              os.path.join(SHARED, "kdd-cup-1999", "attack_categories.csv")),
}
THREADS = 2
ROUNDS, DEPTH, LR = 200, 6, 0.1
SECTION = "## Gradient boosting: vigil vs XGBoost and HistGradientBoosting"


def timed(cmd, env=None):
    """Run cmd under /usr/bin/time; return (stdout, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, check=True,
                             stdout=subprocess.PIPE, text=True, env=env).stdout
        rss_kb = int(tf.read().strip().splitlines()[-1])
    return out, rss_kb / 1024.0


def run_vigil(vigil, train, test, task):
    with tempfile.TemporaryDirectory() as d:
        cmd = [vigil, "train", "--data", train, "--test", test, "--format", "kdd", "--task", task, "--model", "gbdt",
               "--param", f"n_estimators={ROUNDS}", "--param", f"max_depth={DEPTH}", "--param", f"learning_rate={LR}",
               "--threads", str(THREADS), "--seed", "42", "--json", "-o", os.path.join(d, "m.vgm")]
        out, rss = timed(cmd)
    r = json.loads(out)
    return {"accuracy": r["accuracy"], "roc_auc": r["roc_auc"], "train_seconds": r["train_seconds"],
            "predict_seconds": r["predict_seconds"], "rows": r["rows"], "peak_mib": rss}


def run_python(tool, train, test, cats, task):
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS))
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "gbdt_python.py"), tool, task, train, test, str(THREADS),
           cats, str(ROUNDS), str(DEPTH), str(LR)]
    out, rss = timed(cmd, env)
    r = json.loads(out)
    r["peak_mib"] = rss
    return r


def best(runs, key):
    return min(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; times are the best run")
    ap.add_argument("--only", choices=sorted(DATASETS), help="one data set")
    args = ap.parse_args()
    rows = []
    for key, (name, train, test, cats) in DATASETS.items():
        if args.only and key != args.only:
            continue
        for task in ("binary", "category"):
            cell = {"vigil": [], "xgboost": [], "hgb": []}
            # Repeats go round the tools, so a busy spell on the machine
            # does not fall on one tool's runs only.
            for _ in range(args.repeat):
                for tool in cell:
                    cell[tool].append(run_vigil(args.vigil, train, test, task) if tool == "vigil"
                                      else run_python(tool, train, test, cats, task))
            for tool, runs in cell.items():
                print(f"{name:10} {task:8} {tool:8} train {best(runs, 'train_seconds'):7.3f}s predict "
                      f"{best(runs, 'predict_seconds'):6.3f}s auc {runs[0]['roc_auc']:.5f} peak "
                      f"{max(x['peak_mib'] for x in runs):.0f} MiB", file=sys.stderr, flush=True)
            rows.append((name, task, cell))
    table = render(rows, args.repeat)
    print(table)
    put_section(table)


def render(rows, repeat):
    lines = [
        SECTION,
        "",
        f"Command: `/usr/bin/python3 bench/gbdt.py --repeat {repeat}` on this machine ({os.cpu_count()} cores). "
        f"Every side: {ROUNDS} rounds, max_depth {DEPTH}, learning_rate {LR}, {THREADS} threads (XGBoost "
        "`XGBClassifier(tree_method='hist', max_bin=256, n_jobs=2)` on one-hot encoded protocol/service/flag; "
        "`HistGradientBoostingClassifier(max_iter=200, max_depth=6, learning_rate=0.1, early_stopping=False)` with "
        "the three as native categories and `OMP_NUM_THREADS=2`; vigil `--model gbdt --param n_estimators=200 "
        "--param max_depth=6 --param learning_rate=0.1 --threads 2`, native categories). Train seconds: fit with "
        "the encoder (vigil: pipeline + estimator); predict seconds: transform + probabilities of the whole test "
        "set; rows/s = test rows / predict seconds. Times: best of the runs; memory: peak RSS of the whole process "
        "(/usr/bin/time). ROC-AUC: binary - attack class; category - one-vs-rest macro over the five classes.",
        "",
        "| data | task | tool | accuracy | ROC-AUC | train s | predict s | predict rows/s | peak MiB |"
        " train vs XGBoost | AUC - XGBoost | predict speed vs XGBoost | memory vs XGBoost |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, task, cell in rows:
        x = cell["xgboost"]
        xt, xp, xm = best(x, "train_seconds"), best(x, "predict_seconds"), max(r["peak_mib"] for r in x)
        for tool in ("vigil", "xgboost", "hgb"):
            runs = cell[tool]
            r = runs[0]
            t, p, m = best(runs, "train_seconds"), best(runs, "predict_seconds"), max(q["peak_mib"] for q in runs)
            label = {"vigil": "vigil", "xgboost": "XGBoost 1.7", "hgb": "HistGradientBoosting"}[tool]
            ratio = "" if tool == "xgboost" else (f"{t / xt:.3f}x | {r['roc_auc'] - x[0]['roc_auc']:+.4f} | "
                                                  f"{xp / p:.2f}x | {m / xm:.3f}x")
            lines.append(f"| {name} | {task} | {label} | {r['accuracy']:.4f} | {r['roc_auc']:.4f} | {t:.3f} | "
                         f"{p:.3f} | {r['rows'] / p:,.0f} | {m:.0f} | " + (ratio if ratio else " | | |") + " |")
    lines += [
        "",
        "Targets for vigil against XGBoost: train time at most 0.5x, ROC-AUC no lower than XGBoost's minus 0.002, "
        "predict speed at least 3x, peak memory at most 0.5x.",
        "",
        "Notes. (1) NSL-KDD's test ROC-AUC moves by a few thousandths with any detail of the trees: XGBoost itself "
        "gives 0.9531 (category) with max_bin=256 but 0.9502 with 255 and 0.9489 with 128. vigil's default "
        "max_cat_threshold (the most categories one categorical split collects) is LightGBM's 32, which 3-fold "
        "cross-validation on KDDTrain+ alone also picks (section \"gbdt max_cat_threshold by cross-validation\"). "
        "Until 2026-11-21 it was 4, chosen with these test sets in view, which is leakage: with "
        "`--param max_cat_threshold=4` vigil scored 0.9642 / 0.9513 on NSL-KDD binary / category (the table before this one, in git history). "
        "(2) HistGradientBoosting's multiclass probabilities saturate to exactly 0 or 1 on these data (99.98% of "
        "them on NSL-KDD), so its one-vs-rest ROC-AUC is low although its accuracy is not. "
        "(3) Other processes shared the two cores during the runs (XGBoost's OpenMP threads slow down most when "
        "they do); each figure is the best of the runs, which go round the tools in turn.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
