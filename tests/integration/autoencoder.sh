# The autoencoder (an anomaly model, fitted without labels) through every
# command: train on the normal NSL-KDD records (--fit-on normal) with a held-
# out test file, eval, predict --explain (each row's contributions and bias
# sum to its score), serve (POST /v1/detect, one record and a batch) and
# watch, and the same score for every record in predict, serve and watch,
# compared as text: all three print the shortest text that reads back as the
# same float32, so equal text is the same bits.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
ROWS=2000
command -v curl >/dev/null || { echo "FAIL: curl is needed (scripts/setup.sh --test installs it)"; exit 1; }
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read JSON replies"; exit 1; }
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }

zcat "$TRAIN" | head -n 8000 >"$WORK/train.txt"
zcat "$TEST" | head -n "$ROWS" >"$WORK/test.txt"
expect_ok "train autoencoder on the normal rows (--fit-on normal)" "$VIGIL" train --data "$WORK/train.txt" \
  --format kdd --model autoencoder --fit-on normal --contamination 0.02 --param max_iter=40 --seed 5 \
  --test "$WORK/test.txt" --json -o "$WORK/ae.vgm"
auc=$(json_get "$WORK/out" roc_auc)
if ge "$auc" 0.85; then pass "held-out ROC-AUC $auc >= 0.85 (no label seen in fitting)"; else fail "held-out ROC-AUC $auc < 0.85"; fi
expect_ok "inspect" "$VIGIL" inspect "$WORK/ae.vgm"
grep -q "contamination 0.02 of the .* normal rows fitted" "$WORK/out" && pass "inspect shows the operating point" \
  || fail "inspect: $(grep -i threshold "$WORK/out")"
expect_ok "eval" "$VIGIL" eval --model "$WORK/ae.vgm" --data "$WORK/test.txt" --json
grep -q '"roc_auc"' "$WORK/out" && pass "eval reports ROC-AUC" || fail "eval: $(head -c 300 "$WORK/out")"
expect_ok "predict --explain" "$VIGIL" predict --model "$WORK/ae.vgm" --data "$WORK/test.txt" --explain \
  -o "$WORK/pred.csv"
$PY - "$WORK/pred.csv" "$ROWS" >"$WORK/explain.cmp" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
worst = 0.0
for r in rows:
    parts = [float(v) for k, v in r.items() if k.startswith("contrib_")] + [float(r["bias"])]
    worst = max(worst, abs(sum(parts) - float(r["score"])) / max(1.0, abs(float(r["score"]))))
print("rows %d worst %.3g" % (len(rows), worst))
PYEOF
read -r _ n _ worst <"$WORK/explain.cmp"
if [[ $n == "$ROWS" ]] && ge 1e-4 "$worst"; then pass "explanations sum to the score on $n rows (worst relative gap $worst)"
else fail "explanations: $(cat "$WORK/explain.cmp")"; fi

# The records as JSON objects of raw field names and values, in batches of 500.
$PY - "$SHARED/nsl-kdd/field_names.csv" "$WORK/test.txt" "$WORK/batch" <<'PYEOF'
import json, sys
fields = [l.split(",") for l in open(sys.argv[1]).read().split("\n") if l]
recs = []
for line in open(sys.argv[2]):
    v = line.strip().split(",")
    recs.append({name: (x if kind.strip() == "symbolic" else float(x)) for (name, kind), x in zip(fields, v)})
for i in range(0, len(recs), 500):
    with open("%s%03d.json" % (sys.argv[3], i // 500), "w") as f:
        json.dump(recs[i:i + 500], f)
json.dump(recs[0], open(sys.argv[3] + "_one.json", "w"))
PYEOF

start_server "$WORK/serve.log" --model "ae=$WORK/ae.vgm"
[[ -n $SERVER_URL ]] || { fail "server did not start: $(cat "$WORK/serve.log")"; finish; }
pass "server on $SERVER_URL"
code=$(curl -s -o "$WORK/one.json" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
  --data-binary @"$WORK/batch_one.json" "$SERVER_URL/v1/detect?model=ae")
[[ $code == 200 ]] && grep -q '"score"' "$WORK/one.json" && pass "POST /v1/detect: $(head -c 160 "$WORK/one.json")" \
  || fail "POST /v1/detect: HTTP $code: $(head -c 300 "$WORK/one.json")"
: >"$WORK/serve.jsonl"
for b in "$WORK"/batch[0-9]*.json; do
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
    --data-binary @"$b" "$SERVER_URL/v1/detect/batch?model=ae")
  [[ $code == 200 ]] || fail "batch $b: HTTP $code: $(head -c 300 "$WORK/body")"
  $PY -c 'import json,sys
for r in json.load(open(sys.argv[1])): print(json.dumps(r))' "$WORK/body" >>"$WORK/serve.jsonl"
done
# watch alerts at or above a threshold below every score, so every record is an alert with its score
"$VIGIL" watch --model "$WORK/ae.vgm" --threshold -1 - <"$WORK/test.txt" >"$WORK/watch.jsonl" 2>"$WORK/watch.err" \
  || fail "watch: $(tail -2 "$WORK/watch.err")"
$PY - "$WORK/serve.jsonl" "$WORK/pred.csv" "$WORK/watch.jsonl" "$WORK/one.json" >"$WORK/cmp" <<'PYEOF'
import csv, json, sys
serve = [json.loads(l) for l in open(sys.argv[1])]
pred = list(csv.DictReader(open(sys.argv[2])))
watch = {}
for l in open(sys.argv[3]):
    a = json.loads(l)
    watch[a["line"]] = a
one = json.load(open(sys.argv[4]))
bad = []
if len(serve) != len(pred) or len(watch) != len(pred):
    bad.append("rows: serve %d, predict %d, watch %d" % (len(serve), len(pred), len(watch)))
for i, (s, p) in enumerate(zip(serve, pred)):
    w = watch.get(i + 1)
    if s["score"] != float(p["score"]): bad.append("row %d: serve %r, predict %s" % (i + 1, s["score"], p["score"]))
    if w is None or w["score"] != s["score"]:
        bad.append("row %d: watch %r, serve %r" % (i + 1, w and w["score"], s["score"]))
    if s["anomaly"] != (p["prediction"] == "attack"):
        bad.append("row %d: serve anomaly %s, predict %s" % (i + 1, s["anomaly"], p["prediction"]))
if one["score"] != serve[0]["score"]: bad.append("one record %r, batch %r" % (one["score"], serve[0]["score"]))
for b in bad[:10]: print("FAIL", b)
print("ok %d records, %d anomalies, %d disagreements" % (len(pred), sum(s["anomaly"] for s in serve), len(bad)))
PYEOF
grep '^FAIL' "$WORK/cmp" | while read -r l; do echo "  $l"; done
grep -q '^ok .* 0 disagreements$' "$WORK/cmp" && pass "predict, serve and watch: the same scores: $(grep '^ok' "$WORK/cmp" | cut -c4-)" \
  || fail "$(grep '^ok' "$WORK/cmp" | cut -c4-)"
expect_error "an unknown parameter is one clear error" "n_estimators" "$VIGIL" train \
  --data "$WORK/train.txt" --format kdd --model autoencoder --param n_estimators=3 -o "$WORK/x.vgm"
finish
