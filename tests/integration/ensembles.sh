# Ensembles and feature selection through the commands: vote, stack,
# adaboost and bagging train, save, predict (with explanations for vote and
# stack), compare --sampler,
# give the same predictions for 1 and 2 threads; --select works in train,
# cv and tune and is applied by predict; bad parts and parameters get one
# line naming them.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }
zcat "$TRAIN" | head -n 6000 >"$WORK/train.txt"
zcat "$TEST" | head -n 2000 >"$WORK/test.txt"

models=("vote:gbdt,forest,logreg" "stack:tree,logreg" adaboost bagging)
params=("--param gbdt.n_estimators=30 --param forest.n_estimators=20 --param weights=2,1,1" "--param cv=3"
        "--param n_estimators=40 --param max_depth=2" "--param estimator=tree --param n_estimators=8")
for i in "${!models[@]}"; do
  m=${models[$i]}
  # shellcheck disable=SC2086
  expect_ok "train $m" "$VIGIL" train --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd --model "$m" \
    ${params[$i]} --json -o "$WORK/m$i.vgm"
  auc=$(json_get "$WORK/out" roc_auc)
  awk -v a="$auc" 'BEGIN { exit !(a > 0.75) }' && pass "$m: ROC-AUC $auc on the test rows" || fail "$m: ROC-AUC $auc"
  for th in 1 2; do
    # shellcheck disable=SC2086
    "$VIGIL" train --data "$WORK/train.txt" --format kdd --model "$m" ${params[$i]} --threads $th \
      -o "$WORK/t$th.vgm" >/dev/null 2>&1
    "$VIGIL" predict --model "$WORK/t$th.vgm" --data "$WORK/test.txt" -o "$WORK/p$th.csv" 2>/dev/null
  done
  cmp -s "$WORK/p1.csv" "$WORK/p2.csv" && pass "$m: the same predictions for 1 and 2 threads" ||
    fail "$m: predictions differ between 1 and 2 threads"
done

for i in 0 1; do
  expect_ok "predict --explain (${models[$i]})" "$VIGIL" predict --model "$WORK/m$i.vgm" --data "$WORK/test.txt" \
    --explain -o "$WORK/explain.csv"
  # raw score = bias + the contributions, each row (explained class: the positive one).
  bad=$(awk -F, 'NR > 1 { s = 0; for (i = 6; i <= NF; i++) s += $i; d = s - $5; if (d < 0) d = -d; if (d > 1e-4) n++ }
                 END { print n + 0 }' "$WORK/explain.csv")
  [[ $bad == 0 ]] && pass "${models[$i]} explanations sum to the raw score on every row" || fail "$bad rows do not sum"
done
# stack's raw score is the final logistic regression's log-odds: the score is its sigmoid.
bad=$(awk -F, 'NR > 1 { d = 1 / (1 + exp(-$5)) - $2; if (d < 0) d = -d; if (d > 1e-5) n++ } END { print n + 0 }' \
      "$WORK/explain.csv")
[[ $bad == 0 ]] && pass "stack: score = sigmoid(summed contributions) on every row" || fail "stack: $bad rows differ"
expect_ok "inspect vote" "$VIGIL" inspect "$WORK/m0.vgm"
grep -q "gbdt.n_estimators=30" "$WORK/out" && grep -q "part 3: logreg" "$WORK/out" &&
  pass "inspect shows the parts and their parameters" || fail "inspect lacks the parts"

expect_ok "train --select 6" "$VIGIL" train --data "$WORK/train.txt" --format kdd --model gbdt \
  --param n_estimators=30 --select 6 --select-by mutual_info -o "$WORK/s.vgm"
expect_ok "predict with the selection" "$VIGIL" predict --model "$WORK/s.vgm" --data "$WORK/test.txt" -o "$WORK/s.csv"
[[ $(wc -l <"$WORK/s.csv") == 2001 ]] && pass "predict scores every row through the saved selection" ||
  fail "predict wrote $(wc -l <"$WORK/s.csv") lines"
"$VIGIL" inspect "$WORK/s.vgm" >"$WORK/out" 2>&1
grep -q "selected: 6 of 41 columns by mutual_info" "$WORK/out" && pass "inspect shows the 6 columns kept" ||
  fail "inspect lacks the selection"
expect_ok "cv --select" "$VIGIL" cv --data "$WORK/train.txt" --format kdd --model forest --param n_estimators=10 \
  --select 5 --folds 3 --json
expect_ok "tune --select" "$VIGIL" tune --data "$WORK/train.txt" --format kdd --model forest --select 5 \
  --grid n_estimators=5,10 --folds 2 -o "$WORK/tu.vgm"

expect_ok "compare --sampler" "$VIGIL" compare --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd \
  --models tree,logreg --param tree:max_depth=4 --sampler random-over --json
[[ $(grep -o '"rows":2000' "$WORK/out" | wc -l) == 2 ]] && pass "compare --sampler: both scored on the 2000 test rows" ||
  fail "compare --sampler: $(grep -o '"rows":[0-9]*' "$WORK/out")"
"$VIGIL" compare --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd --models tree --param max_depth=4 \
  --sampler random-over >"$WORK/c1.txt" 2>&1
"$VIGIL" compare --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd --models tree --param max_depth=4 \
  >"$WORK/c0.txt" 2>&1
[[ $(grep '^tree' "$WORK/c1.txt" | awk '{print $2}') != $(grep '^tree' "$WORK/c0.txt" | awk '{print $2}') ]] &&
  pass "compare --sampler changes the fit (train accuracy $(grep '^tree' "$WORK/c0.txt" | awk '{print $2}') -> $(grep '^tree' "$WORK/c1.txt" | awk '{print $2}'))" ||
  fail "compare --sampler left the fit as it was"
expect_error "compare: unknown sampler" "unknown sampler 'smoke'" "$VIGIL" compare --data "$WORK/train.txt" \
  --format kdd --models tree --sampler smoke
expect_error "compare --model" "--model" "$VIGIL" compare --data "$WORK/train.txt" --format kdd --model tree
expect_error "unknown part" "'nope'" "$VIGIL" train --data "$WORK/train.txt" --format kdd --model vote:gbdt,nope \
  -o "$WORK/x.vgm"
expect_error "vote without parts" "vote:A,B" "$VIGIL" train --data "$WORK/train.txt" --format kdd --model vote \
  -o "$WORK/x.vgm"
expect_error "a part's bad parameter" "max_dept" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --model vote:gbdt,forest --param gbdt.max_dept=3 -o "$WORK/x.vgm"
expect_error "an anomaly part" "anomaly part" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --model stack:gbdt,iforest -o "$WORK/x.vgm"
expect_error "--select too many" "--select" "$VIGIL" train --data "$WORK/train.txt" --format kdd --select 99 \
  -o "$WORK/x.vgm"
expect_error "--select-by unknown" "mutual_info" "$VIGIL" train --data "$WORK/train.txt" --format kdd --select 3 \
  --select-by chi2 -o "$WORK/x.vgm"
expect_error "--select-by alone" "--select" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --select-by importance -o "$WORK/x.vgm"

# Rank voting with an anomaly part (the autoencoder, fitted on the normal rows
# only) and log1p for the one-hot parts: train with a threshold from
# out-of-fold scores, then predict, eval and inspect use the saved model.
rank=(--model vote:gbdt,mlp,autoencoder --param voting=rank --param weights=1,1,2 --param transform=log1p
      --param gbdt.n_estimators=30 --param mlp.max_iter=5 --param autoencoder.max_iter=5)
expect_ok "train voting=rank" "$VIGIL" train --data "$WORK/train.txt" --test "$WORK/test.txt" --format kdd \
  "${rank[@]}" --threshold-by fpr:0.02 --threshold-folds 3 --json -o "$WORK/r.vgm"
auc=$(json_get "$WORK/out" roc_auc)
awk -v a="$auc" 'BEGIN { exit !(a > 0.75) }' && pass "voting=rank: ROC-AUC $auc on the test rows" ||
  fail "voting=rank: ROC-AUC $auc"
expect_ok "inspect voting=rank" "$VIGIL" inspect "$WORK/r.vgm"
grep -q "voting: rank" "$WORK/out" && grep -q "part 3: autoencoder" "$WORK/out" && grep -q "transform=log1p" "$WORK/out" &&
  grep -q "fpr:0.02 on 3-fold" "$WORK/out" && pass "inspect shows rank voting, the autoencoder part and the threshold" ||
  fail "inspect lacks rank voting: $(grep -E 'voting|part 3|threshold' "$WORK/out")"
expect_ok "predict voting=rank" "$VIGIL" predict --model "$WORK/r.vgm" --data "$WORK/test.txt" -o "$WORK/r.csv"
awk -F, 'NR > 1 && ($2 < 0 || $2 > 1) { bad++ } END { exit bad > 0 }' "$WORK/r.csv" && [[ $(wc -l <"$WORK/r.csv") == 2001 ]] &&
  pass "voting=rank scores are ranks in [0, 1], one per row" || fail "voting=rank scores out of [0, 1]"
for th in 1 2; do
  "$VIGIL" train --data "$WORK/train.txt" --format kdd "${rank[@]}" --threads $th -o "$WORK/rt$th.vgm" >/dev/null 2>&1
  "$VIGIL" predict --model "$WORK/rt$th.vgm" --data "$WORK/test.txt" -o "$WORK/rp$th.csv" 2>/dev/null
done
cmp -s "$WORK/rp1.csv" "$WORK/rp2.csv" && pass "voting=rank: the same predictions for 1 and 2 threads" ||
  fail "voting=rank: predictions differ between 1 and 2 threads"
expect_error "anomaly part without rank voting" "voting=rank" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --model vote:gbdt,autoencoder -o "$WORK/x.vgm"
expect_error "rank voting, 5 classes" "binary" "$VIGIL" train --data "$WORK/train.txt" --format kdd --task category \
  --model vote:gbdt,iforest --param voting=rank -o "$WORK/x.vgm"
expect_error "transform unknown" "transform" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --model vote:gbdt,logreg --param transform=sqrt -o "$WORK/x.vgm"
finish
