#!/usr/bin/python3
"""Model selection against its peers on NSL-KDD KDDTrain+ binary (attack vs
normal), side by side in one run:

  cv   `vigil cv --model gbdt --folds 5` against scikit-learn's
       cross_validate over Pipeline(OneHotEncoder, XGBClassifier(hist)),
       StratifiedKFold(5), roc_auc; 100 rounds, depth 6, learning rate 0.1;
  tpe  `vigil tune --search tpe` against Optuna's TPESampler (Optuna 3.1,
       Debian's python3-optuna), the same space (max_depth 3..10,
       learning_rate 0.01..0.3 log, subsample 0.5..1), the same trials, the
       same objective (3-fold stratified roc_auc of 100 boosted trees),
       seed 42 on both sides.

Peers run plainly: their default thread counts (no OMP_NUM_THREADS, no
n_jobs), as a user would run them. Times are wall clock of the whole
process (reading the data included), best of --repeat runs taken in turn
(vigil, peer, vigil, ...); the load average before each pair is in the
table. Prints the table and writes the section
"## Model selection: vigil cv and tune vs cross_validate and Optuna" of
bench/RESULTS.md.

usage: /usr/bin/python3 bench/tune_cv.py [--vigil build/vigil] [--repeat 3] [--trials 20] [--only cv|tpe]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from results import put_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECTION = "## Model selection: vigil cv and tune vs cross_validate and Optuna"
NSL = os.path.join(os.environ.get("VG_SHARED_DATA", "/work/shared/data"), "nsl-kdd")
TRAIN = os.path.join(NSL, "KDDTrain+.txt.gz")

PEER = r'''
import gzip, csv, json, sys, time
import numpy as np
t_start = time.perf_counter()
what, path, trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
num, cat, y = [], [], []
with gzip.open(path, "rt") as f:
    for row in csv.reader(f):
        cat.append(row[1:4]); num.append([float(v) for v in [row[0]] + row[4:41]])
        y.append(row[41] != "normal")
# The three text columns as codes (a fixed name -> number map, nothing
# learned); the one-hot encoder inside the pipeline is fitted per fold.
codes = [{} for _ in range(3)]
cat = [[codes[j].setdefault(v, len(codes[j])) for j, v in enumerate(r)] for r in cat]
X = np.hstack([np.array(cat, dtype=np.float32), np.array(num, dtype=np.float32)]); y = np.array(y, dtype=int)
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.model_selection import StratifiedKFold, cross_validate, cross_val_score
import xgboost as xgb
def pipe(**kw):
    enc = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0, 1, 2])], remainder="passthrough")
    return Pipeline([("enc", enc), ("xgb", xgb.XGBClassifier(tree_method="hist", random_state=42, **kw))])
if what == "cv":
    r = cross_validate(pipe(n_estimators=100, max_depth=6, learning_rate=0.1), X, y,
                       cv=StratifiedKFold(5, shuffle=True, random_state=42), scoring="roc_auc")
    out = {"roc_auc": float(np.mean(r["test_score"])), "std": float(np.std(r["test_score"]))}
else:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cv = StratifiedKFold(3, shuffle=True, random_state=42)
    def objective(trial):
        m = pipe(n_estimators=100, max_depth=trial.suggest_int("max_depth", 3, 10),
                 learning_rate=trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
                 subsample=trial.suggest_float("subsample", 0.5, 1.0))
        return float(np.mean(cross_val_score(m, X, y, cv=cv, scoring="roc_auc")))
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=42))
    study.optimize(objective, n_trials=trials)
    out = {"roc_auc": study.best_value, "best": study.best_params}
out["seconds"] = time.perf_counter() - t_start
print(json.dumps(out))
'''


def load():
    return os.getloadavg()[0]


TPE_TRAIN = TRAIN


def run_vigil(vigil, what, trials):
    with tempfile.TemporaryDirectory() as d:
        common = ["--data", TRAIN if what == "cv" else TPE_TRAIN, "--format", "kdd", "--task", "binary", "--model", "gbdt", "--seed", "42", "--json"]
        if what == "cv":
            cmd = [vigil, "cv"] + common + ["--folds", "5", "--param", "n_estimators=100", "--param", "max_depth=6",
                                            "--param", "learning_rate=0.1"]
        else:
            cmd = [vigil, "tune"] + common + ["--folds", "3", "--search", "tpe", "--trials", str(trials),
                                              "--param", "n_estimators=100", "--grid", "max_depth=3:10",
                                              "--grid", "learning_rate=0.01:0.3:log", "--grid", "subsample=0.5:1.0",
                                              "-o", os.path.join(d, "m.vgm")]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        secs = time.perf_counter() - t0
    r = json.loads(out)
    if what == "cv":
        auc = r["mean"]["roc_auc"] if isinstance(r.get("mean"), dict) else r["roc_auc"]
        return {"roc_auc": auc, "seconds": secs}
    s = r["search"]
    best = s["trials"][int(s["best"])]
    return {"roc_auc": best["mean"], "seconds": secs, "best": " ".join(best["params"])}


def run_peer(what, trials):
    t0 = time.perf_counter()
    out = subprocess.run(["/usr/bin/python3", "-c", PEER, what, TRAIN if what == "cv" else TPE_TRAIN, str(trials)],
                         check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    r["seconds"] = time.perf_counter() - t0
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--only", choices=["cv", "tpe"])
    ap.add_argument("--tpe-data", default="KDDTrain+",
                    help="the NSL-KDD file of the TPE comparison: KDDTrain+ or KDDTrain+_20Percent (25,192 rows)")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    global TPE_TRAIN
    TPE_TRAIN = os.path.join(NSL, args.tpe_data + ".txt.gz")
    rows = []
    for what in ["cv", "tpe"]:
        if args.only and what != args.only:
            continue
        v_runs, p_runs, loads = [], [], []
        for _ in range(args.repeat):
            loads.append(load())
            v_runs.append(run_vigil(args.vigil, what, args.trials))
            p_runs.append(run_peer(what, args.trials))
            print(what, v_runs[-1], p_runs[-1], file=sys.stderr)
        v = min(v_runs, key=lambda r: r["seconds"])
        p = min(p_runs, key=lambda r: r["seconds"])
        rows.append((what, v, p, loads))
    lines = [SECTION, "",
             "NSL-KDD binary: cv on KDDTrain+ (125,973 rows), TPE on %s; `bench/tune_cv.py --repeat %d --trials %d "
             "--tpe-data %s`; wall seconds of the whole process, best of %d, peers at their default threads."
             % (args.tpe_data, args.repeat, args.trials, args.tpe_data, args.repeat), "",
             "| what | vigil ROC-AUC | vigil s | peer | peer ROC-AUC | peer s | vigil / peer time | load avg |",
             "|---|---:|---:|---|---:|---:|---:|---|"]
    for what, v, p, loads in rows:
        peer = "cross_validate(XGBoost hist)" if what == "cv" else "Optuna 3.1 TPE (XGBoost hist)"
        name = "5-fold cv, gbdt 100 x depth 6" if what == "cv" else "TPE %d trials, 3-fold" % args.trials
        lines.append("| %s | %.5f | %.1f | %s | %.5f | %.1f | %.2f | %s |" % (
            name, v["roc_auc"], v["seconds"], peer, p["roc_auc"], p["seconds"], v["seconds"] / p["seconds"],
            ", ".join("%.1f" % x for x in loads)))
    for what, v, p, _ in rows:
        if what == "tpe":
            lines += ["", "Best settings: vigil `%s`; Optuna `%s`." % (v["best"], json.dumps(p["best"]))]
    lines += ["", "Goals (issue 14): cv at most 1/2 of cross_validate's time; TPE the same or a better best score "
              "at no more than Optuna's time."]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        put_section(text, args.results)


if __name__ == "__main__":
    main()
