# End to end on login events: synthetic RBA logs (seed 1 to train, seed 2 to
# test) -> train forest and gbdt with --format login -> eval -> predict, and
# per attack kind the recall (and precision against the normal lines) from
# the predictions and the generator's truth file. Also --task rule-score
# (trains without labels) and bad lines reported without stopping.
source "$(dirname "$0")/lib.sh"
EVENTS=${VG_LOGIN_EVENTS:-50000}

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
cut -d, -f1-14 "$WORK/train.csv" | head -n 20001 >"$WORK/nolabels.csv"
expect_ok "--task rule-score trains without label columns" "$VIGIL" train --data "$WORK/nolabels.csv" --format login \
  --task rule-score --positive anomalous --model tree --split 0.3 --json -o "$WORK/rule.vgm"
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
finish
