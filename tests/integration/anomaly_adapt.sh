# vigil watch --adapt: an isolation forest that keeps learning on a stream.
# Trained on traffic A, it watches traffic B (every number moved): at first
# B raises alerts; once the window has passed and the trees were regrown on
# B, it stops; a short burst of attacks then still alerts. On exit the
# adapted model replaces the file, so a restart continues from it (B no
# longer alerts without --adapt), while the original model still alerts on
# B. And --adapt on a family that cannot learn is a one-line error.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "FAIL: $PY is needed to write the data"; exit 1; }

$PY - "$WORK" <<'PYEOF'
import random, sys
w = sys.argv[1]
rnd = random.Random(4)
def row(shift, proto):
    a = rnd.gauss(shift, 1)
    return "%.4f,%.4f,%.4f,%s" % (a, a + rnd.gauss(0, 0.1), rnd.gauss(shift, 1), proto)
with open(w + "/train.csv", "w") as f:
    f.write("x,y,z,proto\n")
    for _ in range(3000): f.write(row(0, rnd.choice(["tcp", "udp"])) + "\n")
with open(w + "/stream.csv", "w") as f:
    f.write("x,y,z,proto\n")
    for _ in range(6000): f.write(row(3, rnd.choice(["tcp", "udp"])) + "\n")
    for _ in range(50): f.write("%.4f,%.4f,9.0,icmp\n" % (rnd.gauss(-5, 0.3), 5.0))
with open(w + "/shifted.csv", "w") as f:
    f.write("x,y,z,proto\n")
    for _ in range(1000): f.write(row(3, rnd.choice(["tcp", "udp"])) + "\n")
PYEOF

expect_ok "train iforest on traffic A" "$VIGIL" train --data "$WORK/train.csv" --model iforest \
  --param n_estimators=50 --contamination 0.01 --seed 3 -o "$WORK/a.vgm"
cp "$WORK/a.vgm" "$WORK/adapt.vgm"
"$VIGIL" watch --model "$WORK/adapt.vgm" --adapt --window 1024 --refresh 8 --from-start - <"$WORK/stream.csv" \
  >"$WORK/adapt.jsonl" 2>"$WORK/adapt.err" || fail "watch --adapt: $(tail -2 "$WORK/adapt.err")"
# Lines: 1 is the header, 2..6001 traffic B, 6002..6051 the burst.
read -r early late burst < <(awk -F'"line":' 'NF > 1 { split($2, a, ","); n = a[1] + 0
  if (n >= 2 && n < 302) e++; else if (n >= 5002 && n < 6002) l++; else if (n >= 6002) b++ }
  END { print e + 0, l + 0, b + 0 }' "$WORK/adapt.jsonl")
echo "  alerts: first 300 shifted events $early, events 5000..6000 $late, burst of 50 $burst"
((early >= 150)) && pass "shifted traffic alerts at first ($early of 300)" || fail "shifted traffic: only $early of 300 alerts at first"
((late <= 50)) && pass "after the window it stops ($late of 1000)" || fail "still $late of 1000 alerts after the window"
((burst >= 45)) && pass "the attack burst still alerts ($burst of 50)" || fail "the burst: $burst of 50 alerts"
grep -q "saved the adapted model to $WORK/adapt.vgm" "$WORK/adapt.err" && pass "the adapted model is saved on exit" \
  || fail "no save message: $(tail -3 "$WORK/adapt.err")"
cmp -s "$WORK/a.vgm" "$WORK/adapt.vgm" && fail "the saved model did not change" || pass "the saved model changed"
expect_ok "the adapted model loads" "$VIGIL" inspect "$WORK/adapt.vgm"
n_a=$("$VIGIL" watch --model "$WORK/a.vgm" --from-start - <"$WORK/shifted.csv" 2>/dev/null | grep -c '^{')
n_ad=$("$VIGIL" watch --model "$WORK/adapt.vgm" --from-start - <"$WORK/shifted.csv" 2>/dev/null | grep -c '^{')
echo "  a restart on 1000 more shifted events: original model $n_a alerts, adapted model $n_ad"
((n_a >= 500 && n_ad <= 50)) && pass "a restart continues from the adapted model" \
  || fail "restart: original $n_a, adapted $n_ad alerts of 1000"

expect_ok "train a forest on a labelled CSV" "$VIGIL" train --data "$WORK/train.csv" --model forest \
  --label proto --param n_estimators=5 -o "$WORK/f.vgm"
expect_error "--adapt on a family that cannot learn" "cannot learn while watching" "$VIGIL" watch \
  --model "$WORK/f.vgm" --adapt - </dev/null
expect_error "--adapt with a window below the trees' sample" "window" "$VIGIL" watch --model "$WORK/a.vgm" \
  --adapt --window 100 - </dev/null
finish
