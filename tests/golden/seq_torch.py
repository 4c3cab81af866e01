#!/usr/bin/python3
"""Forward passes of one-layer LSTM and GRU classifiers in PyTorch (Debian's
python3-torch), for tests/test_seq.c: the same weights and windows must give
the same outputs in vigil's recurrent layer (src/models/seq.c). Run once;
writes tests/golden/seq_torch.txt.

A window row is vigil's [len, x_1 .. x_T] (oldest first, the first T - len
events zero padding); PyTorch runs each row on its len real events only and
the head (Linear + sigmoid or softmax) reads the last hidden state.

Format, one case per block:
  case CELL T F H K
  params V...   (vigil's block: Wx (F, G) row-major, bx, Wh (H, G), bh, head W (H, K), head b)
  x ROWS V...   (rows x (1 + T F))
  y V...        (rows x K)
"""
import numpy as np
import torch

torch.manual_seed(5)
rng = np.random.default_rng(13)
CASES = [("lstm", 4, 3, 5, 1), ("gru", 4, 3, 5, 1), ("lstm", 6, 7, 8, 3), ("gru", 6, 7, 8, 3), ("lstm", 1, 5, 4, 1)]
out = []
for cell, T, F, H, K in CASES:
    rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(F, H, batch_first=True)
    head = torch.nn.Linear(H, K)
    # larger weights than the default so the gates leave their linear range
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.mul_(2.0)
    rows = 6
    x = rng.normal(size=(rows, T, F)).astype(np.float32)
    lens = [T, max(1, T - 1), 1, max(1, T // 2), T, max(1, T - 2)]
    ys, flat = [], []
    with torch.no_grad():
        for i in range(rows):
            L = lens[i]
            x[i, :T - L, :] = 0.0
            seq = torch.tensor(x[i:i + 1, T - L:, :])
            o, _ = rnn(seq)
            z = head(o[:, -1, :])
            y = torch.sigmoid(z) if K == 1 else torch.softmax(z, dim=1)
            ys += list(y.numpy().reshape(-1))
            flat += [float(L)] + list(x[i].reshape(-1))
    params = []
    params += list(rnn.weight_ih_l0.detach().numpy().T.reshape(-1)) + list(rnn.bias_ih_l0.detach().numpy())
    params += list(rnn.weight_hh_l0.detach().numpy().T.reshape(-1)) + list(rnn.bias_hh_l0.detach().numpy())
    params += list(head.weight.detach().numpy().T.reshape(-1)) + list(head.bias.detach().numpy())
    out.append("case %s %d %d %d %d" % (cell, T, F, H, K))
    out.append("params " + " ".join("%.9g" % v for v in params))
    out.append("x %d " % rows + " ".join("%.9g" % v for v in flat))
    out.append("y " + " ".join("%.9g" % v for v in ys))
open(__file__.replace(".py", ".txt"), "w").write("\n".join(out) + "\n")
