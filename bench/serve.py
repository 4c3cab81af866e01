#!/usr/bin/python3
"""Benchmark of the detection server: `vigil serve` against the same job done
with FastAPI + uvicorn + XGBoost (bench/serve_fastapi.py), and against the
ceiling of this machine, a libmicrohttpd echo server built the way vigil's
daemon is (build/bench_echo, bench/bench_echo.c), all in the same run on
127.0.0.1, driven by wrk with bench/serve.lua POSTing one NSL-KDD record to
/v1/detect (the echo server answers with the record).

  /usr/bin/python3 bench/serve.py [--quick] [--results bench/RESULTS.md]

Models, trained here on NSL-KDD KDDTrain+ (binary: normal vs attack):
  vigil   - gbdt with n_estimators=200 max_depth=6 learning_rate=0.3 when
            `vigil train --help` lists gbdt, else a 200-tree forest (the
            report says which);
  FastAPI - XGBClassifier(tree_method='hist', n_estimators=200, max_depth=6),
            categorical fields one-hot encoded.
Runs: wrk -t1 at 1, 16 and 64 connections (30 s each), then --rounds runs at
64 connections alternating echo and vigil (the best of each counted for the
ratio), then 60 s at 64 connections sampling the server's RSS every second,
for each server in two layouts of the machine's CPUs (FastAPI with one
uvicorn worker and with one per CPU in the shared layout):
  shared - the server on every CPU (vigil and echo with their default
           threads, one per CPU; uvicorn --workers = CPUs) and wrk on the
           same CPUs;
  split  - the server pinned to CPU 0 (one thread / one worker) and wrk to
           CPU 1 (taskset), so the load generator does not take turns with
           the server on its cores.
Results (requests/s, p50/p99 latency, non-2xx and socket errors, memory) are
printed and written as the section "## Detection server: vigil vs FastAPI +
uvicorn" of the results file, replacing that section if present and keeping
the others.
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from results import put_section

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECTION = "## Detection server: vigil vs FastAPI + uvicorn"

KDD_FIELDS = [
    ("duration", 0), ("protocol_type", 1), ("service", 1), ("flag", 1), ("src_bytes", 0), ("dst_bytes", 0),
    ("land", 0), ("wrong_fragment", 0), ("urgent", 0), ("hot", 0), ("num_failed_logins", 0), ("logged_in", 0),
    ("num_compromised", 0), ("root_shell", 0), ("su_attempted", 0), ("num_root", 0), ("num_file_creations", 0),
    ("num_shells", 0), ("num_access_files", 0), ("num_outbound_cmds", 0), ("is_host_login", 0),
    ("is_guest_login", 0), ("count", 0), ("srv_count", 0), ("serror_rate", 0), ("srv_serror_rate", 0),
    ("rerror_rate", 0), ("srv_rerror_rate", 0), ("same_srv_rate", 0), ("diff_srv_rate", 0),
    ("srv_diff_host_rate", 0), ("dst_host_count", 0), ("dst_host_srv_count", 0), ("dst_host_same_srv_rate", 0),
    ("dst_host_diff_srv_rate", 0), ("dst_host_same_src_port_rate", 0), ("dst_host_srv_diff_host_rate", 0),
    ("dst_host_serror_rate", 0), ("dst_host_srv_serror_rate", 0), ("dst_host_rerror_rate", 0),
    ("dst_host_srv_rerror_rate", 0),
]


def log(msg):
    print(msg, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def read_kdd(path):
    """Rows of (record dict, binary label 0 normal / 1 attack)."""
    rows = []
    with gzip.open(path, "rt") as f:
        for line in f:
            v = line.strip().split(",")
            if len(v) < 42:
                continue
            rec = {}
            for (name, cat), x in zip(KDD_FIELDS, v):
                rec[name] = x if cat else (float(x) if "." in x else int(x))
            rows.append((rec, 0 if v[41] == "normal" else 1))
    return rows


def train_xgboost(train_path, test_path, out_dir, threads):
    import numpy as np
    import xgboost as xgb
    from sklearn.metrics import accuracy_score, roc_auc_score

    train, test = read_kdd(train_path), read_kdd(test_path)
    numeric = [n for n, c in KDD_FIELDS if not c]
    categorical = {}
    for n, c in KDD_FIELDS:
        if c:
            seen = []
            for rec, _ in train:
                if rec[n] not in seen:
                    seen.append(rec[n])
            categorical[n] = seen
    index = {(n, c): len(numeric) + k for k, (n, c) in
             enumerate((n, c) for n in categorical for c in categorical[n])}
    width = len(numeric) + sum(len(c) for c in categorical.values())

    def matrix(rows):
        X = np.zeros((len(rows), width), dtype=np.float32)
        for r, (rec, _) in enumerate(rows):
            for j, n in enumerate(numeric):
                X[r, j] = rec[n]
            for n in categorical:
                k = index.get((n, rec[n]))
                if k is not None:
                    X[r, k] = 1.0
        return X, np.array([y for _, y in rows])

    Xtr, ytr = matrix(train)
    Xte, yte = matrix(test)
    t0 = time.time()
    model = xgb.XGBClassifier(tree_method="hist", n_estimators=200, max_depth=6, n_jobs=threads)
    model.fit(Xtr, ytr)
    seconds = time.time() - t0
    p = model.predict_proba(Xte)[:, 1]
    model.save_model(os.path.join(out_dir, "model.json"))
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump({"numeric": numeric, "categorical": categorical, "classes": ["normal", "attack"]}, f)
    return {"accuracy": accuracy_score(yte, p >= 0.5), "roc_auc": roc_auc_score(yte, p), "train_seconds": seconds}


def rss_bytes(pid):
    """RSS of pid and its children (uvicorn workers), in bytes."""
    total = 0
    pids = [pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def post(port, body, path="/v1/detect"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def wait_ready(port, proc, deadline=60):
    t0 = time.time()
    while time.time() - t0 < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def wrk(port, conns, seconds, body_file, sample_pid=None, pin=()):
    cmd = list(pin) + ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", os.path.join(HERE, "serve.lua"),
           f"http://127.0.0.1:{port}"]
    env = dict(os.environ, VG_BENCH_BODY=body_file)
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.wait(1.0):
            samples.append(rss_bytes(sample_pid))

    th = None
    if sample_pid:
        samples.append(rss_bytes(sample_pid))
        th = threading.Thread(target=sampler)
        th.start()
    load0 = loadavg()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60).stdout
    if th:
        stop.set()
        th.join()
    m = re.search(r"^VGBENCH (.*)$", out, re.M)
    if not m:
        raise RuntimeError(f"wrk output without a VGBENCH line:\n{out}")
    res = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    res["socket_errors"] = sum(res[k] for k in ("connect_err", "read_err", "write_err", "timeout_err"))
    res["conns"] = conns
    res["seconds"] = seconds
    res["load_before"] = load0
    res["load_after"] = loadavg()
    res["command"] = " ".join(cmd[len(pin):-1]) + " http://127.0.0.1:PORT"
    if sample_pid:
        res["rss"] = samples
    return res


def run_server_suite(name, port, pid, body_file, conns_list, seconds, soak, pin=()):
    log(f"[{name}] warm-up 3 s")
    wrk(port, 16, 3, body_file, pin=pin)
    runs = []
    for c in conns_list:
        r = wrk(port, c, seconds, body_file, pin=pin)
        log(f"[{name}] {c:3d} conns: {r['rps']:10.1f} req/s  p50 {r['p50_us'] / 1e3:.3f} ms  "
            f"p99 {r['p99_us'] / 1e3:.3f} ms  non-2xx {int(r['non2xx'])}  socket errors {int(r['socket_errors'])}  "
            f"(load {r['load_before']:.2f} -> {r['load_after']:.2f})")
        runs.append(r)
    return {"runs": runs, "soak": soak_run(name, port, pid, body_file, soak, pin) if soak else None}


def soak_run(name, port, pid, body_file, soak, pin=()):
    s = wrk(port, 64, soak, body_file, sample_pid=pid, pin=pin)
    rss = s["rss"]
    log(f"[{name}] soak {soak} s at 64 conns: {s['rps']:.1f} req/s, p99 {s['p99_us'] / 1e3:.3f} ms, "
        f"RSS first {rss[0] / 2**20:.1f} MiB last {rss[-1] / 2**20:.1f} MiB max {max(rss) / 2**20:.1f} MiB")
    return s


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fmt_ms(us):
    return f"{us / 1e3:.3f}"


def layouts_for(args):
    """The CPU layouts to measure (see the module comment). vigil and the echo
    server get --threads only when it is given: otherwise both take their
    default (vg_server_threads_default: one per CPU they may run on, so one
    under taskset -c 0); uvicorn gets one worker per CPU."""
    cpus = os.cpu_count() or 1
    n = f"{args.threads} threads" if args.threads else "default threads: 1 per CPU"
    lays = [{"name": "shared", "server_pin": [], "wrk_pin": [], "workers": args.threads or cpus,
             "threads_flag": bool(args.threads), "threads": args.threads,
             "what": f"server on all {cpus} CPUs ({n}; uvicorn {args.threads or cpus} workers), wrk on the same CPUs"}]
    if cpus >= 2 and shutil.which("taskset") and args.layout in ("all", "split"):
        lays.append({"name": "split", "server_pin": ["taskset", "-c", "0"], "wrk_pin": ["taskset", "-c", "1"],
                     "workers": 1, "threads_flag": False,
                     "what": "server pinned to CPU 0 (default threads: 2 / 1 uvicorn worker), wrk pinned to CPU 1"})
    if args.layout == "split":
        lays = lays[1:]
    return lays


def server_threads(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vigil", default=os.path.join(ROOT, "build", "vigil"))
    ap.add_argument("--echo", default=os.path.join(ROOT, "build", "bench_echo"))
    ap.add_argument("--rounds", type=int, default=3, help="alternating echo/vigil runs at 64 connections (default 3)")
    ap.add_argument("--train", default=os.path.join(ROOT, "data", "nsl-kdd", "KDDTrain+.txt.gz"))
    ap.add_argument("--test", default=os.path.join(ROOT, "data", "nsl-kdd", "KDDTest+.txt.gz"))
    ap.add_argument("--seconds", type=int, default=30, help="each wrk run (default 30)")
    ap.add_argument("--soak", type=int, default=60, help="the memory run at 64 connections (default 60)")
    ap.add_argument("--threads", type=int, default=0,
                    help="vigil and echo threads and uvicorn workers in the shared layout (default: vigil's and "
                         "echo's own default, one per CPU, and one uvicorn worker per CPU)")
    ap.add_argument("--layout", choices=("all", "shared", "split"), default="all",
                    help="which CPU layouts to measure (default all)")
    ap.add_argument("--quick", action="store_true", help="5 s runs and a 10 s soak, for a smoke test")
    ap.add_argument("--skip-fastapi", action="store_true")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-write", action="store_true", help="print only; do not touch the results file")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="LOAD",
                    help="first wait (at most 30 min) until the 1-minute load average is below LOAD: the machine "
                         "may be shared, and other work skews every figure")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.soak, args.rounds = 5, 10, 2
    for tool in ("wrk",):
        if not shutil.which(tool):
            sys.exit(f"serve.py: {tool} is needed (scripts/setup.sh --bench)")
    conns = [1, 16, 64]
    if args.wait_quiet:
        t0 = time.time()
        while loadavg() >= args.wait_quiet and time.time() - t0 < 1800:
            time.sleep(10)
        log(f"load average {loadavg():.2f} after waiting {time.time() - t0:.0f} s")
    work = tempfile.mkdtemp(prefix="vigil-bench-serve.")
    procs = []
    try:
        # A private copy: a rebuild of build/ during the run must not change
        # (or break) the binary under test.
        shutil.copy2(args.vigil, os.path.join(work, "vigil"))
        args.vigil = os.path.join(work, "vigil")
        # The record every request sends: the first KDDTest+ line.
        rec = read_kdd(args.test)[0][0]
        body_file = os.path.join(work, "record.json")
        with open(body_file, "w") as f:
            json.dump(rec, f)
        body = open(body_file, "rb").read()

        helptext = subprocess.run([args.vigil, "train", "--help"], capture_output=True, text=True).stdout
        family = "gbdt" if re.search(r"^\s+gbdt\s", helptext, re.M) else "forest"
        params = ["n_estimators=200", "max_depth=6"] + (["learning_rate=0.3"] if family == "gbdt" else [])
        model = os.path.join(work, "model.vgm")
        train_cmd = [args.vigil, "train", "--data", args.train, "--test", args.test, "--format", "kdd",
                     "--model", family, "--json", "-o", model]
        for p in params:
            train_cmd += ["--param", p]
        log(f"training vigil {family}: {' '.join(train_cmd)}")
        t0 = time.time()
        tj = json.loads(subprocess.run(train_cmd, capture_output=True, text=True, check=True).stdout)
        vigil_train = {"accuracy": tj["accuracy"], "roc_auc": tj["roc_auc"], "train_seconds": time.time() - t0}
        log(f"  accuracy {vigil_train['accuracy']:.4f}, ROC-AUC {vigil_train['roc_auc']:.4f}")

        layouts = layouts_for(args)
        results = {}
        best64 = {}
        vcmds = {}
        echo_bin = os.path.join(work, "bench_echo")
        shutil.copy2(args.echo, echo_bin)
        for lay in layouts:
            vport, eport = free_port(), free_port()
            vcmd = [args.vigil, "serve", "--model", f"{family}={model}", "--listen", f"127.0.0.1:{vport}"]
            ecmd = [echo_bin, str(eport)]
            if lay["threads_flag"]:
                vcmd += ["--threads", str(lay["threads"])]
                ecmd += [str(lay["threads"])]
            vcmds[lay["name"]] = lay["server_pin"] + vcmd
            log(f"[{lay['name']}] starting: {' '.join(lay['server_pin'] + ecmd)}")
            ep = subprocess.Popen(lay["server_pin"] + ecmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(ep)
            wait_ready(eport, ep)
            log(f"[{lay['name']}] starting: {' '.join(lay['server_pin'] + vcmd)}")
            vp = subprocess.Popen(lay["server_pin"] + vcmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append(vp)
            log("  " + vp.stdout.readline().strip())
            wait_ready(vport, vp)
            log(f"  threads: {server_threads(vp.pid) - 1} serving (plus the main thread)")
            st, reply = post(vport, body)
            log(f"  reply: {json.dumps(reply)}")
            servers = [("echo", eport, ep), ("vigil", vport, vp)]
            for name, port, proc in servers:
                results[(name, lay["name"])] = run_server_suite(f"{name} {lay['name']}", port, proc.pid, body_file,
                                                                conns, args.seconds, 0, lay["wrk_pin"])
            # The figure the target is about: alternate the two, best of each.
            for r in range(args.rounds):
                for name, port, proc in servers:
                    res = wrk(port, 64, args.seconds, body_file, pin=lay["wrk_pin"])
                    log(f"[{name} {lay['name']}] round {r + 1} at 64 conns: {res['rps']:10.1f} req/s  "
                        f"p99 {res['p99_us'] / 1e3:.3f} ms  errors {int(res['non2xx'] + res['socket_errors'])}")
                    key = (name, lay["name"])
                    if key not in best64 or res["rps"] > best64[key]["rps"]:
                        best64[key] = res
            for name, port, proc in servers:
                results[(name, lay["name"])]["soak"] = soak_run(f"{name} {lay['name']}", port, proc.pid, body_file,
                                                                args.soak, lay["wrk_pin"])
            stop(vp)
            stop(ep)

        xgb_train = None
        if not args.skip_fastapi:
            xdir = os.path.join(work, "xgb")
            os.makedirs(xdir)
            log("training XGBoost (hist, 200 trees, depth 6) for the FastAPI service")
            xgb_train = train_xgboost(args.train, args.test, xdir, args.threads or os.cpu_count())
            log(f"  accuracy {xgb_train['accuracy']:.4f}, ROC-AUC {xgb_train['roc_auc']:.4f}")
            for lay, workers in ((l, w) for l in layouts for w in sorted({1, l["workers"]})):
                fport = free_port()
                fcmd = ["/usr/bin/python3", "-m", "uvicorn", "serve_fastapi:app", "--app-dir", HERE, "--host",
                        "127.0.0.1", "--port", str(fport), "--workers", str(workers), "--log-level",
                        "warning", "--no-access-log"]
                log(f"[{lay['name']}] starting: VG_XGB_DIR=... {' '.join(lay['server_pin'] + fcmd)}")
                fp = subprocess.Popen(lay["server_pin"] + fcmd, env=dict(os.environ, VG_XGB_DIR=xdir),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                procs.append(fp)
                wait_ready(fport, fp)
                st, reply = post(fport, body)
                log(f"  reply: {json.dumps(reply)}")
                fname = f"fastapi {workers}w"
                results[(fname, lay["name"])] = run_server_suite(f"{fname} {lay['name']}", fport, fp.pid,
                                                                 body_file, conns, args.seconds, args.soak,
                                                                 lay["wrk_pin"])
                stop(fp)

        text = report(args, family, params, vigil_train, xgb_train, results, best64, layouts)
        print()
        print(text)
        if not args.no_write:
            put_section(text, args.results)
            log(f"wrote the section to {args.results}")
    finally:
        for p in procs:
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


def report(args, family, params, vigil_train, xgb_train, results, best64, layouts):
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cmd = " ".join(["/usr/bin/python3", "bench/serve.py"] + (["--quick"] if args.quick else []))
    lines = [SECTION, ""]
    lines.append(f"Measured {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores "
                 f"({cpu}, Linux {platform.release()}), everything on 127.0.0.1. `{cmd}` reproduces it. "
                 "Two layouts of the CPUs:")
    lines.append("")
    for lay in layouts:
        lines.append(f"- **{lay['name']}**: {lay['what']}.")
    lines.append("")
    lines.append("- echo: `[taskset -c 0] build/bench_echo PORT [N]` (bench/bench_echo.c): libmicrohttpd with vigil's "
                 "daemon flags (epoll, internal pool of N threads (default: vigil's, 1 per CPU) with vigil's short "
                 "scheduler slice, ITC, the same limits), one context per request, "
                 "the body gathered and sent back with a Content-Type header: the ceiling for any server on this "
                 "libmicrohttpd here.")
    lines.append(f"- vigil: `[taskset -c 0] build/vigil serve --model {family}=MODEL.vgm --listen 127.0.0.1:PORT "
                 f"[--threads N]` serving a **{family}** model ({', '.join(params)}) trained on KDDTrain+ (KDDTest+ "
                 f"accuracy {vigil_train['accuracy']:.4f}, ROC-AUC {vigil_train['roc_auc']:.4f}); in the split "
                 "layout without --threads: the default is one thread per CPU the process may use, which is one.")
    if xgb_train:
        lines.append("- FastAPI: `[taskset -c 0] python3 -m uvicorn serve_fastapi:app --app-dir bench --workers N "
                     "--no-access-log` (bench/serve_fastapi.py; `fastapi Nw` = N workers), "
                     "XGBClassifier(tree_method='hist', n_estimators=200, "
                     f"max_depth=6) with one-hot categories encoded with numpy, same data (KDDTest+ accuracy "
                     f"{xgb_train['accuracy']:.4f}, ROC-AUC {xgb_train['roc_auc']:.4f}); per request: JSON record -> "
                     "row -> predict_proba (n_jobs=1 at serving).")
    lines.append(f"- Load: `[taskset -c 1] wrk -t1 -cN -d{args.seconds}s --latency -s bench/serve.lua "
                 f"http://127.0.0.1:PORT` (VG_BENCH_BODY=record.json) for N = 1, 16, 64 (a 3 s warm-up first), "
                 f"POSTing the first KDDTest+ record ({len(json.dumps(read_kdd(args.test)[0][0]))} bytes of JSON) to "
                 f"/v1/detect; then {args.rounds} runs at 64 connections alternating echo and vigil (best of each: "
                 f"the `64 best` rows); then {args.soak} s at 64 connections sampling the server's RSS (all its "
                 "processes) every second (the `soak` rows, with RSS at its start and end).")
    lines.append("")
    lines.append("| server | layout | connections | requests/s | p50 ms | p99 ms | non-2xx | socket errors | "
                 "RSS start -> end MiB | load avg before -> after |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|---|")

    def row(name, lay, tag, r):
        rss = f"{r['rss'][0] / 2**20:.1f} -> {r['rss'][-1] / 2**20:.1f}" if r.get("rss") else ""
        return (f"| {name} | {lay} | {tag} | {r['rps']:,.0f} | {fmt_ms(r['p50_us'])} | {fmt_ms(r['p99_us'])} | "
                f"{int(r['non2xx'])} | {int(r['socket_errors'])} | {rss} | {r['load_before']:.2f} -> "
                f"{r['load_after']:.2f} |")
    for (name, lay), res in results.items():
        for r in res["runs"]:
            lines.append(row(name, lay, str(r["conns"]), r))
        if (name, lay) in best64:
            lines.append(row(name, lay, f"64 best of {args.rounds}", best64[(name, lay)]))
        if res["soak"]:
            lines.append(row(name, lay, f"64 ({res['soak']['seconds']} s soak)", res["soak"]))
    lines.append("")
    checks = []
    for lay in (l["name"] for l in layouts):
        v = results[("vigil", lay)]
        v64, e64 = best64[("vigil", lay)], best64[("echo", lay)]
        share = v64["rps"] / e64["rps"] if e64["rps"] else 0
        checks.append(f"{lay}: vigil/echo requests/s at 64 connections (best of {args.rounds}, alternating): "
                      f"**{100 * share:.0f}%** (target >= 80%: {'met' if share >= 0.8 else 'NOT met'})")
        for (name, l2), res in results.items():
            if l2 == lay and name.startswith("fastapi"):
                f64 = res["runs"][-1]
                ratio = v64["rps"] / f64["rps"] if f64["rps"] else float("inf")
                checks.append(f"{lay}: vigil/{name} requests/s at 64 connections: **{ratio:.1f}x**")
        p99s = [v64["p99_us"], v["runs"][-1]["p99_us"], v["soak"]["p99_us"]]
        checks.append(f"{lay}: vigil p99 at 64 connections: **{fmt_ms(v64['p99_us'])} ms** (best run), "
                      f"{fmt_ms(v['runs'][-1]['p99_us'])} ms (first run), {fmt_ms(v['soak']['p99_us'])} ms (soak) "
                      f"(target < 2 ms: {'met' if max(p99s) < 2000 else 'NOT met'})")
        errs = sum(int(r["non2xx"] + r["socket_errors"]) for r in v["runs"] + [v["soak"], v64])
        checks.append(f"{lay}: vigil errors over all runs: **{errs}** (target 0: {'met' if errs == 0 else 'NOT met'})")
        rss = v["soak"]["rss"]
        growth = (rss[-1] - rss[len(rss) // 4]) / 2**20
        checks.append(f"{lay}: vigil RSS over the soak: {rss[0] / 2**20:.1f} -> {rss[-1] / 2**20:.1f} MiB (max "
                      f"{max(rss) / 2**20:.1f}); growth after the first quarter {growth:+.1f} MiB (target flat: "
                      f"{'met' if abs(growth) < 2 else 'NOT met'})")
    for c in checks:
        lines.append(f"- {c}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
