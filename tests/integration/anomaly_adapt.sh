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

# A restart continues exactly: the stream in two runs (the second with no
# --window/--refresh: the saved ones) alerts on the second half exactly as
# one uninterrupted run did, same lines, same scores.
head -n 3001 "$WORK/stream.csv" >"$WORK/part1.csv"
{ head -n 1 "$WORK/stream.csv"; tail -n +3002 "$WORK/stream.csv"; } >"$WORK/part2.csv"
cp "$WORK/a.vgm" "$WORK/r.vgm"
"$VIGIL" watch --model "$WORK/r.vgm" --adapt --window 1024 --refresh 8 --from-start - <"$WORK/part1.csv" \
  >/dev/null 2>"$WORK/r1.err" || fail "watch part 1: $(tail -2 "$WORK/r1.err")"
"$VIGIL" inspect "$WORK/r.vgm" | grep -q "adapted .*while watching" && pass "inspect says the model holds its learner's memory" \
  || fail "inspect does not show the adapt state"
"$VIGIL" watch --model "$WORK/r.vgm" --adapt --from-start - <"$WORK/part2.csv" \
  >"$WORK/r2.jsonl" 2>"$WORK/r2.err" || fail "watch part 2: $(tail -2 "$WORK/r2.err")"
awk -F'"line":' 'NF > 1 { split($2, a, ","); n = a[1] + 0; if (n >= 3002) { match($0, /"score":[^,}]*/); print n, substr($0, RSTART, RLENGTH) } }' \
  "$WORK/adapt.jsonl" >"$WORK/one.txt"
awk -F'"line":' 'NF > 1 { split($2, a, ","); n = a[1] + 3000; match($0, /"score":[^,}]*/); print n, substr($0, RSTART, RLENGTH) }' \
  "$WORK/r2.jsonl" >"$WORK/two.txt"
n_one=$(wc -l <"$WORK/one.txt")
echo "  second half: $n_one alerts in one run, $(wc -l <"$WORK/two.txt") across a restart"
((n_one >= 40)) && cmp -s "$WORK/one.txt" "$WORK/two.txt" && pass "across a restart: the same alerts with the same scores" \
  || fail "a restart changed the alerts: $(diff "$WORK/one.txt" "$WORK/two.txt" | head -4 | tr '\n' ' ')"
expect_ok "a restart with another --window keeps the newest events" "$VIGIL" watch --model "$WORK/r.vgm" --adapt \
  --window 512 --from-start - <"$WORK/shifted.csv"

# Checkpoints: a watch that is killed (no clean exit) has saved its learner
# every --checkpoint seconds.
cp "$WORK/a.vgm" "$WORK/k.vgm"
head -n 2001 "$WORK/stream.csv" >"$WORK/follow.csv"
"$VIGIL" watch --model "$WORK/k.vgm" --adapt --window 1024 --refresh 8 --checkpoint 0.2 --from-start --quiet \
  "$WORK/follow.csv" 2>"$WORK/k.err" &
kpid=$!
saved=0
for _ in $(seq 100); do
  grep -q "saved the adapted model" "$WORK/k.err" 2>/dev/null && { saved=1; break; }
  sleep 0.1
done
sleep 0.3
kill -9 "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null
((saved)) && pass "a checkpoint saved the model while watching" || fail "no checkpoint: $(tail -2 "$WORK/k.err")"
"$VIGIL" inspect "$WORK/k.vgm" | grep -q "adapted .*while watching" && pass "after kill -9 the file holds the adapted model" \
  || fail "after kill -9: $("$VIGIL" inspect "$WORK/k.vgm" 2>&1 | head -2)"
expect_error "--checkpoint must be a number of seconds" "checkpoint" "$VIGIL" watch --model "$WORK/a.vgm" --adapt \
  --checkpoint soon - </dev/null

expect_ok "train a forest on a labelled CSV" "$VIGIL" train --data "$WORK/train.csv" --model forest \
  --label proto --param n_estimators=5 -o "$WORK/f.vgm"
expect_error "--adapt on a family that cannot learn" "cannot learn while watching" "$VIGIL" watch \
  --model "$WORK/f.vgm" --adapt - </dev/null
expect_error "--adapt with a window below the trees' sample" "window" "$VIGIL" watch --model "$WORK/a.vgm" \
  --adapt --window 100 - </dev/null
finish
