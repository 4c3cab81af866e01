#!/usr/bin/python3
"""Gradient-boosting benchmark: vigil's gbdt against XGBoost and
scikit-learn's HistGradientBoostingClassifier on NSL-KDD (KDDTrain+ ->
KDDTest+) and KDD Cup 99 (10% -> corrected), binary and 5-category, with the
same model settings on every side: 200 rounds, depth 6, learning rate 0.1.

Every tool runs the way its users run it: its own process, its default
threads (XGBoost n_jobs=None; scikit-learn's OpenMP default; vigil without
--threads), and OMP_NUM_THREADS removed from the environment. Each run is a
separate process under /usr/bin/time, which gives the peak resident memory
of the whole process (data loading included). Training and prediction
seconds are each tool's own timing: vigil's --json train_seconds (pipeline +
estimator) and predict_seconds (pipeline transform + predict); XGBoost's and
scikit-learn's fit (encoder included) and transform + predict_proba
(bench/gbdt_python.py). Times are the best of --repeat runs, taken in turn
(vigil, XGBoost, scikit-learn, vigil, ...), memory the largest.

A second table is vigil's two-thread scaling: `vigil train` with --threads 1
and --threads 2, --scaling runs each, alternating; the median of the
per-pair ratios of train_seconds and of the whole process's wall time.
Both tables carry the load average (1 min) seen before each cell.

Prints the tables and writes them into bench/RESULTS.md as the section
"## Gradient boosting: vigil vs XGBoost and HistGradientBoosting".

usage: bench/gbdt.py [--vigil build/vigil] [--repeat N] [--scaling N] [--only nsl|kdd99]
                     [--peers xgboost,hgb]"""
import argparse
import json
import os
import statistics
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
ROUNDS, DEPTH, LR = 200, 6, 0.1
SECTION = "## Gradient boosting: vigil vs XGBoost and HistGradientBoosting"


def plain_env():
    """The caller's environment without thread settings: each tool picks its own."""
    return {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}


def load():
    return os.getloadavg()[0]


def timed(cmd):
    """Run cmd under /usr/bin/time; return (stdout, peak RSS in MiB, wall s, CPU s)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        out = subprocess.run(["/usr/bin/time", "-f", "%M %e %U %S", "-o", tf.name] + cmd, check=True,
                             stdout=subprocess.PIPE, text=True, env=plain_env()).stdout
        rss_kb, wall, user, sys_s = tf.read().strip().splitlines()[-1].split()
    return out, int(rss_kb) / 1024.0, float(wall), float(user) + float(sys_s)


def run_vigil(vigil, train, test, task, threads=None):
    with tempfile.TemporaryDirectory() as d:
        cmd = [vigil, "train", "--data", train, "--test", test, "--format", "kdd", "--task", task, "--model", "gbdt",
               "--param", f"n_estimators={ROUNDS}", "--param", f"max_depth={DEPTH}", "--param", f"learning_rate={LR}",
               "--seed", "42", "--json", "-o", os.path.join(d, "m.vgm")]
        if threads is not None:
            cmd += ["--threads", str(threads)]
        out, rss, wall, cpu = timed(cmd)
    r = json.loads(out)
    return {"accuracy": r["accuracy"], "roc_auc": r["roc_auc"], "train_seconds": r["train_seconds"],
            "predict_seconds": r["predict_seconds"], "rows": r["rows"], "peak_mib": rss, "wall": wall, "cpu": cpu}


def run_python(tool, train, test, cats, task):
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "gbdt_python.py"), tool, task, train, test, "0",
           cats, str(ROUNDS), str(DEPTH), str(LR)]
    out, rss, wall, cpu = timed(cmd)
    r = json.loads(out)
    r["peak_mib"] = rss
    return r


def best(runs, key):
    return min(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per cell; times are the best run")
    ap.add_argument("--scaling", type=int, default=5, help="runs per thread count in the scaling table (0: none)")
    ap.add_argument("--only", choices=sorted(DATASETS), help="one data set")
    ap.add_argument("--peers", default="xgboost,hgb", help="peers to run: xgboost and/or hgb")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    if "xgboost" not in peers:
        sys.exit("bench/gbdt.py: XGBoost is the reference every ratio is taken against; keep it in --peers")
    rows, scaling = [], []
    for key, (name, train, test, cats) in DATASETS.items():
        if args.only and key != args.only:
            continue
        for task in ("binary", "category"):
            cell = {"vigil": [], **{p: [] for p in peers}}
            la = load()
            # Repeats go round the tools, so a busy spell on the machine
            # does not fall on one tool's runs only.
            for _ in range(args.repeat):
                for tool in cell:
                    cell[tool].append(run_vigil(args.vigil, train, test, task) if tool == "vigil"
                                      else run_python(tool, train, test, cats, task))
            la = (la, load())
            for tool, runs in cell.items():
                print(f"{name:10} {task:8} {tool:8} train {best(runs, 'train_seconds'):7.3f}s predict "
                      f"{best(runs, 'predict_seconds'):6.3f}s auc {runs[0]['roc_auc']:.5f} peak "
                      f"{max(x['peak_mib'] for x in runs):.0f} MiB (load {la[0]:.1f}-{la[1]:.1f})",
                      file=sys.stderr, flush=True)
            rows.append((name, task, cell, la))
            if args.scaling > 0:
                runs, la = {1: [], 2: []}, load()
                for _ in range(args.scaling):
                    for t in (1, 2):
                        runs[t].append(run_vigil(args.vigil, train, test, task, threads=t))
                la = (la, load())
                scaling.append((name, task, runs, la))
                r = scaling_row(scaling[-1])
                print(f"{name:10} {task:8} scaling {r}", file=sys.stderr, flush=True)
    table = render(rows, args.repeat, peers, scaling, args.scaling)
    print(table)
    put_section(table)


def scaling_row(entry):
    name, task, runs, la = entry
    med = statistics.median
    t1 = [r["train_seconds"] for r in runs[1]]
    t2 = [r["train_seconds"] for r in runs[2]]
    w1 = [r["wall"] for r in runs[1]]
    w2 = [r["wall"] for r in runs[2]]
    c1 = [r["cpu"] for r in runs[1]]
    c2 = [r["cpu"] for r in runs[2]]
    return (f"| {name} | {task} | {med(t1):.3f} | {med(t2):.3f} | {med([a / b for a, b in zip(t1, t2)]):.2f}x | "
            f"{med(w1):.2f} | {med(w2):.2f} | {med([a / b for a, b in zip(w1, w2)]):.2f}x | {med(c1):.2f} | "
            f"{med(c2):.2f} | {la[0]:.1f}-{la[1]:.1f} |")


LABEL = {"vigil": "vigil", "xgboost": "XGBoost 1.7", "hgb": "HistGradientBoosting"}


def render(rows, repeat, peers, scaling, n_scaling):
    lines = [
        SECTION,
        "",
        f"Command: `/usr/bin/python3 bench/gbdt.py --repeat {repeat} --scaling {n_scaling}"
        + ("" if peers == ["xgboost", "hgb"] else f" --peers {','.join(peers)}") + "` on this machine "
        f"({os.cpu_count()} cores). Every side: {ROUNDS} rounds, max_depth {DEPTH}, learning_rate {LR}, and its own "
        "default threads, run plainly (OMP_NUM_THREADS unset): XGBoost `XGBClassifier(tree_method='hist', "
        "max_bin=256)` (n_jobs=None) on one-hot encoded protocol/service/flag; `HistGradientBoostingClassifier("
        "max_iter=200, max_depth=6, learning_rate=0.1, early_stopping=False)` with the three as native categories; "
        "vigil `--model gbdt --param n_estimators=200 --param max_depth=6 --param learning_rate=0.1` (no "
        "--threads: the CPUs it may use), native categories. Train seconds: fit with the encoder (vigil: pipeline "
        "+ estimator); predict seconds: transform + probabilities of the whole test set; rows/s = test rows / "
        "predict seconds. Times: best of the runs, which go round the tools in turn; memory: peak RSS of the whole "
        "process (/usr/bin/time), the largest of the runs. ROC-AUC: binary - attack class; category - "
        "one-vs-rest macro over the five classes. Load: the 1-minute load average before and after the cell.",
        "",
        "| data | task | tool | accuracy | ROC-AUC | train s | predict s | predict rows/s | peak MiB |"
        " train vs XGBoost | AUC - XGBoost | predict speed vs XGBoost | memory vs XGBoost | load |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, task, cell, la in rows:
        x = cell["xgboost"]
        xt, xp, xm = best(x, "train_seconds"), best(x, "predict_seconds"), max(r["peak_mib"] for r in x)
        for tool in ["vigil"] + peers:
            runs = cell[tool]
            r = runs[0]
            t, p, m = best(runs, "train_seconds"), best(runs, "predict_seconds"), max(q["peak_mib"] for q in runs)
            ratio = (" | | |" if tool == "xgboost" else
                     f"{t / xt:.3f}x | {r['roc_auc'] - x[0]['roc_auc']:+.4f} | {xp / p:.2f}x | {m / xm:.3f}x")
            lines.append(f"| {name} | {task} | {LABEL[tool]} | {r['accuracy']:.4f} | {r['roc_auc']:.4f} | {t:.3f} | "
                         f"{p:.3f} | {r['rows'] / p:,.0f} | {m:.0f} | {ratio} | {la[0]:.1f}-{la[1]:.1f} |")
    lines += [
        "",
        "Targets for vigil against XGBoost: train time at most 0.5x, ROC-AUC no lower than XGBoost's minus 0.002, "
        "predict speed at least 3x, peak memory at most 0.5x.",
    ]
    if scaling:
        lines += [
            "",
            f"vigil's two-thread scaling: `vigil train` of the same cells with `--threads 1` and `--threads 2`, "
            f"{n_scaling} runs each, alternating. Ratio = median over the pairs of (1 thread / 2 threads); train s "
            "is vigil's own train_seconds (pipeline + estimator), wall and CPU s are the whole process's "
            "(reading, training, evaluating the test set; /usr/bin/time).",
            "",
            "| data | task | train s, 1 thread | train s, 2 threads | train speed-up | wall s, 1 | wall s, 2 | "
            "wall speed-up | CPU s, 1 | CPU s, 2 | load |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ] + [scaling_row(e) for e in scaling]
    lines += [
        "",
        "Notes. (1) NSL-KDD's test ROC-AUC moves by a few thousandths with any detail of the trees: XGBoost itself "
        "gives 0.9531 (category) with max_bin=256 but 0.9502 with 255 and 0.9489 with 128; where vigil's remaining "
        "difference comes from is in the section \"gbdt ROC-AUC against XGBoost: where the difference comes "
        "from\". vigil's default max_cat_threshold (the most categories one categorical split collects) is "
        "LightGBM's 32, which 3-fold cross-validation on KDDTrain+ alone also picks (section \"gbdt "
        "max_cat_threshold by cross-validation\"); it was once 4, chosen with these test sets in view, which is "
        "leakage. (2) HistGradientBoosting's multiclass probabilities saturate to exactly 0 or 1 on these data "
        "(99.98% of them on NSL-KDD), so its one-vs-rest ROC-AUC is low although its accuracy is not. (3) When "
        "other processes share the two cores (see the load column), every tool slows down, XGBoost's OpenMP "
        "threads most; the lead reruns the table on a quiet machine.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
