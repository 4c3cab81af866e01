# Bad input gets one clear line naming the file, line or field, a non-zero
# exit and never a crash.
source "$(dirname "$0")/lib.sh"
GOLD=$SRC/tests/golden/binary.csv
"$VIGIL" train --data "$GOLD" --model tree --param max_depth=3 -o "$WORK/m.vgm" >/dev/null 2>&1 \
  || fail "could not train the model the error tests need"

expect_error "missing file" "nope.csv: No such file" "$VIGIL" train --data "$WORK/nope.csv" -o "$WORK/x.vgm"
printf '' >"$WORK/empty.csv"
expect_error "empty file" "empty.csv" "$VIGIL" train --data "$WORK/empty.csv" -o "$WORK/x.vgm"
printf 'a,b,label\n1,2,x\n3,4\n5,6,y\n' >"$WORK/ragged.csv"
expect_error "ragged row" "ragged.csv:3" "$VIGIL" train --data "$WORK/ragged.csv" -o "$WORK/x.vgm"
printf 'a,b,label\n1,2,x\n1,2,x\n1,2,x\n' >"$WORK/oneclass.csv"
expect_error "single-class label" "single class" "$VIGIL" train --data "$WORK/oneclass.csv" --task label -o "$WORK/x.vgm"
expect_error "unknown label column" "no column 'nosuch'" "$VIGIL" train --data "$GOLD" --label nosuch -o "$WORK/x.vgm"
expect_error "unknown ignore column" "no column 'nosuch'" "$VIGIL" train --data "$GOLD" --ignore nosuch -o "$WORK/x.vgm"
expect_error "unknown model" "unknown model 'xgb'" "$VIGIL" train --data "$GOLD" --model xgb -o "$WORK/x.vgm"
expect_error "unknown parameter" "n_trees" "$VIGIL" train --data "$GOLD" --model forest --param n_trees=5 -o "$WORK/x.vgm"
expect_error "out-of-range parameter" "max_depth" "$VIGIL" train --data "$GOLD" --model tree --param max_depth=0 -o "$WORK/x.vgm"
expect_error "bad --split" "--split" "$VIGIL" train --data "$GOLD" --split 2 -o "$WORK/x.vgm"
expect_error "unknown option" "unknown option" "$VIGIL" train --data "$GOLD" --frobnicate -o "$WORK/x.vgm"
expect_error "--test and --split together" "either --test or --split" "$VIGIL" train --data "$GOLD" --test "$GOLD" --split 0.2 -o "$WORK/x.vgm"

# A labels file is a log's: a CSV model's eval refuses it (it once went unread).
expect_error "eval --labels with a CSV model" "--labels goes with a log format" \
  "$VIGIL" eval --model "$WORK/m.vgm" --data "$GOLD" --labels /dev/null

# Over-long line (the reader's limit is 1 MiB).
{ echo "a,label"; head -c 1100000 /dev/zero | tr '\0' '7'; echo ",x"; echo "1,y"; } >"$WORK/long.csv"
expect_error "over-long line" "long.csv:2" "$VIGIL" train --data "$WORK/long.csv" -o "$WORK/x.vgm"

# Text in a numeric column at prediction time names line and field.
{ head -n 3 "$GOLD"; head -n 4 "$GOLD" | tail -n 1 | sed 's/^[^,]*,/abc,/'; } >"$WORK/text.csv"
expect_error "text in numeric field" "text.csv:4.*mean_radius" "$VIGIL" predict --model "$WORK/m.vgm" --data "$WORK/text.csv"
# A feature column missing at prediction time is imputed, with one warning
# naming it; most of them missing is the wrong file, an error.
cut -d, -f2- "$GOLD" >"$WORK/nocol.csv"
expect_ok "missing feature column imputed" "$VIGIL" predict --model "$WORK/m.vgm" --data "$WORK/nocol.csv"
[[ $(wc -l <"$WORK/err") == 1 ]] && grep -q "nocol.csv: imputed as missing in every row: the model's input column mean_radius (not in the file)" "$WORK/err" \
  && pass "one warning names it: $(cat "$WORK/err")" || fail "missing column warning: $(cat "$WORK/err")"
cut -d, -f20- "$GOLD" >"$WORK/fewcols.csv"
expect_error "most feature columns missing" "fewcols.csv: 19 of the model's 30 input columns are missing \(mean_radius, " \
  "$VIGIL" predict --model "$WORK/m.vgm" --data "$WORK/fewcols.csv"

# KDD: a row of 41 fields in a file of 43-field rows, and text in a numeric field.
zcat "$SHARED/nsl-kdd/KDDTest+.txt.gz" | head -n 5 >"$WORK/k.txt"
zcat "$SHARED/nsl-kdd/KDDTest+.txt.gz" | sed -n 6p | cut -d, -f1-41 >>"$WORK/k.txt"
expect_error "KDD row with 41 fields" "k.txt:6" "$VIGIL" train --data "$WORK/k.txt" --format kdd -o "$WORK/x.vgm"
zcat "$SHARED/nsl-kdd/KDDTest+.txt.gz" | head -n 3 | sed '3s/^2,/two,/' >"$WORK/k2.txt"
expect_error "KDD text in numeric field" "k2.txt:3.*duration" "$VIGIL" train --data "$WORK/k2.txt" --format kdd -o "$WORK/x.vgm"

# Model files: truncated, corrupted, newer version, not a model, missing.
size=$(stat -c %s "$WORK/m.vgm")
head -c $((size / 2)) "$WORK/m.vgm" >"$WORK/trunc.vgm"
expect_error "truncated model" "trunc.vgm.*truncated" "$VIGIL" inspect "$WORK/trunc.vgm"
cp "$WORK/m.vgm" "$WORK/corrupt.vgm"
printf '\x55' | dd of="$WORK/corrupt.vgm" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_error "corrupted model" "corrupt.vgm.*corrupted" "$VIGIL" eval --model "$WORK/corrupt.vgm" --data "$GOLD"
cp "$WORK/m.vgm" "$WORK/newer.vgm"
printf '\x09' | dd of="$WORK/newer.vgm" bs=1 seek=8 conv=notrunc 2>/dev/null
expect_error "newer-version model" "newer.vgm.*newer" "$VIGIL" predict --model "$WORK/newer.vgm" --data "$GOLD"
expect_error "not a model" "not a vigil model" "$VIGIL" inspect "$GOLD"
expect_error "missing model" "nope.vgm" "$VIGIL" inspect "$WORK/nope.vgm"

# Small slips of the correctness issue: the --task message names every task,
# -o into a missing folder fails before any training, train --help lists
# every registered model, inspect shows the parameters left at defaults.
expect_error "--task lists rule-score" "binary, category, label, regression, rule-score" \
  "$VIGIL" train --data "$GOLD" --task nonsense -o "$WORK/x.vgm"
start=$(date +%s%N)
expect_error "-o into a missing folder" "the folder '$WORK/no/such' does not exist" \
  "$VIGIL" train --data "$SHARED/nsl-kdd/KDDTrain+.txt.gz" --format kdd --model forest -o "$WORK/no/such/m.vgm"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 1000)) && pass "refused before reading or training (${ms} ms)" || fail "-o checked after work (${ms} ms)"
"$VIGIL" train --help >"$WORK/h"
for m in logreg tree forest gbdt; do
  grep -qE "^  $m " "$WORK/h" || fail "train --help does not list $m"
done
grep -q "logreg, tree or forest" "$WORK/h" && fail "train --help still says 'logreg, tree or forest'" \
  || pass "train --help lists every model"
expect_ok "train a tree with one parameter given" "$VIGIL" train --data "$GOLD" --model tree --param max_depth=3 \
  -o "$WORK/t.vgm"
"$VIGIL" inspect "$WORK/t.vgm" >"$WORK/i"
grep -q "^parameters .*criterion=gini, max_depth=3, min_samples_split=2, min_samples_leaf=1" "$WORK/i" \
  && grep -q "^given  *max_depth=3" "$WORK/i" && pass "inspect shows defaults and what was given" \
  || fail "inspect parameters: $(grep -E '^(parameters|given)' "$WORK/i")"

# Every subcommand has --help.
for c in train eval predict compare inspect; do
  "$VIGIL" "$c" --help >"$WORK/h" 2>&1 && grep -q "usage: vigil $c" "$WORK/h" && pass "$c --help" || fail "$c --help"
done
finish
