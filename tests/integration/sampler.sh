# --sampler through the commands: train and cv resample the training rows
# only (cv's folds are scored on all their held-out rows, none made up),
# the same result for 1 and 2 threads, and one-line errors.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
[[ -f $TRAIN && -f $TEST ]] || { echo "FAIL: NSL-KDD is needed under $SHARED/nsl-kdd"; exit 1; }
zcat "$TRAIN" | head -n 8000 >"$WORK/train.txt"
zcat "$TEST" | head -n 3000 >"$WORK/test.txt"

for s in smote borderline-smote adasyn random-over random-under; do
  expect_ok "train category gbdt --sampler $s" "$VIGIL" train --data "$WORK/train.txt" --test "$WORK/test.txt" \
    --format kdd --task category --model gbdt --param n_estimators=30 --sampler $s --json -o "$WORK/$s.vgm"
  rows=$(json_get "$WORK/out" rows)
  [[ $rows == 3000 ]] && pass "$s: evaluated on the 3000 test rows as they are" || fail "$s: evaluated rows $rows"
done
for th in 1 2; do
  "$VIGIL" train --data "$WORK/train.txt" --format kdd --task category --model forest --param n_estimators=10 \
    --sampler smote --sampler-param k_neighbors=3 --threads $th -o "$WORK/t$th.vgm" >/dev/null 2>&1
  "$VIGIL" predict --model "$WORK/t$th.vgm" --data "$WORK/test.txt" -o "$WORK/p$th.csv" 2>/dev/null
done
cmp -s "$WORK/p1.csv" "$WORK/p2.csv" && pass "smote + forest: the same predictions for 1 and 2 threads" ||
  fail "smote + forest: predictions differ between 1 and 2 threads"

expect_ok "cv --sampler smote" "$VIGIL" cv --data "$WORK/train.txt" --format kdd --task category --model gbdt \
  --param n_estimators=30 --sampler smote --folds 4 --json
sum=$(grep -oE '"test_rows":[0-9]+' "$WORK/out" | cut -d: -f2 | paste -sd+ | bc)
[[ $sum == 8000 ]] && pass "cv scores the 8000 real rows, once each" || fail "cv test rows add up to $sum"

# The sampler is recorded in the model: name, parameters, rows before and after.
expect_ok "train binary tree --sampler random-under" "$VIGIL" train --data "$WORK/train.txt" --format kdd --task binary \
  --model tree --param max_depth=3 --sampler random-under --sampler-param sampling_strategy=1 -o "$WORK/s.vgm"
expect_ok "inspect the sampled model" "$VIGIL" inspect "$WORK/s.vgm"
normal=$(cut -d, -f42 "$WORK/train.txt" | grep -cx normal); attack=$((8000 - normal)); minority=$(( normal < attack ? normal : attack ))
majority=$(( normal < attack ? attack : normal )); after=$(( 2 * minority ))
grep -qE "^sampler +random-under \(sampling_strategy=1\) on the training rows: 8000 -> $after rows" "$WORK/out" &&
  pass "inspect shows the sampler, its parameter and 8000 -> $after rows" ||
  fail "inspect's sampler line: $(grep -i sampler "$WORK/out") (wanted 8000 -> $after)"
grep -qE ": $majority -> $minority\b" "$WORK/out" && pass "and the majority class $majority -> $minority" ||
  fail "per-class counts: $(grep -i sampler "$WORK/out")"
"$VIGIL" train --data "$WORK/train.txt" --format kdd --model tree --param max_depth=3 -o "$WORK/ns.vgm" >/dev/null
expect_ok "inspect a model without a sampler" "$VIGIL" inspect "$WORK/ns.vgm"
grep -q '^sampler' "$WORK/out" && fail "a sampler line without a sampler" || pass "no sampler line without a sampler"

expect_error "unknown sampler" "unknown sampler 'smoke'" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --sampler smoke -o "$WORK/x.vgm"
expect_error "unknown sampler parameter" "k_neighbours" "$VIGIL" train --data "$WORK/train.txt" --format kdd \
  --sampler smote --sampler-param k_neighbours=3 -o "$WORK/x.vgm"
expect_error "sampling_strategy out of range" "sampling_strategy" "$VIGIL" cv --data "$WORK/train.txt" --format kdd \
  --sampler random-under --sampler-param sampling_strategy=2
expect_error "regression" "regression" "$VIGIL" train --data "$WORK/train.txt" --format kdd --task regression \
  --label duration --model gbdt --sampler smote -o "$WORK/x.vgm"
finish
