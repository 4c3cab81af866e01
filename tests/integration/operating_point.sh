# train --threshold-by: the threshold is chosen on out-of-fold scores of the
# training rows, saved in the model (inspect says how), the same whether or
# not a --test file is given (so no test row takes part), and used by eval
# and predict through the decision rule.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }
zcat "$TRAIN" | head -n 6000 >"$WORK/train.txt"
zcat "$TEST" | head -n 3000 >"$WORK/test.txt"

expect_ok "train gbdt --threshold-by fpr:0.01 without a test file" "$VIGIL" train --data "$WORK/train.txt" \
  --format kdd --model gbdt --param n_estimators=40 --threshold-by fpr:0.01 -o "$WORK/a.vgm"
expect_ok "the same with --test" "$VIGIL" train --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd \
  --model gbdt --param n_estimators=40 --threshold-by fpr:0.01 --json -o "$WORK/b.vgm"
expect_ok "inspect a" "$VIGIL" inspect "$WORK/a.vgm"
ta=$(grep -oE '[0-9.e-]+ \(fpr:0.01 on 5-fold out-of-fold scores of the 6000 training rows' "$WORK/out" | cut -d' ' -f1)
[[ -n $ta ]] && pass "inspect: threshold $ta chosen by fpr:0.01 on out-of-fold training scores" ||
  fail "inspect lacks the operating point: $(grep -i threshold "$WORK/out")"
"$VIGIL" inspect "$WORK/b.vgm" >"$WORK/ib.txt"
tb=$(grep -oE '[0-9.e-]+ \(fpr:0.01 on 5-fold' "$WORK/ib.txt" | cut -d' ' -f1)
[[ -n $ta && $ta == "$tb" ]] && pass "the same threshold with and without --test ($ta)" ||
  fail "threshold differs with --test: '$ta' vs '$tb'"
fpr=$(grep -oE 'there: fpr [0-9.e-]+' "$WORK/ib.txt" | awk '{ print $3 }')
awk -v f="$fpr" 'BEGIN { exit !(f <= 0.01) }' && pass "out-of-fold fpr $fpr <= 0.01" || fail "out-of-fold fpr $fpr"

expect_ok "eval at the saved threshold" "$VIGIL" eval --model "$WORK/a.vgm" --data "$WORK/test.txt" --json
cp "$WORK/out" "$WORK/at.json"
[[ $(json_get "$WORK/at.json" threshold) == "$ta" ]] || awk -v a="$(json_get "$WORK/at.json" threshold)" -v b="$ta" \
  'BEGIN { exit !(a - b < 1e-6 && b - a < 1e-6) }' && pass "eval uses the saved threshold" ||
  fail "eval threshold $(json_get "$WORK/at.json" threshold) vs saved $ta"
expect_ok "eval at 0.5" "$VIGIL" eval --model "$WORK/a.vgm" --data "$WORK/test.txt" --threshold 0.5 --json
r_at=$(json_get "$WORK/at.json" recall); r_05=$(json_get "$WORK/out" recall)
ge "$r_at" "$r_05" && pass "the low threshold catches more attacks (recall $r_at vs $r_05 at 0.5)" ||
  fail "recall at threshold $r_at < at 0.5 $r_05"
# predict flags exactly the rows with score >= the saved threshold.
expect_ok "predict" "$VIGIL" predict --model "$WORK/a.vgm" --data "$WORK/test.txt" -o "$WORK/p.csv"
tfull=$(json_get "$WORK/at.json" threshold)
bad=$(awk -F, -v t="$tfull" 'NR > 1 && (($2 >= t) != ($3 == "attack")) { n++ } END { print n + 0 }' "$WORK/p.csv")
((bad == 0)) && pass "predict decides at the saved threshold" || fail "$bad predictions disagree with score >= $ta"

expect_ok "cv --threshold-by (nested)" "$VIGIL" cv --data "$WORK/train.txt" --format kdd --model logreg --folds 3 \
  --threshold-by recall:0.99 --json
grep -q '"threshold":0.5[,}]' "$WORK/out" && fail "cv folds scored at 0.5 despite --threshold-by" ||
  pass "cv folds scored at their own chosen thresholds"

expect_error "--threshold and --threshold-by" "give one" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --threshold 0.3 --threshold-by f1 -o "$WORK/x.vgm"
expect_error "bad goal" "--threshold-by 'auc'" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --threshold-by auc -o "$WORK/x.vgm"
expect_error "fpr out of range" "fraction in" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --threshold-by fpr:2 -o "$WORK/x.vgm"
expect_error "regression has no threshold" "regression" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --task regression --label duration --model gbdt --threshold-by f1 -o "$WORK/x.vgm"
finish
