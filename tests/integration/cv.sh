# vigil cv: stratified, grouped and time-ordered folds through the command,
# the same figures whatever --threads, and clear one-line errors. (What
# each fold fits on is checked in tests/test_cv.c against a pipeline fitted
# by hand on the fold's training rows.)
source "$(dirname "$0")/lib.sh"
SESS=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
[[ -f $SESS && -f $TRAIN ]] || { echo "FAIL: the sessions and NSL-KDD data are needed under $SHARED"; exit 1; }
zcat "$TRAIN" | head -n 6000 >"$WORK/kdd.txt"

# Same seed, 1 and 2 threads: identical figures (timings aside).
for th in 1 2; do
  expect_ok "cv gbdt 5 folds, --threads $th" "$VIGIL" cv --data "$SESS" --label attack_detected \
    --ignore session_id --model gbdt --param n_estimators=60 --threads $th --seed 5 --json
  sed -E 's/"(train|predict)_seconds":[-0-9.eE+]+//g' "$WORK/out" >"$WORK/cv$th.json"
done
if cmp -s "$WORK/cv1.json" "$WORK/cv2.json"; then pass "cv figures identical for 1 and 2 threads"
else fail "cv figures differ between --threads 1 and 2"; fi
grep -q '"folds":5' "$WORK/cv1.json" && grep -q '"folds_kind":"stratified"' "$WORK/cv1.json" &&
  [[ $(grep -o '"test_rows"' "$WORK/cv1.json" | wc -l) == 5 ]] && pass "5 folds reported" || fail "fold count: $(head -c 300 "$WORK/cv1.json")"
auc=$(grep -oE '"mean":\{[^}]*' "$WORK/cv1.json" | grep -oE '"roc_auc":[0-9.]+' | cut -d: -f2)
ge "$auc" 0.85 && pass "sessions gbdt mean ROC-AUC $auc >= 0.85" || fail "sessions gbdt mean ROC-AUC $auc"

# The readable table: every fold, mean and std.
expect_ok "cv table on KDD" "$VIGIL" cv --data "$WORK/kdd.txt" --format kdd --task category --model forest \
  --param n_estimators=20 --folds 3
grep -qE '^accuracy +0\.9[0-9]+ +0\.9[0-9]+ +0\.9[0-9]+ +0\.9[0-9]+ +0\.0[0-9]+$' "$WORK/out" &&
  pass "table: 3 folds, mean and std of accuracy" || fail "table: $(cat "$WORK/out")"

# Grouped: browser_type has 5 values; 3 folds keep each browser on one side.
expect_ok "cv grouped by browser_type" "$VIGIL" cv --data "$SESS" --label attack_detected --ignore session_id \
  --model logreg --folds 3 --group browser_type --json
grep -q '"folds_kind":"grouped"' "$WORK/out" && pass "grouped folds" || fail "grouped: $(head -c 300 "$WORK/out")"

# Time-ordered: a time column (running backwards through the file).
zcat "$SESS" | awk -F, -v OFS=, 'NR == 1 { print "t", $0; next } { print 100000 - NR, $0 }' >"$WORK/timed.csv"
expect_ok "cv time-ordered" "$VIGIL" cv --data "$WORK/timed.csv" --label attack_detected --ignore session_id,t \
  --model logreg --folds 4 --time t --json
rows=$(grep -oE '"train_rows":[0-9]+' "$WORK/out" | cut -d: -f2 | tr '\n' ' ')
read -r a b c d <<<"$rows"
((a < b && b < c && c < d)) && pass "time folds train on growing pasts ($rows)" || fail "time folds train rows: $rows"

expect_error "cv --folds 1" "--folds" "$VIGIL" cv --data "$SESS" --label attack_detected --folds 1
expect_error "cv --group unknown column" "--group: .* has no column 'nope'" "$VIGIL" cv --data "$SESS" \
  --label attack_detected --ignore session_id --group nope
expect_error "cv --group and --time" "--group and --time" "$VIGIL" cv --data "$SESS" --group a --time b
expect_error "cv --split" "do not go with cv" "$VIGIL" cv --data "$SESS" --split 0.2
expect_error "cv too many groups asked" "too few for 9 folds" "$VIGIL" cv --data "$SESS" --label attack_detected \
  --ignore session_id --group browser_type --folds 9
expect_error "cv unknown parameter" "max_dept" "$VIGIL" cv --data "$SESS" --model gbdt --param max_dept=3
finish
