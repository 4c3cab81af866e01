# End to end on login events: synthetic RBA logs (seed 1 to train, seed 2 to
# test) -> train forest and gbdt with --format login -> eval -> predict, and
# per attack kind the recall (and precision against the normal lines) from
# the predictions and the generator's truth file. Also --task rule-score
# (trains without labels), bad lines reported without stopping, and the
# 9-column reduction of the RBA file scored by a model of the 16-column one
# (and the other way round).
source "$(dirname "$0")/lib.sh"
EVENTS=${VG_LOGIN_EVENTS:-50000}
# Columns are cut with Python's csv module, not cut(1): user agents hold
# quoted commas (cut -d, once left 9 of 10 lines unreadable here).
keep_columns() {  # keep_columns IN OUT COLUMN...
  python3 - "$@" <<'PY'
import csv, sys
src, dst, keep = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(src, newline="") as f, open(dst, "w", newline="") as g:
    w = csv.writer(g, lineterminator="\n")
    w.writerow(keep)
    for row in csv.DictReader(f):
        w.writerow([row[k] for k in keep])
PY
}

expect_ok "synth --help" "$VIGIL" synth --help
grep -q "credential_stuffing" "$WORK/out" && pass "synth help names the attack kinds" || fail "synth help"
expect_ok "synth login seed 1" "$VIGIL" synth --format login --events "$EVENTS" --seed 1 -o "$WORK/train.csv" \
  --truth "$WORK/train.truth"
expect_ok "synth login seed 2" "$VIGIL" synth --format login --events "$EVENTS" --seed 2 -o "$WORK/test.csv" \
  --truth "$WORK/test.truth"
[[ $(wc -l <"$WORK/train.csv") == $((EVENTS + 1)) ]] && pass "$EVENTS events + header" \
  || fail "synth wrote $(wc -l <"$WORK/train.csv") lines"
"$VIGIL" synth --format login --events 2000 --seed 1 >"$WORK/again.csv" 2>/dev/null
"$VIGIL" synth --format login --events 2000 --seed 1 | cmp -s - "$WORK/again.csv" && pass "same seed, same file" \
  || fail "synth is not reproducible"
expect_error "synth unknown format" "not one of login, weblog" "$VIGIL" synth --format nope
expect_error "synth bad fraction" "attack-fraction" "$VIGIL" synth --format login --attack-fraction 2

# Per attack kind (truth lines are file lines, the header is line 1). A
# kind's precision counts its hits against every false alarm on normal lines.
check_model() {  # check_model NAME [--param ...]
  local name=$1; shift
  expect_ok "train $name on login events" "$VIGIL" train --data "$WORK/train.csv" --format login --model "$name" \
    "$@" -o "$WORK/$name.vgm"
  expect_ok "eval $name on seed 2" "$VIGIL" eval --model "$WORK/$name.vgm" --data "$WORK/test.csv" --json
  echo "  $name eval: roc_auc $(json_get "$WORK/out" roc_auc) precision $(json_get "$WORK/out" precision)" \
    "recall $(json_get "$WORK/out" recall)"
  ge "$(json_get "$WORK/out" roc_auc)" 0.97 && pass "$name ROC-AUC >= 0.97" || fail "$name ROC-AUC $(json_get "$WORK/out" roc_auc)"
  expect_ok "predict $name" "$VIGIL" predict --model "$WORK/$name.vgm" --data "$WORK/test.csv" -o "$WORK/$name.pred"
  per_kind "$WORK/test.truth" "$WORK/$name.pred" attack 0
  while read -r kind _ _ recall precision; do
    [[ $kind == all || $kind == normal ]] && continue
    # session_hijack shows only in a user's sequence of events (synth_login.c):
    # per-event models are not held to it (bench/seq_logs.py measures it).
    if [[ $kind == session_hijack ]]; then pass "$name $kind recall $recall (a sequence attack)"; continue; fi
    local floor=0.8
    [[ $kind == account_takeover ]] && floor=0.7
    ge "$recall" "$floor" && pass "$name $kind recall $recall >= $floor" || fail "$name $kind recall $recall < $floor"
    ge "$precision" 0.9 && pass "$name $kind precision $precision >= 0.9" || fail "$name $kind precision $precision"
  done <"$WORK/kinds"
}

check_model forest --param n_estimators=50
check_model gbdt

# Without labels: the rule-based risk score is the label; rule_score itself is
# withheld from the features.
head -n 20001 "$WORK/train.csv" >"$WORK/train20k.csv"
keep_columns "$WORK/train20k.csv" "$WORK/nolabels.csv" index "Login Timestamp" "User ID" "Round-Trip Time [ms]" \
  "IP Address" Country Region City ASN "User Agent String" "Browser Name and Version" "OS Name and Version" \
  "Device Type" "Login Successful"
expect_ok "--task rule-score trains without label columns" "$VIGIL" train --data "$WORK/nolabels.csv" --format login \
  --task rule-score --positive anomalous --model tree --split 0.3 --json -o "$WORK/rule.vgm"
grep -q "not valid login events" "$WORK/err" && fail "lines lost: $(cat "$WORK/err")" || pass "every line read"
grep -q '"classes":\["normal","anomalous"\]' "$WORK/out" && pass "rule-score classes normal/anomalous" \
  || fail "rule-score classes: $(head -c 200 "$WORK/out")"
"$VIGIL" inspect "$WORK/rule.vgm" | grep -q "rule_score" && fail "rule_score leaked into the rule-score model" \
  || pass "rule_score is not a feature of the rule-score model"

# Bad lines are reported and skipped, not fatal.
{ head -n 1000 "$WORK/test.csv"; echo "garbage,line"; printf '1,2020-13-01 00:00:00,u,,1.1.1.1,NO,-,-,1,ua,b,o,d,True,False,False\n'
  sed -n '1001,3000p' "$WORK/test.csv"; } >"$WORK/bad.csv"
expect_ok "predict with bad lines" "$VIGIL" predict --model "$WORK/forest.vgm" --data "$WORK/bad.csv" -o "$WORK/bad.pred"
grep -q "2 of 3002 lines" "$WORK/err" && pass "bad lines counted: $(head -c 200 "$WORK/err")" \
  || fail "bad-line warning: $(cat "$WORK/err")"
[[ $(wc -l <"$WORK/bad.pred") == 3000 ]] && pass "2999 events scored" || fail "scored $(wc -l <"$WORK/bad.pred")"
expect_error "login rejects a non-login CSV" "no header" "$VIGIL" train --format login \
  --data "$SRC/tests/golden/binary.csv" -o "$WORK/x.vgm"

# The 9-column reduction (Login_Data.csv: no index, RTT, ASN, user agent, OS
# or truth) scores with a model of the 16-column file: the features it
# cannot fill are imputed as missing, with one warning naming them, not
# refused as "asn was read as numbers". And the other way round.
NINE=("Login Timestamp" "User ID" "IP Address" "Country" "Region" "City" "Browser Name and Version" "Device Type"
      "Login Successful")
keep_columns "$WORK/test.csv" "$WORK/Login_Data.csv" "${NINE[@]}"
head -n 3001 "$WORK/test.csv" >"$WORK/test3k.csv"
keep_columns "$WORK/test3k.csv" "$WORK/nine_labelled.csv" "${NINE[@]}" "Is Attack IP"
[[ $(head -n 1 "$WORK/Login_Data.csv" | tr ',' '\n' | wc -l) == 9 ]] && pass "Login_Data.csv has 9 columns" \
  || fail "Login_Data.csv header: $(head -n 1 "$WORK/Login_Data.csv")"
imputed_warning() {  # imputed_warning WHAT: one warning line naming the ASN features
  local n; n=$(grep -c "imputed as missing" "$WORK/err")
  if ((n == 1)) && grep -q "asn" "$WORK/err" && grep -q "rtt_ms" "$WORK/err"; then
    pass "$1: one warning naming the imputed columns: $(grep "imputed" "$WORK/err")"
  else
    fail "$1: expected one warning naming asn and rtt_ms, got $n: $(cat "$WORK/err")"
  fi
}
expect_ok "predict the 9-column file with the 16-column model" "$VIGIL" predict --model "$WORK/gbdt.vgm" \
  --data "$WORK/Login_Data.csv" -o "$WORK/nine.pred"
imputed_warning "predict on 9 columns"
[[ $(wc -l <"$WORK/nine.pred") == $((EVENTS + 1)) ]] && pass "every 9-column event scored" \
  || fail "scored $(wc -l <"$WORK/nine.pred") lines"
expect_ok "eval the 9-column file (+ Is Attack IP) with the 16-column model" "$VIGIL" eval \
  --model "$WORK/gbdt.vgm" --data "$WORK/nine_labelled.csv" --json
imputed_warning "eval on 9 columns"
auc=$(json_get "$WORK/out" roc_auc)
ge "$auc" 0.8 && pass "9-column ROC-AUC $auc >= 0.8 (the ASN features are gone)" || fail "9-column ROC-AUC $auc"
expect_ok "train on the 9 columns (+ Is Attack IP)" "$VIGIL" train --data "$WORK/nine_labelled.csv" --format login \
  --model tree -o "$WORK/nine.vgm"
grep -q "not used as features, no value in any training row: .*asn" "$WORK/err" \
  && pass "columns without values left out, said once" || fail "train on 9 columns: $(cat "$WORK/err")"
expect_ok "the 9-column model scores the 16-column file" "$VIGIL" predict --model "$WORK/nine.vgm" \
  --data "$WORK/test3k.csv" -o "$WORK/sixteen.pred"
[[ ! -s "$WORK/err" ]] && pass "no warning: the 16-column file has every input" || fail "warned: $(cat "$WORK/err")"
# A required column missing is still an error, naming it.
keep_columns "$WORK/test3k.csv" "$WORK/nouser.csv" "Login Timestamp" "IP Address" "Country" "Login Successful"
expect_error "a login file without User ID" "nouser.csv:1: .*header lacks the required column 'User ID'" \
  "$VIGIL" predict --model "$WORK/gbdt.vgm" --data "$WORK/nouser.csv" -o "$WORK/x.pred"
finish
