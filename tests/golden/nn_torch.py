#!/usr/bin/python3
"""Forward passes of small dense networks in PyTorch (Debian's python3-torch),
for tests/test_nn.c: the same weights and inputs must give the same outputs
in vigil's layers (src/models/nn.c). Run once; writes tests/golden/nn_torch.txt.

Format, one case per block:
  case ACT OUT N_LAYERS SIZE0 .. SIZE_N
  params V...   (vigil's layout: W_l as (in, out) row-major, then b_l, per layer)
  x ROWS V...   (rows x SIZE0)
  y V...        (rows x SIZE_N: softmax probabilities, sigmoid P(1) or linear units)
"""
import numpy as np
import torch

torch.manual_seed(7)
rng = np.random.default_rng(11)
ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "logistic": torch.nn.Sigmoid, "identity": torch.nn.Identity}
CASES = [("relu", "softmax", [6, 5, 4, 3]), ("tanh", "sigmoid", [7, 9, 1]),
         ("logistic", "linear", [6, 4, 2, 4, 6]), ("identity", "softmax", [3, 4, 2]),
         ("relu", "linear", [40, 16, 4, 16, 40])]
out = []
for act, kind, sizes in CASES:
    layers = []
    for l in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[l], sizes[l + 1]))
        if l < len(sizes) - 2:
            layers.append(ACTS[act]())
    if kind == "softmax":
        layers.append(torch.nn.Softmax(dim=1))
    elif kind == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    rows = 5
    x = torch.tensor(rng.normal(size=(rows, sizes[0])), dtype=torch.float32)
    with torch.no_grad():
        y = net(x)
    params = []
    for m in net:
        if isinstance(m, torch.nn.Linear):
            params += list(m.weight.detach().numpy().T.reshape(-1)) + list(m.bias.detach().numpy())
    fmt = lambda v: " ".join("%.9g" % float(a) for a in v)
    out.append("case %s %s %d %s" % (act, kind, len(sizes) - 1, " ".join(map(str, sizes))))
    out.append("params " + fmt(params))
    out.append("x %d %s" % (rows, fmt(x.numpy().reshape(-1))))
    out.append("y " + fmt(y.numpy().reshape(-1)))
open(__file__.replace(".py", ".txt"), "w").write("\n".join(out) + "\n")
print("torch", torch.__version__, "cases", len(CASES))
