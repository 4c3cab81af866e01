# lstm and gru through the commands, on event windows:
#  - a login log: each event scored with its user's last events (the log
#    format's entity); `vigil watch` gives every event the same score as
#    `vigil predict` (the windows kept online per user, as predict builds
#    them over the file);
#  - a CSV with --entity and --order, whose label depends on the entity's
#    previous event only: the sequence model learns it, a per-row model
#    cannot; shuffled rows are put back in time order by --order;
#  - predict --explain: the terms of the row's own event and the bias sum
#    to the raw score, and the history carries what the label depends on;
#  - NSL-KDD (no entity): single rows, 5 classes explained;
#  - the errors, one clear line each.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "FAIL: $PY is needed to compare scores"; exit 1; }

expect_ok "synth login (train)" "$VIGIL" synth --format login --events 6000 --seed 11 -o "$WORK/train.csv"
expect_ok "synth login (test)" "$VIGIL" synth --format login --events 3000 --seed 12 -o "$WORK/test.csv"
expect_ok "train lstm on login windows" "$VIGIL" train --data "$WORK/train.csv" --format login --model lstm \
  --param window=4 --param hidden_size=16 --param max_iter=8 --test "$WORK/test.csv" --json -o "$WORK/lstm.vgm"
auc=$(json_get "$WORK/out" roc_auc)
if ge "$auc" 0.9; then pass "lstm held-out ROC-AUC $auc >= 0.9"; else fail "lstm held-out ROC-AUC $auc < 0.9"; fi
expect_ok "inspect" "$VIGIL" inspect "$WORK/lstm.vgm"
grep -q "window: 4 events of" "$WORK/out" && pass "inspect shows the window" || fail "inspect lacks the window"
expect_ok "predict" "$VIGIL" predict --model "$WORK/lstm.vgm" --data "$WORK/test.csv" -o "$WORK/pred.csv"
"$VIGIL" watch --model "$WORK/lstm.vgm" --threshold -1 - <"$WORK/test.csv" >"$WORK/watch.jsonl" 2>"$WORK/watch.err" \
  || fail "watch: $(tail -2 "$WORK/watch.err")"
cmp_scores() {  # predict.csv watch.jsonl: "ok N different D"
  $PY - "$1" "$2" <<'PYEOF'
import csv, json, sys
pred = list(csv.DictReader(open(sys.argv[1])))
watch = {}
for l in open(sys.argv[2]):
    a = json.loads(l)
    watch[a["line"]] = a["score"]
key = "line" if "line" in pred[0] else "row"
diff = sum(watch.get(int(r[key]) + (1 if key == "row" else 0)) != float(r["score"]) for r in pred)
print("ok %d different %d" % (len(pred), diff))
PYEOF
}
read -r _ n _ d < <(cmp_scores "$WORK/pred.csv" "$WORK/watch.jsonl")
if ((n == 3000 && d == 0)); then pass "watch and predict: the same score for all $n events"
else fail "watch and predict: $d of $n scores differ"; fi
# the same model, events scored without their history, gives other scores: the windows matter
"$VIGIL" train --data "$WORK/train.csv" --format login --model lstm --param window=1 --param hidden_size=16 \
  --param max_iter=8 -o "$WORK/one.vgm" >/dev/null 2>&1 || fail "train window=1"
"$VIGIL" inspect "$WORK/one.vgm" | grep -q "single rows" && pass "window=1: single rows" || fail "window=1 inspect"

# CSV: label = 1 when the entity's PREVIOUS event had x > 1 (this row's own x says nothing).
$PY - "$WORK" <<'PYEOF'
import random, sys
random.seed(3)
for name, n in (("tr", 6000), ("te", 3000)):
    last, rows = {}, []
    for t in range(n):
        u = "u%d" % random.randrange(150)
        x, z = random.gauss(0, 1), random.gauss(0, 1)
        y = "attack" if last.get(u, 0.0) > 1.0 else "normal"
        last[u] = x
        rows.append((t * 10 + random.random(), u, x, z, y))
    random.shuffle(rows)   # --order puts them back in time
    with open("%s/%s.csv" % (sys.argv[1], name), "w") as f:
        f.write("t,user,x,z,label\n")
        for r in rows: f.write("%.3f,%s,%.6f,%.6f,%s\n" % r)
    rows.sort()
    with open("%s/%s_sorted.csv" % (sys.argv[1], name), "w") as f:
        f.write("t,user,x,z,label\n")
        for r in rows: f.write("%.3f,%s,%.6f,%.6f,%s\n" % r)
PYEOF
expect_ok "train gru --entity user --order t" "$VIGIL" train --data "$WORK/tr.csv" --test "$WORK/te.csv" \
  --entity user --order t --model gru --param window=3 --param hidden_size=16 --param learning_rate_init=0.01 \
  --param max_iter=30 --json -o "$WORK/gru.vgm"
auc=$(json_get "$WORK/out" roc_auc)
if ge "$auc" 0.97; then pass "gru learns the previous event: held-out ROC-AUC $auc"; else fail "gru ROC-AUC $auc < 0.97"; fi
expect_ok "the same data, one row at a time (mlp)" "$VIGIL" train --data "$WORK/tr.csv" --test "$WORK/te.csv" \
  --ignore user,t --model mlp --json -o "$WORK/mlp.vgm"
auc1=$(json_get "$WORK/out" roc_auc)
if ge 0.7 "$auc1"; then pass "a per-row model cannot: ROC-AUC $auc1"; else fail "mlp ROC-AUC $auc1: the data leaks the label"; fi
expect_ok "predict the CSV" "$VIGIL" predict --model "$WORK/gru.vgm" --data "$WORK/te_sorted.csv" -o "$WORK/cp.csv"
"$VIGIL" watch --model "$WORK/gru.vgm" --threshold -1 - <"$WORK/te_sorted.csv" >"$WORK/cw.jsonl" 2>"$WORK/cw.err" \
  || fail "watch csv: $(tail -2 "$WORK/cw.err")"
read -r _ n _ d < <(cmp_scores "$WORK/cp.csv" "$WORK/cw.jsonl")
if ((n == 3000 && d == 0)); then pass "CSV: watch and predict agree on all $n rows"
else fail "CSV: watch and predict: $d of $n scores differ"; fi

# predict --explain: terms of the row's own event (x, z) and a bias that is the
# score of a blank event after the same history; they sum to raw_score. Here the
# label is in the previous event, so the bias (the history) carries the signal.
expect_ok "predict --explain gru" "$VIGIL" predict --model "$WORK/gru.vgm" --data "$WORK/te_sorted.csv" --explain \
  -o "$WORK/cx.csv"
read -r bad hist own < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "raw_score") r = i; if ($i == "bias") b = i
    if ($i == "contrib_x") x = i; if ($i == "contrib_z") z = i } next }
  { s = 0; for (i = b; i <= NF; i++) s += $i; d = s - $r; if (d < 0) d = -d; if (d > 1e-4) bad++
    n++; sb += $b; sbb += $b * $b; own += ($x < 0 ? -$x : $x) + ($z < 0 ? -$z : $z) }
  END { printf "%d %.4f %.4f\n", bad, sqrt(sbb / n - (sb / n) ^ 2), own / n }' "$WORK/cx.csv")
[[ $(head -n1 "$WORK/cx.csv") == *contrib_x*contrib_z* ]] && pass "explain columns contrib_x, contrib_z" ||
  fail "explain header: $(head -n1 "$WORK/cx.csv")"
((bad == 0)) && pass "gru: bias + contributions == raw_score on every row" || fail "$bad rows do not sum"
ge "$hist" "$own" && pass "the history (bias spread $hist) outweighs the own event (mean |terms| $own)" ||
  fail "history spread $hist < own-event terms $own"

# NSL-KDD has no entity: single rows.
if [[ -f $SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz ]]; then
  zcat "$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz" | head -n 3000 >"$WORK/kdd.txt"
  expect_ok "lstm on NSL-KDD rows" "$VIGIL" train --data "$WORK/kdd.txt" --format kdd --model lstm \
    --param hidden_size=8 --param max_iter=5 --split 0.3 -o "$WORK/kdd.vgm"
  "$VIGIL" inspect "$WORK/kdd.vgm" | grep -q "single rows" && pass "NSL-KDD: single rows" || fail "kdd inspect"
  expect_ok "lstm 5 classes" "$VIGIL" train --data "$WORK/kdd.txt" --format kdd --task category --model lstm \
    --param hidden_size=8 --param max_iter=5 -o "$WORK/kdd5.vgm"
  expect_ok "predict --explain lstm 5 classes" "$VIGIL" predict --model "$WORK/kdd5.vgm" --data "$WORK/kdd.txt" \
    --explain -o "$WORK/k5.csv"
  bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "raw_score") r = i; if ($i == "bias") b = i } next }
    { s = 0; for (i = b; i <= NF; i++) s += $i; d = s - $r; if (d < 0) d = -d; if (d > 1e-4) n++ } END { print n + 0 }' \
    "$WORK/k5.csv")
  ((bad == 0)) && pass "lstm 5 classes: the explained class's terms sum to its logit" || fail "$bad rows do not sum"
fi

expect_error "--entity without the column" "--entity.*no column 'nope'" "$VIGIL" train --data "$WORK/tr.csv" \
  --entity nope --model lstm -o "$WORK/x.vgm"
expect_error "--entity for a per-row family" "scores single rows" "$VIGIL" train --data "$WORK/tr.csv" \
  --entity user --model gbdt -o "$WORK/x.vgm"
expect_error "window out of range" "window" "$VIGIL" train --data "$WORK/tr.csv" --entity user --model lstm \
  --param window=0 -o "$WORK/x.vgm"
expect_error "window for a per-row family" "window" "$VIGIL" train --data "$WORK/tr.csv" --model mlp \
  --param window=4 -o "$WORK/x.vgm"
expect_error "--order not numeric" "order column 'user' is not numeric" "$VIGIL" train --data "$WORK/tr.csv" \
  --entity user --order user --model lstm -o "$WORK/x.vgm"
expect_error "lstm has no hidden_layer_sizes" "hidden_size" "$VIGIL" train --data "$WORK/tr.csv" --model lstm \
  --param hidden_layer_sizes=8 -o "$WORK/x.vgm"
cut -d, -f1,3- "$WORK/te_sorted.csv" >"$WORK/nouser.csv"
expect_error "predict without the entity column" "no entity column 'user'" "$VIGIL" predict --model "$WORK/gru.vgm" \
  --data "$WORK/nouser.csv"
finish
