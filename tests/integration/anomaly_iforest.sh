# The isolation forest through every command: train on NSL-KDD records
# without using their labels (--fit-on normal: the normal rows only, as with
# a clean baseline week; --fit-on all: every row, labels ignored), and on a
# CSV that has no label column at all; eval (ROC-AUC from the labels, which
# only judge); predict --explain (the attributions and the bias add up to
# the score); serve (POST /v1/detect gives predict's score for the same
# record); watch (alerts on the same records, with the same scores); inspect;
# and the one-line errors for bad parameters.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
command -v curl >/dev/null || { echo "FAIL: curl is needed (scripts/setup.sh --test installs it)"; exit 1; }
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read JSON replies"; exit 1; }
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }

zcat "$TEST" | head -n 4000 >"$WORK/test.txt"

# ---- train and eval ----
expect_ok "train iforest on the normal rows of KDDTrain+ 20%" "$VIGIL" train --data "$TRAIN" --format kdd \
  --model iforest --fit-on normal --contamination 0.02 --seed 5 -o "$WORK/normal.vgm"
expect_ok "train iforest on all rows, labels ignored (extended)" "$VIGIL" train --data "$TRAIN" --format kdd \
  --model iforest --fit-on all --param extension_level=2 --param n_estimators=60 --seed 5 -o "$WORK/all.vgm"
for m in normal all; do
  expect_ok "$m: eval --json" "$VIGIL" eval --model "$WORK/$m.vgm" --data "$WORK/test.txt" --json
  cp "$WORK/out" "$WORK/$m.eval.json"
  auc=$(json_get "$WORK/$m.eval.json" roc_auc)
  want=$([[ $m == normal ]] && echo 0.85 || echo 0.70)
  ge "${auc:-0}" "$want" && pass "$m: ROC-AUC $auc >= $want" || fail "$m: ROC-AUC '$auc' < $want: $(head -c 300 "$WORK/$m.eval.json")"
done
expect_ok "inspect" "$VIGIL" inspect "$WORK/normal.vgm"
grep -q "iforest" "$WORK/out" && grep -q "trees: 100" "$WORK/out" && grep -q "extension_level=0" "$WORK/out" \
  && pass "inspect shows the family, its trees and parameters" || fail "inspect: $(head -c 600 "$WORK/out")"

# ---- a CSV without any label ----
$PY - "$SHARED/nsl-kdd/field_names.csv" "$WORK/test.txt" "$WORK/nolabel.csv" <<'EOF'
import sys
names = [l.split(",")[0] for l in open(sys.argv[1]).read().split("\n") if l][:41]
with open(sys.argv[3], "w") as out:
    out.write(",".join(names) + "\n")
    for line in open(sys.argv[2]):
        out.write(",".join(line.strip().split(",")[:41]) + "\n")
EOF
expect_ok "train on a CSV with no label column" "$VIGIL" train --data "$WORK/nolabel.csv" --model iforest \
  --param n_estimators=50 --seed 2 -o "$WORK/csv.vgm"
expect_ok "predict the unlabelled CSV" "$VIGIL" predict --model "$WORK/csv.vgm" --data "$WORK/nolabel.csv" \
  -o "$WORK/csv.pred.csv"
n=$(($(wc -l <"$WORK/csv.pred.csv") - 1))
[[ $n == 4000 ]] && pass "4000 scores" || fail "predict wrote $n rows"

# ---- predict --explain: attributions + bias = score ----
expect_ok "predict --explain" "$VIGIL" predict --model "$WORK/normal.vgm" --data "$WORK/test.txt" --explain \
  -o "$WORK/explain.csv"
expect_ok "predict" "$VIGIL" predict --model "$WORK/normal.vgm" --data "$WORK/test.txt" -o "$WORK/pred.csv"
$PY - "$WORK/explain.csv" "$WORK/pred.csv" >"$WORK/explain.out" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
plain = list(csv.DictReader(open(sys.argv[2])))
contrib = [h for h in rows[0] if h.startswith("contrib_")]
worst, same = 0.0, 0
for r, p in zip(rows, plain):
    total = float(r["bias"]) + sum(float(r[h]) for h in contrib)
    worst = max(worst, abs(total - float(r["raw_score"])), abs(float(r["raw_score"]) - float(r["score"])))
    same += r["score"] == p["score"]
print("fields", len(contrib), "worst |bias + contributions - score|", worst, "same scores", same, "of", len(rows))
print("ok" if worst < 1e-5 and same == len(rows) and len(contrib) == 41 else "FAIL")
EOF
grep -q "^ok" "$WORK/explain.out" && pass "explanations sum to the score: $(head -1 "$WORK/explain.out")" \
  || fail "explanations: $(cat "$WORK/explain.out") $(head -c 300 "$WORK/explain.csv")"

# ---- serve and watch agree with predict ----
$PY - "$SHARED/nsl-kdd/field_names.csv" "$WORK/test.txt" "$WORK/rec" <<'EOF'
import json, sys
fields = [l.split(",") for l in open(sys.argv[1]).read().split("\n") if l]
for i, line in enumerate(open(sys.argv[2])):
    if i >= 20: break
    v = line.strip().split(",")
    json.dump({n: (x if k.strip() == "symbolic" else float(x)) for (n, k), x in zip(fields, v)},
              open("%s%02d.json" % (sys.argv[3], i), "w"))
EOF
start_server "$WORK/serve.log" --model "if=$WORK/normal.vgm"
if [[ -n $SERVER_URL ]]; then
  pass "server on $SERVER_URL"
  bad=0
  for i in $(seq 0 19); do
    f=$(printf "%s%02d.json" "$WORK/rec" "$i")
    curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary @"$f" \
      "$SERVER_URL/v1/detect?model=if&explain=true" >"$WORK/reply"
    got=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["score"])' "$WORK/reply" 2>/dev/null)
    want=$(awk -F, -v r=$((i + 2)) 'NR == r { print $2 }' "$WORK/pred.csv")
    [[ $got == "$want" ]] || { bad=$((bad + 1)); echo "  record $i: serve '$got', predict '$want': $(head -c 200 "$WORK/reply")"; }
  done
  ((bad == 0)) && pass "/v1/detect: 20 records score as predict scores them" || fail "/v1/detect: $bad records differ"
else
  fail "server did not start: $(cat "$WORK/serve.log")"
fi
"$VIGIL" watch --model "$WORK/normal.vgm" - <"$WORK/test.txt" >"$WORK/watch.jsonl" 2>"$WORK/watch.err" \
  || fail "watch: $(tail -2 "$WORK/watch.err")"
$PY - "$WORK/watch.jsonl" "$WORK/pred.csv" >"$WORK/watch.out" <<'EOF'
import csv, json, sys
pred = list(csv.DictReader(open(sys.argv[2])))
alerts = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
flagged = [r for r in pred if r.get("anomaly", r.get("prediction")) in ("1", "true", "anomaly", "attack")]
bad = sum(1 for a in alerts if str(a["score"]) != pred[a["line"] - 1]["score"])
print("alerts", len(alerts), "predict-flagged", len(flagged), "score mismatches", bad)
print("ok" if alerts and bad == 0 and len(alerts) == len(flagged) else "FAIL")
EOF
grep -q "^ok" "$WORK/watch.out" && pass "watch: $(head -1 "$WORK/watch.out")" \
  || fail "watch: $(cat "$WORK/watch.out") $(head -c 300 "$WORK/watch.jsonl")"

# ---- errors ----
expect_error "unknown parameter" "bogus.*iforest" "$VIGIL" train --data "$TRAIN" --format kdd --model iforest \
  --param bogus=1 -o "$WORK/x.vgm"
expect_error "extension level beyond the numeric columns" "extension_level" "$VIGIL" train --data "$TRAIN" \
  --format kdd --model iforest --param extension_level=99 -o "$WORK/x.vgm"
expect_error "max_samples of 1" "max_samples" "$VIGIL" train --data "$TRAIN" --format kdd --model iforest \
  --param max_samples=1 -o "$WORK/x.vgm"
finish
