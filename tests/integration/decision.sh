# One decision everywhere: the same NSL-KDD records scored by `vigil
# predict`, by `POST /v1/detect/batch` (the real server on 127.0.0.1) and by
# `vigil watch` get the same anomaly flag, the same label and the same score
# on every record, for a multiclass model (--task category), a binary one
# (small forests, whose averaged votes tie at exactly 0.5 on some records) and
# an anomaly model fitted without labels (an isolation forest on the normal
# rows, deciding at the threshold its contamination set).
# And within each reply the label and the flag agree: an anomaly is never
# labelled with the normal class and a non-anomaly always is.
# Scores are compared exactly: all three print the shortest text that reads
# back as the same float32 (vg_float_text), so equal text is the same bits.
# Before the decision module (vigil/decision.h) predict broke a 0.5 tie
# towards normal while serve called it an anomaly, and serve labelled a
# multiclass record "normal" with anomaly true when P(normal) < 0.5 was the
# largest probability, while watch raised nothing for it.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
ROWS=8000
command -v curl >/dev/null || { echo "FAIL: curl is needed (scripts/setup.sh --test installs it)"; exit 1; }
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read JSON replies"; exit 1; }
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }

zcat "$TRAIN" | head -n 8000 >"$WORK/train.txt"
zcat "$TEST" | head -n "$ROWS" >"$WORK/test.txt"
expect_ok "train a 5-category forest (10 trees, full depth) on 8000 rows" "$VIGIL" train --data "$WORK/train.txt" \
  --format kdd --task category --model forest --param n_estimators=10 --seed 3 -o "$WORK/cat.vgm"
expect_ok "train a binary forest (10 trees, full depth) on 8000 rows" "$VIGIL" train --data "$WORK/train.txt" \
  --format kdd --model forest --param n_estimators=10 --seed 3 -o "$WORK/bin.vgm"
expect_ok "train an isolation forest on the normal rows (contamination 0.05)" "$VIGIL" train \
  --data "$WORK/train.txt" --format kdd --model iforest --param n_estimators=50 --fit-on normal \
  --contamination 0.05 --seed 3 -o "$WORK/iso.vgm"

# The records as JSON objects of raw field names and values, in batches of 1000.
$PY - "$SHARED/nsl-kdd/field_names.csv" "$WORK/test.txt" "$WORK/batch" <<'EOF'
import json, sys
fields = [l.split(",") for l in open(sys.argv[1]).read().split("\n") if l]
recs = []
for line in open(sys.argv[2]):
    v = line.strip().split(",")
    recs.append({name: (x if kind.strip() == "symbolic" else float(x))
                 for (name, kind), x in zip(fields, v)})
for i in range(0, len(recs), 1000):
    with open("%s%03d.json" % (sys.argv[3], i // 1000), "w") as f:
        json.dump(recs[i:i + 1000], f)
EOF

start_server "$WORK/serve.log" --model "cat=$WORK/cat.vgm" --model "bin=$WORK/bin.vgm" --model "iso=$WORK/iso.vgm"
[[ -n $SERVER_URL ]] || { fail "server did not start: $(cat "$WORK/serve.log")"; finish; }
pass "server on $SERVER_URL"

for name in cat bin iso; do
  : >"$WORK/$name.serve.jsonl"
  for b in "$WORK"/batch*.json; do
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 60 -H 'Content-Type: application/json' \
      --data-binary @"$b" "$SERVER_URL/v1/detect/batch?model=$name")
    [[ $code == 200 ]] || fail "$name: batch $b: HTTP $code: $(head -c 300 "$WORK/body")"
    $PY -c 'import json,sys
for r in json.load(open(sys.argv[1])): print(json.dumps(r))' "$WORK/body" >>"$WORK/$name.serve.jsonl"
  done
  curl -s --max-time 10 "$SERVER_URL/v1/models/$name" >"$WORK/$name.model.json"
  expect_ok "$name: predict" "$VIGIL" predict --model "$WORK/$name.vgm" --data "$WORK/test.txt" -o "$WORK/$name.pred.csv"
  "$VIGIL" watch --model "$WORK/$name.vgm" - <"$WORK/test.txt" >"$WORK/$name.watch.jsonl" 2>"$WORK/$name.watch.err" \
    || fail "$name: watch: $(tail -2 "$WORK/$name.watch.err")"

  # compare: prints "ok ..." lines, "FAIL ..." lines for disagreements, and
  # the number of records that exercised the old disagreement.
  $PY - "$WORK/$name.model.json" "$WORK/$name.serve.jsonl" "$WORK/$name.pred.csv" "$WORK/$name.watch.jsonl" \
    "$ROWS" >"$WORK/$name.cmp" <<'EOF'
import csv, json, sys
model = json.load(open(sys.argv[1]))
multi = "normal_class" in model
normal = model["normal_class"] if multi else [c for c in model["classes"] if c != model["positive_class"]][0]
serve = [json.loads(l) for l in open(sys.argv[2])]
pred = list(csv.DictReader(open(sys.argv[3])))
alerts = {}
for l in open(sys.argv[4]):
    a = json.loads(l)
    alerts[a["line"]] = a
rows = int(sys.argv[5])
bad = []
def report(msg):
    if len(bad) < 10: print("FAIL", msg)
    bad.append(msg)
if len(serve) != rows or len(pred) != rows:
    report("rows: serve %d, predict %d, expected %d" % (len(serve), len(pred), rows))
ties = split = 0
for i, (s, p) in enumerate(zip(serve, pred)):
    row = i + 1
    if int(p["row"]) != row: report("row %d: predict says row %s" % (row, p["row"]))
    if s["anomaly"] != (s["label"] != normal):
        report("row %d: serve anomaly %s with label %s" % (row, s["anomaly"], s["label"]))
    if s["label"] != p["prediction"]:
        report("row %d: serve label %s, predict %s" % (row, s["label"], p["prediction"]))
    if s["score"] != float(p["score"]):
        report("row %d: serve score %r, predict %s" % (row, s["score"], p["score"]))
    a = alerts.get(row)
    if s["anomaly"] != (a is not None):
        report("row %d: serve anomaly %s, watch %s" % (row, s["anomaly"], "alert" if a else "none"))
    elif a is not None:
        if a["label"] != s["label"]: report("row %d: watch label %s, serve %s" % (row, a["label"], s["label"]))
        if a["score"] != s["score"]: report("row %d: watch score %r, serve %r" % (row, a["score"], s["score"]))
    pr = s.get("probabilities")  # an anomaly model has a score, no probabilities
    ties += pr is not None and s["score"] == 0.5
    # multiclass: normal is the most probable class, yet P(normal) <= 0.5
    split += multi and pr is not None and max(pr, key=pr.get) == normal and pr[normal] <= 0.5
print("ok %d records, %d anomalies, %d watch alerts, %d disagreements" %
      (len(serve), sum(s["anomaly"] for s in serve), len(alerts), len(bad)))
print("exercised %d %d" % (ties, split))
EOF
  grep '^FAIL' "$WORK/$name.cmp" | while read -r l; do echo "  $l"; done
  if grep -q '^ok .* 0 disagreements$' "$WORK/$name.cmp"; then
    pass "$name: predict, serve and watch decide alike: $(grep '^ok' "$WORK/$name.cmp" | cut -c4-)"
  else
    fail "$name: $(grep '^ok' "$WORK/$name.cmp" | cut -c4-)"
  fi
  read -r _ ties split < <(grep '^exercised' "$WORK/$name.cmp")
  # The records must hold the cases the old code decided differently, or
  # this test could not fail on it.
  if [[ $name == iso ]]; then
    n_anom=$(grep '^ok' "$WORK/iso.cmp" | sed 's/.* records, \([0-9]*\) anomalies.*/\1/')
    ((n_anom > 0 && n_anom < ROWS)) && pass "iso: $n_anom of $ROWS records at or above the saved threshold" \
      || fail "iso: $n_anom of $ROWS records are anomalies: the threshold is not exercised"
  elif [[ $name == bin ]]; then
    ((ties > 0)) && pass "bin: $ties records score exactly 0.5 (a tie: an anomaly everywhere)" \
      || fail "bin: no record scores exactly 0.5: the tie is not exercised"
  else
    ((ties + split > 0)) && pass "cat: $ties records at exactly 0.5, $split with normal the most probable class at P <= 0.5" \
      || fail "cat: no record exercises the tie or the split decision"
  fi
done

# --threshold moves predict, serve's decision and watch alike (binary).
expect_ok "predict --threshold 0.9" "$VIGIL" predict --model "$WORK/bin.vgm" --data "$WORK/test.txt" --threshold 0.9 \
  -o "$WORK/p9.csv"
n_pred=$(awk -F, 'NR > 1 && $3 == "attack"' "$WORK/p9.csv" | wc -l)
n_watch=$("$VIGIL" watch --model "$WORK/bin.vgm" --threshold 0.9 - <"$WORK/test.txt" 2>/dev/null | wc -l)
n_low=$(awk -F, 'NR > 1 && $2 >= 0.9' "$WORK/p9.csv" | wc -l)
[[ $n_pred == "$n_watch" && $n_pred == "$n_low" ]] && pass "threshold 0.9: predict and watch both flag $n_pred" \
  || fail "threshold 0.9: predict $n_pred, watch $n_watch, scores >= 0.9: $n_low"
# An operating point saved at training (train --threshold 0.8) is what
# predict, serve and watch use unless told otherwise; --normal names the
# normal class, kept in the model.
expect_ok "train with a saved operating point and --normal" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --model forest --param n_estimators=10 --seed 3 --threshold 0.8 --normal normal -o "$WORK/op.vgm"
"$VIGIL" inspect "$WORK/op.vgm" | grep -q "^decision .*normal class 'normal' (--normal); anomaly when score >= 0.8 (train --threshold)" \
  && pass "inspect shows the saved operating point" || fail "inspect: $("$VIGIL" inspect "$WORK/op.vgm" | grep decision)"
"$VIGIL" predict --model "$WORK/op.vgm" --data "$WORK/test.txt" -o "$WORK/p8.csv"
n_pred=$(awk -F, 'NR > 1 && $3 == "attack"' "$WORK/p8.csv" | wc -l)
n_hi=$(awk -F, 'NR > 1 && $2 >= 0.8' "$WORK/p8.csv" | wc -l)
n_mid=$(awk -F, 'NR > 1 && $2 >= 0.5 && $2 < 0.8' "$WORK/p8.csv" | wc -l)
n_watch=$("$VIGIL" watch --model "$WORK/op.vgm" - <"$WORK/test.txt" 2>/dev/null | wc -l)
n_watch5=$("$VIGIL" watch --model "$WORK/op.vgm" --threshold 0.5 - <"$WORK/test.txt" 2>/dev/null | wc -l)
start_server "$WORK/serve-op.log" --model "op=$WORK/op.vgm"
n_serve=0
for b in "$WORK"/batch*.json; do
  k=$(curl -s --max-time 60 -H 'Content-Type: application/json' --data-binary @"$b" "$SERVER_URL/v1/detect/batch" |
    $PY -c 'import json,sys; print(sum(r["anomaly"] for r in json.load(sys.stdin)))')
  n_serve=$((n_serve + k))
done
((n_mid > 0)) && pass "$n_mid records score in [0.5, 0.8): the saved point matters" || fail "no record in [0.5, 0.8)"
[[ $n_pred == "$n_hi" && $n_watch == "$n_hi" && $n_serve == "$n_hi" ]] \
  && pass "saved threshold 0.8: predict, watch and serve all flag $n_hi" \
  || fail "saved threshold 0.8: predict $n_pred, watch $n_watch, serve $n_serve, scores >= 0.8: $n_hi"
[[ $n_watch5 == $((n_hi + n_mid)) ]] && pass "watch --threshold 0.5 overrides it: $n_watch5" \
  || fail "watch --threshold 0.5: $n_watch5, want $((n_hi + n_mid))"
expect_error "--normal must be a label value" "--normal: 'benign' is not a" "$VIGIL" train \
  --data "$WORK/train.txt" --format kdd --model tree --normal benign -o "$WORK/x.vgm"

expect_error "predict --threshold must be a number" "--threshold" "$VIGIL" predict --model "$WORK/bin.vgm" \
  --data "$WORK/test.txt" --threshold high
finish
