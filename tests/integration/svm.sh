#!/usr/bin/env bash
# The svm family through the commands: train (categories one-hot, numbers
# standardised, missing values imputed), eval, predict (with --explain for
# the linear kernel, a clear refusal for rbf), compare, inspect, serve, a
# multiclass model with Platt probabilities, and parameter errors.
source "$(dirname "$0")/lib.sh"
DATA=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz

expect_ok "train svm (rbf) on sessions" "$VIGIL" train --data "$DATA" --split 0.25 --label attack_detected \
  --ignore session_id --model svm --param C=2 --json -o "$WORK/s.vgm"
auc=$(json_get "$WORK/out" roc_auc); acc=$(json_get "$WORK/out" accuracy)
ge "$auc" 0.80 && pass "sessions ROC-AUC $auc >= 0.80" || fail "sessions ROC-AUC $auc"
ge "$acc" 0.80 && pass "sessions accuracy $acc >= 0.80" || fail "sessions accuracy $acc"
"$VIGIL" inspect "$WORK/s.vgm" >"$WORK/inspect" 2>&1
grep -q "support vectors: [0-9]" "$WORK/inspect" && grep -q "kernel=rbf, C=2," "$WORK/inspect" \
  && pass "inspect shows the kernel, C and the support vectors" || fail "inspect: $(head -c 600 "$WORK/inspect")"

zcat "$DATA" | head -n 301 >"$WORK/small.csv"
expect_ok "eval the saved model" "$VIGIL" eval --model "$WORK/s.vgm" --data "$WORK/small.csv" --json
[[ $(json_get "$WORK/out" rows) == 300 ]] && pass "eval: 300 rows" || fail "eval rows $(json_get "$WORK/out" rows)"
expect_ok "predict" "$VIGIL" predict --model "$WORK/s.vgm" --data "$WORK/small.csv" -o "$WORK/pred.csv"
[[ $(wc -l <"$WORK/pred.csv") == 301 && $(head -n1 "$WORK/pred.csv") == row,score,prediction* ]] \
  && pass "300 predictions with a header" || fail "predictions: $(head -n3 "$WORK/pred.csv")"
expect_error "no --explain for an rbf kernel" "cannot explain" \
  "$VIGIL" predict --model "$WORK/s.vgm" --data "$WORK/small.csv" --explain

# The linear kernel explains exactly: the terms and the bias sum to the
# decision value, whose logistic is the score.
expect_ok "train svm (linear)" "$VIGIL" train --data "$DATA" --label attack_detected --ignore session_id \
  --model svm --param kernel=linear --param C=0.1 -o "$WORK/l.vgm"
expect_ok "predict --explain (linear)" "$VIGIL" predict --model "$WORK/l.vgm" --data "$WORK/small.csv" --explain \
  -o "$WORK/ex.csv"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "score") s = i; if ($i ~ /^contrib|bias/) c[i] = 1 }; next }
  { z = 0; for (i in c) z += $i; p = 1 / (1 + exp(-z)); d = p - $s; if (d < 0) d = -d; if (d > m) m = d }
  END { exit !(length(c) > 1 && m < 1e-4) }' "$WORK/ex.csv" \
  && pass "linear explanation sums to the score's log-odds" || fail "explanation: $(head -n2 "$WORK/ex.csv")"

expect_ok "compare svm with logreg" "$VIGIL" compare --data "$DATA" --split 0.25 --label attack_detected \
  --ignore session_id --models svm,logreg
grep -q "^ *svm" "$WORK/out" && pass "svm in the compare table" || fail "compare: $(head -c 600 "$WORK/out")"

# Multiclass with Platt probabilities (one-vs-one, pairwise coupling).
expect_ok "multiclass svm, probability=true" "$VIGIL" train --data "$SRC/tests/golden/multiclass.csv" \
  --task label --model svm --param probability=true --split 0.3 --json -o "$WORK/m.vgm"
acc=$(json_get "$WORK/out" accuracy)
ge "$acc" 0.9 && pass "wine accuracy $acc >= 0.9" || fail "wine accuracy $acc"
"$VIGIL" inspect "$WORK/m.vgm" | grep -q "probabilities: Platt" && pass "Platt probabilities saved" \
  || fail "no Platt probabilities in inspect"

# The server scores one record as predict does.
start_server "$WORK/serve.log" --model "$WORK/s.vgm"
if [[ -n $SERVER_URL ]]; then
  rec='{"network_packet_size":599,"protocol_type":"TCP","login_attempts":4,"session_duration":492.9832634426563,"encryption_used":"DES","ip_reputation_score":0.606818080396889,"failed_logins":1,"browser_type":"Edge","unusual_time_access":0}'
  body=$(curl -s -X POST -H 'Content-Type: application/json' -d "$rec" "$SERVER_URL/v1/detect")
  want=$(sed -n 2p "$WORK/pred.csv" | cut -d, -f2)
  got=$(echo "$body" | grep -oE '"score":[-0-9.eE+]+' | cut -d: -f2)
  [[ -n $got ]] && awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-6) }' \
    && pass "serve: score $got = predict's $want" || fail "serve: $body (predict $want)"
else
  fail "server did not start: $(cat "$WORK/serve.log")"
fi

expect_error "unknown kernel" "parameter kernel: 'gauss'" "$VIGIL" train --data "$DATA" --label attack_detected \
  --model svm --param kernel=gauss -o "$WORK/x.vgm"
expect_error "C out of range" "parameter C: -1 is out of range: must be > 0" "$VIGIL" train --data "$DATA" --label attack_detected \
  --model svm --param C=-1 -o "$WORK/x.vgm"
expect_error "not an svm parameter" "parameter nu: not a parameter of model 'svm'" "$VIGIL" train --data "$DATA" \
  --label attack_detected --model svm --param nu=0.5 -o "$WORK/x.vgm"
finish
