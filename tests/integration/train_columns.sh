# Which columns training reads and learns from: every feature column gone
# (an error, not a crash), the field separator (detected or --delimiter), id
# columns decided on the training rows after --split, a capped categorical
# said out loud, and a log format's truth columns never used as features.
source "$(dirname "$0")/lib.sh"
SESSIONS=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz
IPLOG=$SHARED/threatlens-iplog/network_log.csv.gz

# No feature column left: one error line (this was a double free, exit 134).
printf 'a,b\n1,0\n2,1\n3,0\n' >"$WORK/ig.csv"
expect_error "train: --ignore leaves no feature" "no feature columns left" \
  "$VIGIL" train --data "$WORK/ig.csv" --ignore a -o "$WORK/x.vgm"
expect_error "compare: --ignore leaves no feature" "no feature columns left" \
  "$VIGIL" compare --data "$WORK/ig.csv" --ignore a --models tree,logreg
printf 'label\n0\n1\n0\n' >"$WORK/one.csv"
expect_error "train: a one-column CSV" "no feature columns left" \
  "$VIGIL" train --data "$WORK/one.csv" -o "$WORK/x.vgm"

# Separators: a TAB, ';' and '|' copy of the sessions table read like the comma one.
zcat "$SESSIONS" >"$WORK/sess.csv"
expect_ok "comma sessions" "$VIGIL" train --data "$WORK/sess.csv" --label attack_detected --split 0.2 \
  --model tree --json -o "$WORK/c.vgm"
comma_acc=$(json_get "$WORK/out" accuracy)
for sep in tab ';' '|'; do
  ch=$sep; [[ $sep == tab ]] && ch=$'\t'
  tr ',' "$ch" <"$WORK/sess.csv" >"$WORK/sess.sep"
  expect_ok "detected separator '$sep'" "$VIGIL" train --data "$WORK/sess.sep" --label attack_detected \
    --split 0.2 --model tree --json -o "$WORK/d.vgm"
  acc=$(json_get "$WORK/out" accuracy)
  [[ $acc == "$comma_acc" ]] && pass "separator '$sep': accuracy $acc as with commas" \
    || fail "separator '$sep': accuracy $acc, commas $comma_acc"
done
expect_ok "--delimiter given" "$VIGIL" train --data "$WORK/sess.sep" --delimiter '|' --label attack_detected \
  --model tree -o "$WORK/d.vgm"
expect_error "--delimiter: a bad value" "--delimiter: 'xy'" \
  "$VIGIL" train --data "$WORK/sess.csv" --delimiter xy -o "$WORK/d.vgm"
printf 'a;b;c\n1;0;x\n2;1;y\n3;0;x\n4;1;y\n' >"$WORK/small.csv"
expect_ok "a small ';' file" "$VIGIL" train --data "$WORK/small.csv" --label b --model tree -o "$WORK/s.vgm"
"$VIGIL" inspect "$WORK/s.vgm" >"$WORK/inspect"
grep -qE "^  c +categorical" "$WORK/inspect" && grep -qE "^  a +numeric" "$WORK/inspect" \
  && pass "';' file: columns a and c are features" || fail "';' file columns: $(cat "$WORK/inspect")"
expect_ok "predict on the ';' file" "$VIGIL" predict --model "$WORK/s.vgm" --data "$WORK/small.csv"

# Ids after --split: decided on the training rows (all distinct there), said so.
expect_ok "sessions with --split, no --ignore" "$VIGIL" train --data "$SESSIONS" --label attack_detected \
  --split 0.2 --model tree -o "$WORK/t.vgm"
grep -q "column 'session_id' looks like an id (all [0-9]* values distinct in the training rows)" "$WORK/err" \
  && pass "session_id dropped after --split" || fail "no id warning after --split: $(cat "$WORK/err")"
"$VIGIL" inspect "$WORK/t.vgm" | grep -q "session_id" && fail "session_id is a feature" \
  || pass "session_id not among the inputs"
# The IP reputation list: its raw IP column made gbdt call every row normal (recall 0).
expect_ok "IP list with --split" "$VIGIL" train --data "$IPLOG" --label STATUS_CONF --positive validated \
  --split 0.2 --model gbdt --json -o "$WORK/ip.vgm"
# The raw address is no feature: the column is found as an IP column and
# replaced by its networks, class and flags (vigil/ipfeat.h).
"$VIGIL" inspect "$WORK/ip.vgm" | grep -qE '^ip columns +IP_INFO$' && pass "IP_INFO read as an IP column, not a raw feature" ||
  fail "IP_INFO not an IP column: $("$VIGIL" inspect "$WORK/ip.vgm" | grep -i ip_info | head -3)"
recall=$(json_get "$WORK/out" recall)
ge "$recall" 0.2 && pass "IP list recall $recall >= 0.2" || fail "IP list recall $recall"

# A categorical column over the category cap: the warning says what became of the rest.
awk 'BEGIN { print "k,n,label"; for (i = 0; i < 3000; i++) print "v" (i % 1500) "," i % 7 "," (i % 2) }' \
  >"$WORK/wide.csv"
expect_ok "1500-category column" "$VIGIL" train --data "$WORK/wide.csv" --model tree -o "$WORK/w.vgm"
grep -q "column 'k': 1500 distinct values in the training rows; the 1000 most frequent are kept" "$WORK/err" \
  && pass "cap of 1000 categories said" || fail "no cap warning: $(cat "$WORK/err")"

# A log format's truth columns are never features, whatever the task.
"$VIGIL" synth --format login --events 3000 --seed 3 -o "$WORK/logins.csv" 2>/dev/null
expect_ok "login regression on rule_score" "$VIGIL" train --data "$WORK/logins.csv" --format login \
  --task regression --label rule_score --model gbdt -o "$WORK/lr.vgm"
"$VIGIL" inspect "$WORK/lr.vgm" | grep -E "^  (label|rule_score) " >"$WORK/leak"
[[ -s $WORK/leak ]] && fail "login regression learns from: $(cat "$WORK/leak")" \
  || pass "login regression: neither label nor rule_score is an input"
expect_ok "login classification" "$VIGIL" train --data "$WORK/logins.csv" --format login --model tree -o "$WORK/lc.vgm"
"$VIGIL" inspect "$WORK/lc.vgm" | grep -qE "^  rule_score " && fail "rule_score is an input of a classifier" \
  || pass "login classification: rule_score is not an input"

# The --test file is read like the training file: its column types are the
# training file's, and a label value training never saw is unseen, not negative.
printf 'a,b,label\n1,x,0\n2,y,1\n3,x,0\n4,y,1\n5,x,0\n6,y,1\n' >"$WORK/tr.csv"
printf 'a,b,label\n1,1,0\n2,2,1\n' >"$WORK/te-numbers.csv"
expect_ok "--test: numbers in a categorical column" "$VIGIL" train --data "$WORK/tr.csv" --test "$WORK/te-numbers.csv" \
  --model tree -o "$WORK/x.vgm"
printf 'a,b,label\n1,x,0\nz,y,1\n' >"$WORK/te-text.csv"
expect_error "--test: text in a numeric column, before training" "te-text.csv:3: column 'a': 'z' is not a number" \
  "$VIGIL" train --data "$WORK/tr.csv" --test "$WORK/te-text.csv" --model tree -o "$WORK/x.vgm"
printf 'a,b,label\n1,x,no\n2,y,yes\n3,x,no\n4,y,1\n' >"$WORK/te-labels.csv"
expect_ok "--test: labels training never saw" "$VIGIL" train --data "$WORK/tr.csv" --test "$WORK/te-labels.csv" \
  --model tree --json -o "$WORK/x.vgm"
[[ $(json_get "$WORK/out" rows) == 1 ]] && pass "yes/no against 0/1: 1 row scored, 3 unseen" \
  || fail "rows scored with unseen labels: $(head -c 300 "$WORK/out")"
printf 'a,b,label\n1,x,no\n2,y,yes\n' >"$WORK/te-none.csv"
expect_error "eval: no label the model knows" "no row has a label the model knows \\(its classes: 0, 1\\)" \
  "$VIGIL" eval --model "$WORK/x.vgm" --data "$WORK/te-none.csv"

exit $((FAILS > 0))
