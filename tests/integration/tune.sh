# vigil tune: a grid over two parameters by 3-fold cv, the best refitted and
# saved with the search (inspect shows it), the same table for 1 and 2
# threads, and one-line errors.
source "$(dirname "$0")/lib.sh"
SESS=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz
[[ -f $SESS ]] || { echo "FAIL: the sessions data is needed under $SHARED"; exit 1; }
common=(--data "$SESS" --label attack_detected --ignore session_id --model gbdt --folds 3)
for th in 1 2; do
  expect_ok "tune grid 2 x 2, --threads $th" "$VIGIL" tune "${common[@]}" --grid max_depth=2,5 \
    --grid n_estimators=20,60 --threads $th -o "$WORK/t$th.vgm"
  grep -E '^ +[0-9]' "$WORK/out" | awk '{ print $1, $2, $3, $5, $6 }' >"$WORK/table$th"
done
[[ $(wc -l <"$WORK/table1") == 4 ]] && pass "4 trials" || fail "trials: $(cat "$WORK/table1")"
cmp -s "$WORK/table1" "$WORK/table2" && pass "the same trials and scores for 1 and 2 threads" ||
  fail "tables differ between threads"
best=$(grep '\*' "$WORK/table1" | awk '{ print $4, $5 }')
expect_ok "inspect the tuned model" "$VIGIL" inspect "$WORK/t1.vgm"
grep -q '"search"' "$WORK/out" && grep -q '"metric":.*"roc_auc"' "$WORK/out" && pass "inspect shows the search" ||
  fail "inspect lacks the search"
d=${best%% *}; d=${d#*=}
grep -qE "max_depth=$d\b" "$WORK/out" && pass "the saved model has the best trial's parameters ($best)" ||
  fail "saved parameters differ from the best trial ($best): $(grep -i max_depth "$WORK/out" | head -2)"
expect_ok "tune random with a log range, --json" "$VIGIL" tune "${common[@]}" --grid learning_rate=0.03:0.3:log \
  --search random --trials 3 --metric recall_at_fpr:0.05 --json -o "$WORK/r.vgm"
[[ $(grep -o '"params"' "$WORK/out" | wc -l) == 3 ]] && pass "3 random trials in JSON" || fail "json: $(head -c 300 "$WORK/out")"
expect_error "no --grid" "--grid" "$VIGIL" tune "${common[@]}" -o "$WORK/x.vgm"
expect_error "bad range" "LO < HI" "$VIGIL" tune "${common[@]}" --grid learning_rate=0.3:0.1 -o "$WORK/x.vgm"
expect_error "unknown metric" "--metric: 'auc'" "$VIGIL" tune "${common[@]}" --grid max_depth=2,3 --metric auc \
  -o "$WORK/x.vgm"
expect_error "out-of-range value" "max_depth" "$VIGIL" tune "${common[@]}" --grid max_depth=-1,3 -o "$WORK/x.vgm"
expect_error "--search" "grid, random or tpe" "$VIGIL" tune "${common[@]}" --grid max_depth=2 --search bayes -o "$WORK/x.vgm"
finish
