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
for th in 1 2; do
  expect_ok "tune tpe 12 trials with halving, --threads $th" "$VIGIL" tune "${common[@]}" --search tpe --trials 12 \
    --halving --grid max_depth=2:8 --grid learning_rate=0.02:0.3:log --threads $th -o "$WORK/tpe$th.vgm"
  grep -E '^ +[0-9]' "$WORK/out" | awk '{ print $1, $2, $3, $5, $6, $7, $8 }' >"$WORK/tpe$th"
done
[[ $(wc -l <"$WORK/tpe1") == 12 ]] && pass "12 tpe trials" || fail "tpe trials: $(cat "$WORK/tpe1")"
cmp -s "$WORK/tpe1" "$WORK/tpe2" && pass "tpe with halving: the same trials for 1 and 2 threads" ||
  fail "tpe tables differ between threads: $(diff "$WORK/tpe1" "$WORK/tpe2" | head -4)"
grep -q '\*.* 2 \+9537 ' "$WORK/tpe1" && pass "the best tpe trial reached the last rung (all 9537 rows)" ||
  fail "best not on the last rung: $(grep '\*' "$WORK/tpe1")"
expect_ok "inspect the tpe model" "$VIGIL" inspect "$WORK/tpe1.vgm"
grep -q '"search":.*"tpe"' "$WORK/out" && grep -q '"rungs":.*3' "$WORK/out" && pass "inspect shows the tpe search and its rungs" ||
  fail "inspect lacks the tpe search"
expect_ok "tune with a time budget" "$VIGIL" tune "${common[@]}" --search tpe --trials 500 --grid max_depth=2:8 \
  --time-budget 1.5 -o "$WORK/b.vgm"
n=$(grep -cE '^ +[0-9]' "$WORK/out")
grep -q "stopped by the 1.5 s time budget" "$WORK/out" && (( n >= 1 && n < 500 )) && pass "the budget stopped tpe after $n trials" ||
  fail "time budget: $(head -2 "$WORK/out")"
expect_error "bad --time-budget" "--time-budget" "$VIGIL" tune "${common[@]}" --grid max_depth=2 --time-budget -1 -o "$WORK/x.vgm"
expect_error "no --grid" "--grid" "$VIGIL" tune "${common[@]}" -o "$WORK/x.vgm"
expect_error "bad range" "LO < HI" "$VIGIL" tune "${common[@]}" --grid learning_rate=0.3:0.1 -o "$WORK/x.vgm"
expect_error "unknown metric" "--metric: 'auc'" "$VIGIL" tune "${common[@]}" --grid max_depth=2,3 --metric auc \
  -o "$WORK/x.vgm"
expect_error "out-of-range value" "max_depth" "$VIGIL" tune "${common[@]}" --grid max_depth=-1,3 -o "$WORK/x.vgm"
expect_error "--search" "grid, random or tpe" "$VIGIL" tune "${common[@]}" --grid max_depth=2 --search bayes -o "$WORK/x.vgm"
finish
