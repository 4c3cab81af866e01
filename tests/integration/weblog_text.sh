# Web access logs with --text (issue 13): the request line, path, query and
# user agent of each weblog line as hashed character n-grams for the linear
# families, beside the log's own features; predict and watch read the same
# text fields from the model (the same score for every line), explain names
# them; unknown field names and formats without text fields are refused.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "FAIL: $PY is needed to compare scores"; exit 1; }

expect_ok "synth weblog (train)" "$VIGIL" synth --format weblog --events 8000 --seed 21 --truth "$WORK/tr.truth" \
  -o "$WORK/train.log"
expect_ok "synth weblog (test)" "$VIGIL" synth --format weblog --events 4000 --seed 22 --truth "$WORK/te.truth" \
  -o "$WORK/test.log"
cut -d, -f1 "$WORK/tr.truth" >"$WORK/tr.lines"
cut -d, -f1 "$WORK/te.truth" >"$WORK/te.lines"
LOG=(--format weblog --data "$WORK/train.log" --labels "$WORK/tr.lines" --test "$WORK/test.log"
  --test-labels "$WORK/te.lines")

expect_ok "train linear-svm --text request,path,query,agent" "$VIGIL" train "${LOG[@]}" \
  --text request,path,query,agent --model linear-svm --param n_features=65536 --json -o "$WORK/svm.vgm"
expect_ok "inspect" "$VIGIL" inspect "$WORK/svm.vgm"
for f in request path query agent; do
  grep -q "$f .*text .*hashed" "$WORK/out" && pass "inspect: $f is a text input" || fail "inspect lacks text input $f"
done

head -n 1500 "$WORK/test.log" >"$WORK/small.log"
expect_ok "predict" "$VIGIL" predict --model "$WORK/svm.vgm" --data "$WORK/small.log" -o "$WORK/pred.csv"
"$VIGIL" watch --model "$WORK/svm.vgm" --threshold -100 - <"$WORK/small.log" >"$WORK/watch.jsonl" 2>"$WORK/watch.err" ||
  fail "watch: $(tail -2 "$WORK/watch.err")"
read -r n d < <($PY - "$WORK/pred.csv" "$WORK/watch.jsonl" <<'PYEOF'
import csv, json, sys
p = {int(r["line"]): r["score"] for r in csv.DictReader(open(sys.argv[1]))}
w = {}
for l in open(sys.argv[2]):
    a = json.loads(l)
    w[a["line"]] = a["score"]
print(len(p), sum(w.get(k) is None or abs(w[k] - float(v)) > 0 for k, v in p.items()))
PYEOF
)
((n == 1500 && d == 0)) && pass "watch and predict: the same score for all $n lines" ||
  fail "watch and predict: $d of $n scores differ"

# The text adds what the per-line features miss (on these seeds: 0.94 -> 0.97).
expect_ok "train logreg, the log's features only" "$VIGIL" train "${LOG[@]}" --model logreg --json -o "$WORK/lr0.vgm"
auc0=$(json_get "$WORK/out" roc_auc)
expect_ok "train logreg --text request,path,query,agent" "$VIGIL" train "${LOG[@]}" --text request,path,query,agent \
  --model logreg --param n_features=65536 --json -o "$WORK/lr.vgm"
auc=$(json_get "$WORK/out" roc_auc)
if ge "$auc" 0.96 && ge "$auc" "$auc0"; then pass "logreg with the request text: ROC-AUC $auc (without: $auc0)"
else fail "logreg with the request text: ROC-AUC $auc, without: $auc0"; fi
expect_ok "predict --explain" "$VIGIL" predict --model "$WORK/lr.vgm" --data "$WORK/small.log" --explain \
  -o "$WORK/ex.csv"
head -n1 "$WORK/ex.csv" | tr , '\n' | grep -qx contrib_request && pass "explain: a contrib_request column" ||
  fail "explain header lacks contrib_request"
bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "raw_score") r = i; if ($i == "bias") b = i } next }
  { s = 0; for (i = b; i <= NF; i++) s += $i; d = s - $r; if (d < 0) d = -d; if (d > 1e-4) n++ } END { print n + 0 }' \
  "$WORK/ex.csv")
((bad == 0)) && pass "explain: terms sum to the raw score" || fail "$bad rows whose terms do not sum"

expect_error "an unknown weblog text field" "--text 'cookie' is not one of request, path, query, agent" \
  "$VIGIL" train "${LOG[@]}" --text cookie --model logreg -o "$WORK/x.vgm"
expect_error "--text on a format without text fields" "--text goes with CSV data" \
  "$VIGIL" train --format login --data "$WORK/train.log" --text request --model logreg -o "$WORK/x.vgm"
finish
