# Text columns as hashed character n-grams with TF-IDF (issue 13): logreg and
# linear-svm trained with --text on ../shared/data/http-params, then eval,
# predict --explain, serve (/v1/detect, one record) and watch give the same
# scores; parameter errors; trees keep the dense URL features.
source "$(dirname "$0")/lib.sh"
D=$SHARED/http-params
TRAIN=$D/payload_train.csv.gz TEST=$D/payload_test.csv.gz
COMMON=(--label label --positive anom --ignore attack_type,length --text payload)

for m in logreg linear-svm; do
  expect_ok "train $m --text" "$VIGIL" train --data "$TRAIN" --test "$TEST" "${COMMON[@]}" --model "$m" --json \
    -o "$WORK/$m.vgm"
  auc=$(json_get "$WORK/out" roc_auc)
  if ge "$auc" 0.999; then pass "$m ROC-AUC $auc >= 0.999"; else fail "$m ROC-AUC $auc < 0.999"; fi
  expect_ok "eval $m" "$VIGIL" eval --model "$WORK/$m.vgm" --data "$TEST" --json
  auc2=$(json_get "$WORK/out" roc_auc)
  [[ $auc2 == "$auc" ]] && pass "eval $m gives the training ROC-AUC" || fail "eval $m ROC-AUC $auc2 != $auc"
done

expect_ok "inspect names the n-gram input" "$VIGIL" inspect "$WORK/logreg.vgm"
grep -q "payload .*text .*1-3-grams hashed into 1048576 columns" "$WORK/out" && pass "inspect: text input" ||
  fail "inspect lacks the text input: $(grep payload "$WORK/out")"
grep -q "ngram_range=1,3, n_features=1048576" "$WORK/out" && pass "inspect: n-gram parameters" || fail "inspect: no n-gram parameters"

# predict --explain: one contribution column for the text, terms sum to the raw score.
zcat "$TEST" | head -n 201 >"$WORK/small.csv"
expect_ok "predict --explain" "$VIGIL" predict --model "$WORK/logreg.vgm" --data "$WORK/small.csv" --explain \
  -o "$WORK/pred.csv"
head -n1 "$WORK/pred.csv" | grep -q "contrib_payload" && pass "explain column contrib_payload" ||
  fail "explain header: $(head -n1 "$WORK/pred.csv")"
bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "raw_score") r = i; if ($i == "bias") b = i } next }
  { s = 0; for (i = b; i <= NF; i++) s += $i; d = s - $r; if (d < 0) d = -d; if (d > 1e-4) n++ } END { print n + 0 }' \
  "$WORK/pred.csv")
((bad == 0)) && pass "contributions sum to the raw score" || fail "$bad rows whose contributions do not sum"

# serve: one record scores as predict scored the same row.
start_server "$WORK/serve.log" --model "text=$WORK/logreg.vgm"
if [[ -z $SERVER_URL ]]; then fail "server did not start: $(cat "$WORK/serve.log")"; else
  row=$(sed -n 2p "$WORK/small.csv")
  payload=$(printf '%s' "$row" | /usr/bin/python3 -c 'import csv,sys,json; r=next(csv.reader(sys.stdin)); print(json.dumps({"payload": r[0]}))')
  curl -s -X POST -H 'Content-Type: application/json' --data-binary "$payload" "$SERVER_URL/v1/detect" >"$WORK/detect.json"
  s_serve=$(json_get "$WORK/detect.json" score)
  s_pred=$(sed -n 2p "$WORK/pred.csv" | cut -d, -f2)
  [[ -n $s_serve && $s_serve == "$s_pred" ]] && pass "serve /v1/detect score $s_serve == predict's" ||
    fail "serve score '$s_serve' != predict '$s_pred': $(cat "$WORK/detect.json")"
  curl -s -X POST -H 'Content-Type: application/json' --data-binary '{"payload": "1 UNION SELECT password FROM users--"}' \
    "$SERVER_URL/v1/detect" >"$WORK/detect2.json"
  grep -q '"anomaly":true' "$WORK/detect2.json" && pass "serve: an injection is an anomaly" ||
    fail "serve: injection not flagged: $(cat "$WORK/detect2.json")"
fi

# watch: the same alerts as predict's anomalies on the same lines.
"$VIGIL" watch --model "$WORK/linear-svm.vgm" - <"$WORK/small.csv" >"$WORK/watch.out" 2>"$WORK/watch.err"
rc=$?
((rc == 0)) && pass "watch a CSV of payloads on stdin" || fail "watch exit $rc: $(head -c 300 "$WORK/watch.err")"
expect_ok "predict linear-svm" "$VIGIL" predict --model "$WORK/linear-svm.vgm" --data "$WORK/small.csv" -o "$WORK/p2.csv"
n_pred=$(awk -F, 'NR > 1 && $3 == "anom"' "$WORK/p2.csv" | wc -l)
n_alerts=$(grep -c '"score"' "$WORK/watch.out")
((n_alerts == n_pred && n_pred > 0)) && pass "watch: $n_alerts alerts == predict's $n_pred anomalies" ||
  fail "watch gave $n_alerts alerts, predict $n_pred anomalies"
# The same scores: each alert's score is predict's score of that row.
s_watch=$(grep -oE '"score":[0-9.e-]+' "$WORK/watch.out" | head -n1 | cut -d: -f2)
l_watch=$(grep -oE '"line":[0-9]+' "$WORK/watch.out" | head -n1 | cut -d: -f2)
s_pred=$(awk -F, -v l="$l_watch" 'NR == l { print $2 }' "$WORK/p2.csv")
[[ -n $s_watch && $s_watch == "$s_pred" ]] && pass "watch score of line $l_watch == predict's ($s_pred)" ||
  fail "watch score '$s_watch' (line $l_watch) != predict '$s_pred'"

# Parameters: n-gram settings need text and a sparse family; bad values are named.
expect_ok "train with ngram_range=2,4 n_features=2^18" "$VIGIL" train --data "$TRAIN" "${COMMON[@]}" --model logreg \
  --param ngram_range=2,4 --param n_features=2^18 -o "$WORK/lr24.vgm"
expect_error "ngram_range with a tree" "ngram_range.*sparse rows" "$VIGIL" train --data "$TRAIN" "${COMMON[@]}" \
  --model tree --param ngram_range=1,2 -o "$WORK/x.vgm"
expect_error "n_features=2^3" "n_features" "$VIGIL" train --data "$TRAIN" "${COMMON[@]}" --model linear-svm \
  --param n_features=2^3 -o "$WORK/x.vgm"
expect_error "loss=log" "loss" "$VIGIL" train --data "$TRAIN" "${COMMON[@]}" --model linear-svm --param loss=log \
  -o "$WORK/x.vgm"
# Trees keep the dense URL features of the text column.
expect_ok "tree --text" "$VIGIL" train --data "$TRAIN" "${COMMON[@]}" --model tree -o "$WORK/tree.vgm"
expect_ok "inspect tree" "$VIGIL" inspect "$WORK/tree.vgm"
grep -q "payload.url_sqli" "$WORK/out" && pass "tree: URL features kept" || fail "tree lacks payload.url_sqli"
finish
