# End to end on a plain labelled CSV (the cyber-intrusion sessions table):
# header, an id column, missing values, a 0/1 label, --ignore, --positive,
# --categorical, class weights.
source "$(dirname "$0")/lib.sh"
DATA=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz

expect_ok "train forest on sessions with --split" "$VIGIL" train --data "$DATA" --split 0.25 \
  --label attack_detected --ignore session_id --model forest --param n_estimators=50 --json -o "$WORK/s.vgm"
grep -q '"classes":\["0","1"\]' "$WORK/out" && pass "0/1 label: classes 0 and 1, positive 1" \
  || fail "classes: $(head -c 200 "$WORK/out")"
[[ $(json_get "$WORK/out" rows) == 2384 ]] && pass "25% of 9537 rows held out (2384)" || fail "held-out rows $(json_get "$WORK/out" rows)"
auc=$(json_get "$WORK/out" roc_auc)
ge "$auc" 0.85 && pass "sessions ROC-AUC $auc >= 0.85" || fail "sessions ROC-AUC $auc"

# Without --ignore the all-distinct id column is dropped with a warning.
expect_ok "id column detected" "$VIGIL" train --data "$DATA" --label attack_detected --model tree -o "$WORK/t.vgm"
grep -q "session_id" "$WORK/err" && pass "warned about session_id" || fail "no id warning"

# Predict on data without the label column, columns in another order.
zcat "$DATA" | awk -F, 'BEGIN { OFS = "," } { print $3, $2, $4, $5, $6, $7, $8, $9, $10 }' | head -n 101 >"$WORK/nolabel.csv"
expect_ok "predict unlabelled, reordered columns" "$VIGIL" predict --model "$WORK/s.vgm" --data "$WORK/nolabel.csv"
[[ $(wc -l <"$WORK/out") == 101 ]] && pass "100 predictions" || fail "predictions: $(wc -l <"$WORK/out")"

# --positive and class weights, logistic regression with one-hot categories.
expect_ok "logreg with --positive 0 and balanced weights" "$VIGIL" train --data "$DATA" --split 0.3 \
  --label attack_detected --positive 0 --ignore session_id --model logreg --param class_weight=balanced \
  --param C=0.5 --json -o "$WORK/lr.vgm"
grep -q '"classes":\["1","0"\]' "$WORK/out" && pass "--positive 0 makes 0 the positive class" \
  || fail "classes with --positive 0: $(head -c 200 "$WORK/out")"

# --categorical keeps a numeric-looking column as categories.
expect_ok "--categorical" "$VIGIL" train --data "$DATA" --label attack_detected --ignore session_id \
  --categorical login_attempts --model tree -o "$WORK/c.vgm"
"$VIGIL" inspect "$WORK/c.vgm" | grep -E "login_attempts +categorical" >/dev/null \
  && pass "login_attempts stored as categorical" || fail "login_attempts not categorical"

# Golden data: a multiclass label and the default (last) label column.
expect_ok "multiclass CSV, label = last column" "$VIGIL" train --data "$SRC/tests/golden/multiclass.csv" \
  --task label --model logreg --split 0.3 --json -o "$WORK/w.vgm"
acc=$(json_get "$WORK/out" accuracy)
ge "$acc" 0.9 && pass "wine accuracy $acc >= 0.9" || fail "wine accuracy $acc"
# --text: a URL column becomes URL features, at training and at prediction.
printf 'url,label\n/index.html,0\n/login?user=admin%%27%%20or%%201%%3D1--,1\n/img/a.png,0\n/search?q=<script>alert(1)</script>,1\n/about,0\n/../../etc/passwd,1\n/products/42,0\n/cart?id=1%%20union%%20select%%20pw,1\n' >"$WORK/urls.csv"
expect_ok "--text url" "$VIGIL" train --data "$WORK/urls.csv" --text url --model tree -o "$WORK/u.vgm"
"$VIGIL" inspect "$WORK/u.vgm" | grep -q "url.url_length" && pass "URL features are model inputs" || fail "no url.url_length input"
printf 'url\n/x?id=2%%20union%%20select%%20a\n/home\n' >"$WORK/urls2.csv"
expect_ok "predict with --text model" "$VIGIL" predict --model "$WORK/u.vgm" --data "$WORK/urls2.csv"
[[ $(sed -n 2p "$WORK/out" | cut -d, -f3) == 1 && $(sed -n 3p "$WORK/out" | cut -d, -f3) == 0 ]] \
  && pass "injection URL flagged, plain URL not" || fail "--text predictions: $(cat "$WORK/out")"
# A --text model on a file without its text column: every input absent is the
# wrong file, an error, not scores from imputed values.
printf 'path\n/home\n' >"$WORK/nourl.csv"
expect_error "--text column missing" "nourl.csv: [0-9]+ of the model's [0-9]+ input columns are missing \\(url\\.url_" \
  "$VIGIL" predict --model "$WORK/u.vgm" --data "$WORK/nourl.csv"

# A --test file is typed like the training file: a port column with "ssh"
# among the numbers is categorical in training, and the test file's ports,
# all numbers ("080" kept as written), are read as categories too, as eval
# reads them (it stopped with "'port' was read as numbers").
{ echo "port,x,label"; for i in $(seq 30); do echo "080,0.$i,normal"; echo "ssh,0.$i,attack"; echo "22,0.$i,attack"; done; } \
  >"$WORK/ports.csv"
{ echo "port,x,label"; for i in $(seq 10); do echo "080,0.$i,normal"; echo "22,0.$i,attack"; done; } >"$WORK/ports_test.csv"
expect_ok "train --test types the test file like the training file" "$VIGIL" train --data "$WORK/ports.csv" \
  --test "$WORK/ports_test.csv" --model tree --json -o "$WORK/port.vgm"
[[ $(json_get "$WORK/out" accuracy) == 1 ]] && pass "the test file's ports match the training categories" \
  || fail "test accuracy $(json_get "$WORK/out" accuracy)"
expect_ok "compare --test too" "$VIGIL" compare --data "$WORK/ports.csv" --test "$WORK/ports_test.csv" \
  --models tree,logreg
finish
