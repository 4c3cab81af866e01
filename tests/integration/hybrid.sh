# The hybrid (--param stack_anomaly=A): a supervised model given an anomaly
# model's score as one more column, through every command. Training shows
# three kinds of attack (each far out along one column); the test set holds
# a fourth kind (far out along another), which logreg alone cannot rank
# above normal rows and logreg with the isolation forest's score can.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "FAIL: $PY is needed to write the data"; exit 1; }

$PY - "$WORK" <<'PYEOF'
import random, sys
w = sys.argv[1]
rnd = random.Random(11)
def row(kind):
    x = [rnd.gauss(0, 1) for _ in range(4)]
    if kind == 1: x[0] = rnd.gauss(6, 0.5)
    if kind == 2: x[1] = rnd.gauss(-6, 0.5)
    if kind == 3: x[3] = rnd.gauss(6, 0.5)
    if kind == 4: x[2] = rnd.gauss(-6, 0.5)
    lab = "normal" if kind == 0 else "attack"
    return "%.4f,%.4f,%.4f,%.4f,%s,%s" % (x[0], x[1], x[2], x[3], rnd.choice(["tcp", "udp", "icmp"]), lab)
with open(w + "/train.csv", "w") as f:
    f.write("a,b,c,d,proto,label\n")
    for i in range(4000): f.write(row(1 + i // 50 % 3 if i % 50 == 49 else 0) + "\n")
with open(w + "/test.csv", "w") as f:
    f.write("a,b,c,d,proto,label\n")
    for i in range(1000): f.write(row(4 if i % 10 == 9 else 0) + "\n")
PYEOF

expect_ok "train logreg" "$VIGIL" train --data "$WORK/train.csv" --label label --model logreg -o "$WORK/lr.vgm"
expect_ok "train logreg + iforest score" "$VIGIL" train --data "$WORK/train.csv" --label label --model logreg \
  --param stack_anomaly=iforest --param stack_anomaly.n_estimators=100 -o "$WORK/h.vgm"
"$VIGIL" eval --model "$WORK/lr.vgm" --data "$WORK/test.csv" --json >"$WORK/lr.json" 2>&1
"$VIGIL" eval --model "$WORK/h.vgm" --data "$WORK/test.csv" --json >"$WORK/h.json" 2>&1
a_lr=$(json_get "$WORK/lr.json" roc_auc) a_h=$(json_get "$WORK/h.json" roc_auc)
echo "  ROC-AUC on the unseen kind of attack: logreg $a_lr, logreg + iforest score $a_h"
ge "$a_h" 0.8 && ! ge "$a_lr" 0.7 && pass "the anomaly score finds the kind the labels lacked" \
  || fail "ROC-AUC: logreg $a_lr, hybrid $a_h"
"$VIGIL" inspect "$WORK/h.vgm" >"$WORK/inspect.txt"
grep -q "anomaly score from: iforest" "$WORK/inspect.txt" && grep -q "stack_anomaly.n_estimators=100" "$WORK/inspect.txt" \
  && pass "inspect shows both families and their parameters" || fail "inspect: $(head -c 600 "$WORK/inspect.txt")"

# predict --explain: the fields and the bias add up to the raw score.
expect_ok "predict --explain" "$VIGIL" predict --model "$WORK/h.vgm" --data "$WORK/test.csv" --explain -o "$WORK/p.csv"
bad=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "raw_score") r = i; if ($i == "bias") b = i } next }
  { s = 0; for (i = b; i <= NF; i++) s += $i; d = s - $r; if (d < 0) d = -d; if (d > 1e-3 * (1 + ($r < 0 ? -$r : $r))) n++ }
  END { print n + 0 }' "$WORK/p.csv")
((bad == 0)) && pass "explanations sum to the raw score" || fail "$bad rows whose explanation does not sum to the score"
# The unseen attacks' credit lands on column c: the largest mean
# contribution over those rows (one row's noise in a, b, d, which logreg
# weighs for the kinds it was shown, can outweigh it).
top=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^contrib_/) col[i] = substr($i, 9); next }
  NR % 10 == 1 { for (i in col) sum[i] += $i }
  END { b = ""; for (i in col) if (b == "" || sum[i] > sum[b]) b = i; print col[b] }' "$WORK/p.csv")
[[ $top == c ]] && pass "unseen attacks are explained by their odd column" || fail "largest mean contribution: $top"

# watch and serve decide as predict does.
n_pred=$(awk -F, 'NR > 1 && $3 == "attack"' "$WORK/p.csv" | wc -l)
n_watch=$("$VIGIL" watch --model "$WORK/h.vgm" --from-start - <"$WORK/test.csv" 2>/dev/null | grep -c '^{')
((n_pred == n_watch && n_pred > 0)) && pass "watch alerts on the rows predict flags ($n_watch)" \
  || fail "predict flags $n_pred rows, watch $n_watch"
start_server "$WORK/serve.log" --model "h=$WORK/h.vgm"
if [[ -z $SERVER_URL ]]; then
  fail "server did not start: $(cat "$WORK/serve.log")"
else
  rec=$(sed -n 11p "$WORK/test.csv" | awk -F, '{ printf "{\"a\":%s,\"b\":%s,\"c\":%s,\"d\":%s,\"proto\":\"%s\"}", $1, $2, $3, $4, $5 }')
  got=$(curl -s --max-time 10 -H 'Content-Type: application/json' --data "$rec" "$SERVER_URL/v1/detect?explain=1")
  s_serve=$(printf '%s' "$got" | grep -oE '"score":[0-9.eE+-]+' | head -n1 | cut -d: -f2)
  s_pred=$(awk -F, 'NR == 11 { print $2 }' "$WORK/p.csv")
  awk -v a="$s_serve" -v b="$s_pred" 'BEGIN { d = a - b; exit !(a != "" && (d < 0 ? -d : d) < 1e-5) }' \
    && pass "serve scores a record as predict does ($s_serve)" || fail "serve $got, predict $s_pred"
fi

expect_ok "gbdt + kmeans score (scaled rows for kmeans)" "$VIGIL" train --data "$WORK/train.csv" --label label \
  --model gbdt --param n_estimators=20 --param stack_anomaly=kmeans --param stack_anomaly.n_clusters=4 -o "$WORK/gk.vgm"
expect_ok "eval it" "$VIGIL" eval --model "$WORK/gk.vgm" --data "$WORK/test.csv"
expect_error "stack_anomaly names a supervised family" "stack_anomaly" "$VIGIL" train --data "$WORK/train.csv" \
  --label label --model logreg --param stack_anomaly=gbdt -o "$WORK/x.vgm"
expect_error "an anomaly model under the hybrid" "supervised" "$VIGIL" train --data "$WORK/train.csv" \
  --model iforest --param stack_anomaly=kmeans -o "$WORK/x.vgm"
expect_error "an unknown anomaly parameter is named" "bogus" "$VIGIL" train --data "$WORK/train.csv" --label label \
  --model logreg --param stack_anomaly=lof --param stack_anomaly.bogus=1 -o "$WORK/x.vgm"
finish
