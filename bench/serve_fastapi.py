"""The comparison service for bench/serve.py: the same job as `vigil serve`'s
POST /v1/detect written the usual Python way - FastAPI + uvicorn, an XGBoost
model (XGBClassifier, hist, 200 trees of depth 6) trained on the same
NSL-KDD data, the categorical fields one-hot encoded with the categories seen
in training. Per request: the JSON record becomes one row, predict_proba
scores it, and the reply has the same keys as vigil's.

Run by bench/serve.py:
  VG_XGB_DIR=DIR python3 -m uvicorn serve_fastapi:app --app-dir bench ...
where DIR holds model.json (the booster) and meta.json (feature layout).
"""
import asyncio.base_events
import json
import os
import socket

import numpy as np
import xgboost as xgb
from fastapi import Body, FastAPI, HTTPException


def _set_nodelay(sock):
    # With --workers, uvicorn binds the listening socket itself with proto 0,
    # and asyncio then skips TCP_NODELAY on accepted connections (it checks
    # proto == IPPROTO_TCP): every reply then waits ~40 ms on Nagle and
    # delayed ACKs. Setting it for any TCP stream socket gives FastAPI the
    # latency it has with a single worker.
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


asyncio.base_events._set_nodelay = _set_nodelay

_dir = os.environ["VG_XGB_DIR"]
with open(os.path.join(_dir, "meta.json")) as f:
    META = json.load(f)
MODEL = xgb.XGBClassifier()
MODEL.load_model(os.path.join(_dir, "model.json"))
# One row per call: XGBoost's own threads only add hand-off cost, and the
# uvicorn workers already use the cores (the usual setting for serving).
MODEL.set_params(n_jobs=1)

# Column of each numeric field and of each (categorical field, value) pair.
NUMERIC = {name: i for i, name in enumerate(META["numeric"])}
ONEHOT = {}
_col = len(META["numeric"])
for name, cats in META["categorical"].items():
    for c in cats:
        ONEHOT[(name, c)] = _col
        _col += 1
N_FEATURES = _col
CLASSES = META["classes"]  # ["normal", "attack"]

app = FastAPI()


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/detect")
def detect(record: dict = Body(...)):
    row = np.full((1, N_FEATURES), np.nan, dtype=np.float32)
    for name in META["categorical"]:
        row[0, [ONEHOT[(name, c)] for c in META["categorical"][name]]] = 0.0
    for name, value in record.items():
        if name in NUMERIC:
            try:
                row[0, NUMERIC[name]] = float(value) if value is not None else np.nan
            except (TypeError, ValueError):
                raise HTTPException(status_code=400, detail=f"field '{name}': {value!r} is not a number")
        elif name in META["categorical"]:
            col = ONEHOT.get((name, str(value)))
            if col is not None:
                row[0, col] = 1.0
    proba = MODEL.predict_proba(row)[0]
    score = float(proba[1])
    label = CLASSES[int(proba[1] >= proba[0])]
    return {"model": "xgboost", "anomaly": score >= 0.5, "score": score, "label": label,
            "probabilities": {CLASSES[0]: float(proba[0]), CLASSES[1]: score}}
