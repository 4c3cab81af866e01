#!/usr/bin/python3
"""A/B runs for the detection server's tail: several servers started once,
then wrk at 64 connections on each in turn, round after round, so every
server sees the same mix of machine load; prints each run and, per server,
the median (and range) of requests/s, p50 and p99 over the rounds.

  /usr/bin/python3 bench/serve_ab.py [--rounds 6] [--seconds 5] [--conns 64] \
      'echo=build/bench_echo {port}' \
      'vigil=build/vigil serve --model M.vgm --listen 127.0.0.1:{port}' \
      'vigil-noslice=VG_SERVE_SLICE_US=0 build/vigil serve --model M.vgm --listen 127.0.0.1:{port}'

Each argument is NAME=COMMAND: COMMAND may start with VAR=VALUE words (its
environment) and has {port} replaced by a free port. A vigil server's
in-process figures (GET /v1/stats: latency from the request's first callback
to its completion, p50/p99 over the last minute) are printed beside wrk's
when it has them, and for every server its CPU and run-queue wait per
request and its involuntary switches (/proc/PID/task/*/schedstat and status
around the run: threads that end during a run are missed). The request body
is the first KDDTest+ record, as in bench/serve.py, whose wrk() runs the load.

On a machine busy with other sessions, the A/Bs in bench/RESULTS.md ran in a
session of their own with a higher autogroup priority (as root), so that the
others take a small share of the CPUs:
  setsid bash -c 'echo -20 > /proc/self/autogroup; exec /usr/bin/python3 bench/serve_ab.py ...'
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import urllib.request

import serve

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def start(spec):
    name, cmd = spec.split("=", 1)
    words = shlex.split(cmd)
    env = dict(os.environ)
    while words and "=" in words[0] and not words[0].startswith("/"):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    port = serve.free_port()
    words = [w.replace("{port}", str(port)) for w in words]
    proc = subprocess.Popen(words, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve.wait_ready(port, proc)
    return {"name": name, "port": port, "proc": proc, "cmd": cmd, "runs": []}


def sched(pid):
    """Sums over the process's threads: CPU ns, run-queue wait ns (from
    /proc/PID/task/TID/schedstat), involuntary switches and minor faults."""
    run = wait = nvcs = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a = f.read().split()
            run += int(a[0])
            wait += int(a[1])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("nonvoluntary_ctxt_switches:"):
                        nvcs += int(line.split()[1])
        with open(f"/proc/{pid}/stat") as f:
            minflt = int(f.read().rsplit(")", 1)[1].split()[7])
    except (OSError, IndexError, ValueError):
        return None
    return run, wait, nvcs, minflt


def server_stats(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stats", timeout=5) as r:
            s = json.loads(r.read())
        lat = s["last_minute"]["latency_ms"]
        return lat["p50"], lat["p99"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="+", metavar="NAME=COMMAND")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--test", default=os.path.join(ROOT, "data", "nsl-kdd", "KDDTest+.txt.gz"))
    ap.add_argument("--body", help="request body file (default: the first KDDTest+ record)")
    ap.add_argument("--wrk-cpus", help="run wrk under taskset -c CPUS (e.g. 1, with servers started as "
                                       "'NAME=taskset -c 0 ...': the split layout of bench/serve.py)")
    args = ap.parse_args()
    body = args.body
    if not body:
        body = "/tmp/vigil-serve-ab-record.json"
        with open(body, "w") as f:
            json.dump(serve.read_kdd(args.test)[0][0], f)
    pin = ["taskset", "-c", args.wrk_cpus] if args.wrk_cpus else []
    servers = []
    try:
        for spec in args.servers:
            servers.append(start(spec))
        for s in servers:
            serve.wrk(s["port"], 16, 2, body, pin=pin)  # warm-up
        for r in range(args.rounds):
            # Alternate the order too, so no server always follows the same one.
            order = servers if r % 2 == 0 else servers[::-1]
            for s in order:
                before = sched(s["proc"].pid)
                res = serve.wrk(s["port"], args.conns, args.seconds, body, pin=pin)
                after = sched(s["proc"].pid)
                p50s, p99s = server_stats(s["port"])
                n = max(res["requests"], 1)
                if before and after:
                    d = [b - a for a, b in zip(before, after)]
                    res["cpu_us"], res["wait_us"] = d[0] / 1e3 / n, d[1] / 1e3 / n
                    inside_sched = (f"  cpu {res['cpu_us']:.1f} us/req  run-queue wait {res['wait_us']:.1f} us/req  "
                                    f"preempted {d[2]}  faults {d[3]}")
                else:
                    inside_sched = ""
                s["runs"].append(res)
                inside = f"  in-server p50 {p50s} p99 {p99s} ms" if p99s is not None else ""
                print(f"round {r + 1} {s['name']:>16}: {res['rps']:9.0f} req/s  p50 {res['p50_us'] / 1e3:6.3f}  "
                      f"p99 {res['p99_us'] / 1e3:6.3f} ms  errors {int(res['non2xx'] + res['socket_errors'])}  "
                      f"load {res['load_before']:.2f}{inside_sched}{inside}", flush=True)
        print()
        print("| server | req/s median (range) | p50 ms median | p99 ms median (range) | CPU us/req | "
              "run-queue wait us/req | errors | rounds |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for s in servers:
            rps = [x["rps"] for x in s["runs"]]
            p50 = [x["p50_us"] / 1e3 for x in s["runs"]]
            p99 = [x["p99_us"] / 1e3 for x in s["runs"]]
            err = sum(int(x["non2xx"] + x["socket_errors"]) for x in s["runs"])
            cpu = statistics.median(x.get("cpu_us", 0) for x in s["runs"])
            wait = statistics.median(x.get("wait_us", 0) for x in s["runs"])
            print(f"| {s['name']} | {statistics.median(rps):,.0f} ({min(rps):,.0f}-{max(rps):,.0f}) | "
                  f"{statistics.median(p50):.3f} | {statistics.median(p99):.3f} ({min(p99):.3f}-{max(p99):.3f}) | "
                  f"{cpu:.1f} | {wait:.1f} | {err} | {len(rps)} |")
    finally:
        for s in servers:
            s["proc"].terminate()
            try:
                s["proc"].wait(timeout=10)
            except subprocess.TimeoutExpired:
                s["proc"].kill()


if __name__ == "__main__":
    sys.exit(main())
