#!/usr/bin/python3
"""vigil's lstm and gru against the same networks in PyTorch, on the same
event windows.

Data: a synthetic login log (`vigil synth --format login`, --events rows,
seed 1). build/bench_seq builds the windows the way `vigil train --model
lstm` does (the pipeline fitted on the log; each event with its user's last
T events, oldest first, zero padding in front, the count of real events in
column 0), writes them for this script and trains vigil's network on them
through the estimator vtable. PyTorch gets the same float32 rows: each row
right-aligned into a packed sequence of its real events
(pack_padded_sequence), torch.nn.LSTM / GRU(F, 64), the last hidden state
into Linear(64, 1), BCEWithLogits, Adam lr 1e-3, batch 200, shuffled every
epoch, no early stopping, --epochs epochs; its per-epoch mean training loss
next to vigil's.

Each peer runs plainly (its default threads), best of --repeat runs,
alternating; time per epoch = fit time / epochs. Writes the section
"## lstm and gru: the same windows as PyTorch" of bench/RESULTS.md.
usage: /usr/bin/python3 bench/seq.py [--events N] [--window T] [--epochs E] [--repeat N] [--build DIR]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results import put_section  # noqa: E402


class Net(torch.nn.Module):
    def __init__(self, cell, F, H):
        super().__init__()
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(F, H, batch_first=True)
        self.head = torch.nn.Linear(H, 1)

    def forward(self, packed):
        _, h = self.rnn(packed)
        if isinstance(h, tuple):
            h = h[0]
        return self.head(h[-1]).squeeze(1)


def torch_fit(cell, seq, lens, y, epochs, H=64, batch=200, seed=1):
    torch.manual_seed(seed)
    net = Net(cell, seq.shape[2], H)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    n = seq.shape[0]
    curve = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        total = 0.0
        for b in range(0, n, batch):
            idx = perm[b:b + batch]
            packed = torch.nn.utils.rnn.pack_padded_sequence(seq[idx], lens[idx], batch_first=True,
                                                             enforce_sorted=False)
            opt.zero_grad()
            loss = loss_fn(net(packed), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        curve.append(total / n)
    return time.perf_counter() - t0, curve


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=40000)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    vigil, driver = os.path.join(a.build, "vigil"), os.path.join(a.build, "bench_seq")
    tmp = tempfile.mkdtemp(prefix="vigil-seq-")
    log = os.path.join(tmp, "login.csv")
    subprocess.run([vigil, "synth", "--format", "login", "--events", str(a.events), "--seed", "1", "-o", log],
                   check=True, capture_output=True)
    load = os.getloadavg()[0]
    rows = []
    for cell in ("lstm", "gru"):
        prefix = os.path.join(tmp, cell)
        best_v = best_t = None
        v_curve = t_curve = None
        for r in range(a.repeat):
            out = subprocess.run([driver, cell, log, str(a.window), str(a.epochs), prefix],
                                 check=True, capture_output=True, text=True).stdout.split()
            secs, n = float(out[0]), int(out[1])
            if best_v is None or secs < best_v:
                best_v, v_curve = secs, [float(x) for x in out[2:2 + n]]
            if r == 0:
                N, W, T, F = map(int, open(prefix + ".shape").read().split())
                X = np.fromfile(prefix + "_X.f32", dtype=np.float32).reshape(N, W)
                y = torch.tensor(np.fromfile(prefix + "_y.i32", dtype=np.int32).astype(np.float32))
                lens = X[:, 0].astype(np.int64)
                ev = X[:, 1:].reshape(N, T, F)
                right = np.zeros_like(ev)  # each row's real events first, for pack_padded_sequence
                for L in range(1, T + 1):
                    m = lens == L
                    right[m, :L] = ev[m, T - L:]
                seq, lens_t = torch.tensor(right), torch.tensor(lens)
            secs_t, curve = torch_fit(cell, seq, lens_t, y, a.epochs)
            if best_t is None or secs_t < best_t:
                best_t, t_curve = secs_t, curve
        rows.append((cell, N, T, F, best_v / a.epochs, best_t / a.epochs, v_curve, t_curve))
    load_end = os.getloadavg()[0]

    lines = ["## lstm and gru: the same windows as PyTorch", "",
             f"Synthetic login log, {a.events} events (`vigil synth --format login --seed 1`); each event with its "
             f"user's last {a.window} events (bench/bench_seq.c builds the windows as `vigil train` does); one "
             f"recurrent layer of 64, a sigmoid output, Adam lr 1e-3, batch 200, {a.epochs} epochs, no early "
             f"stopping; PyTorch {torch.__version__} ({torch.get_num_threads()} threads) runs the same network on "
             f"the same float32 rows as packed sequences. Best of {a.repeat}, alternating; load average "
             f"{load:.2f} at the start, {load_end:.2f} at the end.", "",
             "| cell | rows | T x F | vigil s/epoch | PyTorch s/epoch | vigil / PyTorch | vigil loss per epoch | "
             "PyTorch loss per epoch |",
             "|---|---|---|---|---|---|---|---|"]
    for cell, N, T, F, v, t, vc, tc in rows:
        lines.append(f"| {cell} | {N} | {T} x {F} | {v:.3f} | {t:.3f} | {v / t:.2f} | "
                     f"{' '.join('%.4f' % x for x in vc)} | {' '.join('%.4f' % x for x in tc)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    put_section(text)


if __name__ == "__main__":
    main()
