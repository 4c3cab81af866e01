#!/usr/bin/python3
"""NSL-KDD benchmark: vigil against scikit-learn, KDDTrain+ -> KDDTest+,
binary and 5-category, for logreg, tree and forest (100 trees), 2 threads on
both sides. Prints a table and writes it into bench/RESULTS.md.

Each run is a separate process under /usr/bin/time, which gives the peak
resident memory of the whole process (data loading included) for both sides.
Training and prediction seconds are each tool's own timing of fit and
predict_proba (vigil: pipeline + estimator; scikit-learn: Pipeline.fit).

usage: bench/nslkdd.py [--vigil build/vigil] [--repeat N]"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from results import put_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared", "data", "nsl-kdd")
TRAIN = os.path.join(SHARED, "KDDTrain+.txt.gz")
TEST = os.path.join(SHARED, "KDDTest+.txt.gz")
THREADS = 2
PARAMS = {"logreg": ["C=1", "max_iter=100", "tol=1e-4"], "tree": [], "forest": ["n_estimators=100"]}


def timed(cmd):
    """Run cmd under /usr/bin/time; return (stdout, peak RSS in MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        rss_kb = int(tf.read().strip().splitlines()[-1])
    return out, rss_kb / 1024.0


def run_vigil(vigil, model, task):
    with tempfile.TemporaryDirectory() as d:
        cmd = [vigil, "train", "--data", TRAIN, "--test", TEST, "--format", "kdd", "--task", task,
               "--model", model, "--threads", str(THREADS), "--seed", "42", "--json", "-o", os.path.join(d, "m.vgm")]
        for p in PARAMS[model]:
            cmd += ["--param", p]
        out, rss = timed(cmd)
    r = json.loads(out)
    return {"accuracy": r["accuracy"], "f1": r["f1"] if task == "binary" else r["macro_f1"], "roc_auc": r["roc_auc"],
            "train_seconds": r["train_seconds"], "predict_seconds": r["predict_seconds"], "peak_mib": rss}


def run_sklearn(model, task):
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "bench", "sklearn_nslkdd.py"), model, task, TRAIN, TEST,
           str(THREADS), os.path.join(SHARED, "attack_categories.csv")]
    out, rss = timed(cmd)
    r = json.loads(out)
    r["peak_mib"] = rss
    return r


def load_seconds(vigil_dir):
    exe = os.path.join(vigil_dir, "bench_load")
    out = subprocess.run([exe, TRAIN], check=True, stdout=subprocess.PIPE, text=True).stdout
    return float(re.search(r"best ([0-9.]+) s", out).group(1))


def best(runs, key):
    return min(r[key] for r in runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; times are the best run")
    ap.add_argument("--models", default="logreg,tree,forest")
    args = ap.parse_args()
    rows = []
    for task in ("binary", "category"):
        for model in args.models.split(","):
            v = [run_vigil(args.vigil, model, task) for _ in range(args.repeat)]
            s = [run_sklearn(model, task) for _ in range(args.repeat)]
            rows.append((task, model, v, s))
            vt, st = best(v, "train_seconds"), best(s, "train_seconds")
            print(f"{task:8} {model:7} vigil train {vt:.3f}s auc {v[0]['roc_auc']:.4f} | "
                  f"sklearn train {st:.3f}s auc {s[0]['roc_auc']:.4f}", file=sys.stderr)
    load = load_seconds(os.path.dirname(args.vigil))
    lines = [
        "## NSL-KDD: vigil vs scikit-learn (KDDTrain+ -> KDDTest+)",
        "",
        f"Command: `/usr/bin/python3 bench/nslkdd.py --repeat {args.repeat}` on this machine "
        f"({os.cpu_count()} cores), {THREADS} threads on both sides; forest 100 trees; logreg C=1, max_iter=100, "
        "tol=1e-4. F1: binary - attack class; category - macro. Times: best of the runs; memory: peak RSS of "
        "the whole process (/usr/bin/time).",
        "",
        "| task | model | tool | accuracy | F1 | ROC-AUC | train s | predict s | peak MiB | train time vs sklearn | AUC diff |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, model, v, s in rows:
        for tool, runs in (("vigil", v), ("scikit-learn", s)):
            r = runs[0]
            ratio = best(v, "train_seconds") / best(s, "train_seconds")
            lines.append(
                f"| {task} | {model} | {tool} | {r['accuracy']:.4f} | {r['f1']:.4f} | {r['roc_auc']:.4f} | "
                f"{best(runs, 'train_seconds'):.3f} | {best(runs, 'predict_seconds'):.3f} | "
                f"{max(x['peak_mib'] for x in runs):.0f} | "
                + (f"{ratio:.3f}x | {v[0]['roc_auc'] - s[0]['roc_auc']:+.4f} |" if tool == "vigil" else " | |"))
    lines += ["", f"Loading KDDTrain+.txt.gz (125,973 rows) into a table: best of 5 = {load:.3f} s "
              "(`build/bench_load ../shared/data/nsl-kdd/KDDTrain+.txt.gz`).", ""]
    table = "\n".join(lines)
    print(table)
    put_section(table)


if __name__ == "__main__":
    main()
