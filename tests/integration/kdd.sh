# End to end on NSL-KDD and KDD Cup 99: train, eval, predict, inspect, compare
# through the real binary, checking figures a working detector must reach.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz

# Binary forest, JSON contract.
expect_ok "train forest (binary) on NSL-KDD 20%" \
  "$VIGIL" train --data "$TRAIN" --test "$TEST" --format kdd --task binary --model forest \
  --param n_estimators=30 --seed 1 --json -o "$WORK/forest.vgm"
cp "$WORK/out" "$WORK/train.json"
for key in model task classes rows accuracy precision recall f1 macro_f1 weighted_f1 roc_auc pr_auc \
           confusion_matrix per_class train_seconds predict_seconds; do
  grep -q "\"$key\":" "$WORK/train.json" || fail "--json lacks key $key"
done
[[ $(json_get "$WORK/train.json" rows) == 22544 ]] && pass "evaluated all 22544 KDDTest+ rows" || fail "rows != 22544"
auc=$(json_get "$WORK/train.json" roc_auc)
ge "$auc" 0.90 && pass "forest ROC-AUC $auc >= 0.90" || fail "forest ROC-AUC $auc < 0.90"
acc=$(json_get "$WORK/train.json" accuracy)
ge "$acc" 0.74 && pass "forest accuracy $acc >= 0.74" || fail "forest accuracy $acc < 0.74"

# eval on the saved model reproduces the training-time evaluation exactly.
expect_ok "eval saved forest" "$VIGIL" eval --model "$WORK/forest.vgm" --data "$TEST" --json
[[ $(json_get "$WORK/out" accuracy) == "$acc" ]] && pass "eval accuracy equals train-time accuracy" \
  || fail "eval accuracy $(json_get "$WORK/out" accuracy) != $acc"
expect_ok "eval text report" "$VIGIL" eval --model "$WORK/forest.vgm" --data "$TEST"
grep -q "attack" "$WORK/out" && grep -qi "confusion" "$WORK/out" && pass "text report names classes and the confusion matrix" \
  || fail "text report incomplete: $(head -c 300 "$WORK/out")"

# predict: header, one line per record, scores in [0,1], same across thread counts.
expect_ok "predict" "$VIGIL" predict --model "$WORK/forest.vgm" --data "$TEST" -o "$WORK/pred.csv" --threads 1
expect_ok "predict 2 threads" "$VIGIL" predict --model "$WORK/forest.vgm" --data "$TEST" -o "$WORK/pred2.csv" --threads 2
[[ $(head -n1 "$WORK/pred.csv") == "row,score,prediction" ]] && pass "predict header" || fail "predict header"
[[ $(($(wc -l <"$WORK/pred.csv") - 1)) == 22544 ]] && pass "one prediction per record" || fail "prediction count"
awk -F, 'NR > 1 && ($2 < 0 || $2 > 1 || ($3 != "attack" && $3 != "normal")) { bad = 1 } END { exit bad }' "$WORK/pred.csv" \
  && pass "scores in [0,1], predictions are class names" || fail "bad prediction rows"
cmp -s "$WORK/pred.csv" "$WORK/pred2.csv" && pass "predictions identical for 1 and 2 threads" || fail "thread count changed predictions"

# Records without a label (41 fields) score like labelled ones (42: KDD'99
# style, 43: NSL-KDD); eval on them says there is nothing to evaluate against.
zcat "$TEST" | head -n 2000 >"$WORK/t43.txt"
cut -d, -f1-41 "$WORK/t43.txt" >"$WORK/t41.txt"
cut -d, -f1-42 "$WORK/t43.txt" >"$WORK/t42.txt"
head -n 2001 "$WORK/pred.csv" >"$WORK/pred_head.csv"
for n in 41 42 43; do
  expect_ok "predict $n-field KDD records" "$VIGIL" predict --model "$WORK/forest.vgm" --data "$WORK/t$n.txt" --threads 1 \
    -o "$WORK/pred$n.csv"
  cmp -s "$WORK/pred$n.csv" "$WORK/pred_head.csv" && pass "$n fields: the same predictions as the whole file's first 2000" \
    || fail "$n fields: predictions differ from the labelled file's"
done
expect_error "eval on unlabelled KDD records" "t41.txt: no label column 'label'" \
  "$VIGIL" eval --model "$WORK/forest.vgm" --data "$WORK/t41.txt"

# The same seed gives the same model whatever the thread count.
expect_ok "retrain with 1 thread" "$VIGIL" train --data "$TRAIN" --format kdd --model forest --param n_estimators=30 \
  --seed 1 --threads 1 -o "$WORK/forest1.vgm"
"$VIGIL" predict --model "$WORK/forest1.vgm" --data "$TEST" -o "$WORK/pred1.csv" 2>/dev/null
cmp -s "$WORK/pred.csv" "$WORK/pred1.csv" && pass "training is reproducible across thread counts" \
  || fail "1-thread and default-thread training differ"

# inspect
expect_ok "inspect" "$VIGIL" inspect "$WORK/forest.vgm"
grep -q "forest" "$WORK/out" && grep -q "protocol_type" "$WORK/out" && grep -q "accuracy" "$WORK/out" \
  && pass "inspect shows family, schema and metrics" || fail "inspect output incomplete"

# 5-category logistic regression and a tree.
expect_ok "train logreg (category)" "$VIGIL" train --data "$TRAIN" --test "$TEST" --format kdd --task category \
  --model logreg --json -o "$WORK/lr.vgm"
grep -q '"classes":\["normal","DoS","Probe","R2L","U2R"\]' "$WORK/out" && pass "category classes in order" \
  || fail "category classes: $(head -c 200 "$WORK/out")"
acc=$(json_get "$WORK/out" accuracy)
ge "$acc" 0.70 && pass "logreg 5-class accuracy $acc >= 0.70" || fail "logreg 5-class accuracy $acc"
expect_ok "train tree (label) with split" "$VIGIL" train --data "$TRAIN" --split 0.2 --format kdd --task label \
  --model tree --param max_depth=12 --json -o "$WORK/tree.vgm"
acc=$(json_get "$WORK/out" accuracy)
ge "$acc" 0.95 && pass "tree raw-label accuracy on a split $acc >= 0.95" || fail "tree raw-label accuracy $acc"

# KDDTest+ has attack names unseen in training: --task label counts them.
expect_ok "eval label model on KDDTest+" "$VIGIL" eval --model "$WORK/tree.vgm" --data "$TEST" --json
ex=$(json_get "$WORK/out" excluded_rows)
((ex > 0)) && pass "rows with unseen attack names reported ($ex)" || fail "excluded_rows = $ex"

# KDD Cup 99 labels carry a trailing dot; a 10k-row sample keeps the test quick.
zcat "$SHARED/kdd-cup-1999/corrected.gz" | awk 'NR % 31 == 0' | gzip >"$WORK/kdd99.gz"
expect_ok "predict KDD'99 records with an NSL-KDD model" "$VIGIL" eval --model "$WORK/forest.vgm" --data "$WORK/kdd99.gz"

# compare prints one table row per model.
expect_ok "compare" "$VIGIL" compare --data "$TRAIN" --split 0.25 --format kdd --models logreg,tree,forest \
  --param forest:n_estimators=20
for m in logreg tree forest; do grep -qE "^$m +[01]\.[0-9]+" "$WORK/out" || fail "compare lacks row $m"; done
grep -q "train_acc" "$WORK/out" && pass "compare table" || fail "compare header"
finish
