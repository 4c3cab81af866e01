#!/usr/bin/python3
"""What the sequence models find that the per-event models miss, on vigil's
synthetic logs with truth: a login log (`vigil synth --format login`, whose
session_hijack attack looks like a traveller's login event by event and
shows only in the user's sequence) and a web access log (`--format weblog`).

Each model is trained by `vigil train` on the seed-1 log and scores the
seed-2 log with `vigil predict`: gbdt and mlp see one event (with the log
format's per-entity features: counts, rates, first-seen flags), lstm and gru
the window of the entity's last --window events. For every attack kind: the
share of its events scored above the threshold at which 1% of the normal
events are (recall at 1% FPR) and its ROC-AUC against the normal events.

Writes the section "## Sequence models on logs: what per-event models miss"
of bench/RESULTS.md and the figure bench/seq_logs.svg.
usage: /usr/bin/python3 bench/seq_logs.py [--train N] [--test N] [--window T] [--epochs E] [--build DIR]
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results import put_section  # noqa: E402

MODELS = ["gbdt", "mlp", "lstm", "gru"]
COLORS = {"gbdt": "#8c8c8c", "mlp": "#c4a35a", "lstm": "#3a6ea5", "gru": "#4f9d69"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout


def per_kind(pred_csv, truth_path):
    truth = {}
    for line in open(truth_path):
        n, k = line.strip().split(",", 1)
        truth[int(n)] = k
    rows = list(csv.DictReader(open(pred_csv)))
    scored = [(float(r["score"]), int(r["line"])) for r in rows]
    neg = sorted((s for s, l in scored if l not in truth), reverse=True)
    thr = neg[int(0.01 * len(neg))]
    out = {}
    for k in sorted(set(truth.values())):
        pos = [s for s, l in scored if truth.get(l) == k]
        if not pos:
            continue
        out[k] = (sum(s > thr for s in pos) / len(pos), roc_auc_score([0] * len(neg) + [1] * len(pos), neg + pos),
                  len(pos))
    return out


def svg(results, path):
    """Grouped bars: recall at 1% FPR per attack kind, one bar per model."""
    groups = [(fmt, k) for fmt in results for k in next(iter(results[fmt].values()))]
    bw, gap, left, top, h = 14, 18, 60, 30, 220
    width = left + len(groups) * (len(MODELS) * bw + gap) + 20
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
             'font-size="11">' % (width, top + h + 110)]
    parts.append('<text x="%d" y="18" font-size="13">Recall at 1%% false-positive rate per attack kind '
                 '(vigil synthetic logs, held-out seed)</text>' % left)
    for q in range(0, 11, 2):
        y = top + h - h * q / 10
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 20, y, y))
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>' % (left - 6, y + 4, q / 10))
    x = left + gap / 2
    for fmt, k in groups:
        for m in MODELS:
            r = results[fmt][m][k][0]
            parts.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s %s: %.3f'
                         '</title></rect>' % (x, top + h - h * r, bw - 2, h * r, COLORS[m], fmt, k, m, r))
            x += bw
        cx = x - len(MODELS) * bw / 2
        parts.append('<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-35 %.1f %d)">%s: %s</text>' %
                     (cx, top + h + 14, cx, top + h + 14, fmt, k.replace("_", " ")))
        x += gap
    for i, m in enumerate(MODELS):
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' %
                     (left + i * 80, top + h + 90, COLORS[m], left + i * 80 + 14, top + h + 99, m))
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=40000)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--formats", default="login,weblog")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    vigil = os.path.join(a.build, "vigil")
    tmp = tempfile.mkdtemp(prefix="vigil-seqlogs-")
    load = os.getloadavg()[0]
    results, secs = {}, {}
    for fmt in a.formats.split(","):
        paths = {}
        for part, seed, n in (("train", 1, a.train), ("test", 2, a.test)):
            log, truth = os.path.join(tmp, f"{fmt}-{part}.log"), os.path.join(tmp, f"{fmt}-{part}.truth")
            run([vigil, "synth", "--format", fmt, "--events", str(n), "--seed", str(seed), "--truth", truth,
                 "-o", log])
            lines = os.path.join(tmp, f"{fmt}-{part}.lines")
            with open(lines, "w") as f:
                f.writelines(l.split(",")[0] + "\n" for l in open(truth))
            paths[part] = (log, truth, lines)
        results[fmt] = {}
        for m in MODELS:
            model = os.path.join(tmp, f"{fmt}-{m}.vgm")
            cmd = [vigil, "train", "--data", paths["train"][0], "--format", fmt, "--model", m, "-o", model]
            if fmt == "weblog":
                cmd += ["--labels", paths["train"][2]]
            if m in ("lstm", "gru"):
                cmd += ["--param", f"window={a.window}", "--param", f"max_iter={a.epochs}"]
            t0 = time.perf_counter()
            run(cmd)
            secs[(fmt, m)] = time.perf_counter() - t0
            pred = os.path.join(tmp, f"{fmt}-{m}.csv")
            run([vigil, "predict", "--model", model, "--data", paths["test"][0], "-o", pred])
            results[fmt][m] = per_kind(pred, paths["test"][1])
    load_end = os.getloadavg()[0]
    svg(results, os.path.join(HERE, "seq_logs.svg"))

    lines = ["## Sequence models on logs: what per-event models miss", "",
             f"`vigil synth` logs with truth: {a.train} events (seed 1) to train, {a.test} (seed 2) to test. gbdt "
             f"and mlp score each event alone (with the format's per-entity counts, rates and first-seen flags); "
             f"lstm and gru its entity's last {a.window} events (early stopping, at most {a.epochs} epochs). "
             f"Per attack kind: recall at the threshold where 1% of the normal test events alert / ROC-AUC against "
             f"the normal events (n = attack events). Load average {load:.2f} at the start, {load_end:.2f} at the "
             f"end. Figure: bench/seq_logs.svg.", "",
             "| log | attack kind | n | " + " | ".join(MODELS) + " |",
             "|---|---|---|" + "---|" * len(MODELS)]
    for fmt in results:
        for k, (_, _, n) in results[fmt][MODELS[0]].items():
            cells = ["%.3f / %.4f" % results[fmt][m][k][:2] for m in MODELS]
            lines.append(f"| {fmt} | {k} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "Training time (s): " + ", ".join(f"{f} {m} {s:.1f}" for (f, m), s in secs.items()), "",
              "session_hijack (src/features/synth_login.c) is the attack only a user's sequence shows: each "
              "foreign login looks like a traveller's, and only the login from home minutes before it gives it "
              "away. The web log generator has no such attack: there every model finds every kind."]
    text = "\n".join(lines) + "\n"
    print(text)
    put_section(text)


if __name__ == "__main__":
    main()
