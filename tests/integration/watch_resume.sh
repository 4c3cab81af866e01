# vigil watch --resume: exactly one alert per line across a crash and a
# restart, with the features a run that never stopped would have computed.
# A tree trained on one synthetic web log watches another (seed 2) as it is
# written; the watcher is killed with SIGKILL in the middle of the stream,
# more lines are written while it is down, and a restarted watcher finishes
# the file. The store must then hold each line `vigil predict` flags on the
# whole file exactly once, with predict's score (per-client features need the
# history before the restart, which the restart reads again). Then the file
# is replaced while no watcher runs: the next one reads the new file whole.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read the store"; exit 1; }

expect_ok "synthesize the training log" \
  "$VIGIL" synth --format weblog --events 20000 --seed 1 --truth "$WORK/truth1.csv" -o "$WORK/train.log"
cut -d, -f1 "$WORK/truth1.csv" >"$WORK/labels1.txt"
expect_ok "train a gbdt (50 trees)" "$VIGIL" train --data "$WORK/train.log" --format weblog --labels "$WORK/labels1.txt" \
  --model gbdt --param n_estimators=50 -o "$WORK/web.vgm"
expect_ok "synthesize the watched log" "$VIGIL" synth --format weblog --events 30000 --seed 2 -o "$WORK/all.log"
expect_ok "predict on the whole log" "$VIGIL" predict --model "$WORK/web.vgm" --data "$WORK/all.log" -o "$WORK/pred.csv"
# "line,score" of each flagged line (predict's row is the line: synth writes no bad line).
awk -F, 'NR > 1 && $2 >= 0.5 { print $1 "," $2 }' "$WORK/pred.csv" | sort -t, -k1,1n >"$WORK/want"
want=$(wc -l <"$WORK/want")
((want > 200)) && pass "predict flags $want of 30000 lines" || fail "predict flags only $want lines"

LOG=$WORK/live.log
DB=$WORK/alerts.db
watcher() {  # watcher LOGNAME ARGS...: vigil watch --resume on $LOG in the background; WPID
  local name=$1; shift
  "$VIGIL" watch --model "$WORK/web.vgm" --alerts "$DB" --resume --quiet "$@" "$LOG" 2>"$WORK/$name.err" &
  WPID=$!
}
# store_lines SQL: one value per line from the store.
store() { $PY -c "import sqlite3, sys; [print(*r, sep=',') for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]" "$DB" "$1"; }
# wait_position N: until the store's position for $LOG reaches line N (bounded).
wait_position() {
  local i
  for i in $(seq 1 150); do
    [[ $(store "SELECT line_no FROM watch_positions WHERE path = '$LOG'" 2>/dev/null) == "$1" ]] && return 0
    sleep 0.2
  done
  return 1
}

# ---- a crash in the middle of the stream -------------------------------------
head -n 5000 "$WORK/all.log" >"$LOG"
watcher run1 --from-start
wait_position 5000 || fail "the first watcher did not read the first 5000 lines: $(cat "$WORK/run1.err")"
# Lines 5001..20000 arrive 100 at a time (about 1.5 s in all); SIGKILL
# half a second in, while they are coming.
sed -n '5001,20000p' "$WORK/all.log" >"$WORK/more"
(for k in $(seq 0 149); do sed -n "$((k * 100 + 1)),$((k * 100 + 100))p" "$WORK/more" >>"$LOG"; sleep 0.01; done) &
WRITER=$!
sleep 0.5
kill -KILL $WPID; wait $WPID 2>/dev/null
wait $WRITER
at_kill=$(store "SELECT line_no FROM watch_positions WHERE path = '$LOG'")
stored_at_kill=$(store "SELECT count(*) FROM alerts")
((at_kill > 0 && at_kill < 20000)) && pass "killed mid-stream: position at line $at_kill, $stored_at_kill alerts stored" \
  || fail "the kill did not land mid-stream (position '${at_kill}')"
tail -n +20001 "$WORK/all.log" >>"$LOG"   # written while no watcher runs

watcher run2
grep -q "resuming after line $at_kill" "$WORK/run2.err" 2>/dev/null || sleep 0.5
wait_position 30000 && pass "the restarted watcher reached line 30000" || fail "restart stuck: $(cat "$WORK/run2.err")"
kill -TERM $WPID; wait $WPID; rc=$?
((rc == 0)) && pass "SIGTERM: exit 0" || fail "watch exit $rc"
grep -q "resuming after line $at_kill " "$WORK/run2.err" && pass "it said: $(head -n 1 "$WORK/run2.err")" \
  || fail "no resume message: $(cat "$WORK/run2.err")"

dups=$(store "SELECT count(*) FROM (SELECT line_no FROM alerts GROUP BY source, line_no HAVING count(*) > 1)")
[[ $dups == 0 ]] && pass "no line has two alerts" || fail "$dups lines have more than one alert"
store "SELECT line_no, score FROM alerts" | sort -t, -k1,1n >"$WORK/got"
got=$(wc -l <"$WORK/got")
# Same lines, and scores equal to predict's printed precision (1e-6).
differ=$(paste -d, "$WORK/want" "$WORK/got" |
  awk -F, '$1 != $3 || ($2 - $4 > 1e-6 || $4 - $2 > 1e-6) { n++; if (n <= 3) printf " line %s %s vs %s %s;", $1, $2, $3, $4 }
           END { print n + 0 }' | tail -c 400)
if ((got == want)) && [[ $differ == 0 ]]; then
  pass "the store holds exactly predict's $want flagged lines, with its scores"
else
  fail "store ($got alerts) differs from predict ($want):$differ"
fi

# ---- the file replaced while no watcher runs -----------------------------------
mv "$LOG" "$LOG.1"
head -n 3000 "$WORK/all.log" >"$LOG"
before=$(store "SELECT count(*) FROM alerts")
watcher run3
wait_position 3000 && pass "a replaced file is read from its start (position 3000)" \
  || fail "replaced file: $(cat "$WORK/run3.err")"
kill -TERM $WPID; wait $WPID
grep -q "(replaced or cut since): reading it from its start" "$WORK/run3.err" && pass "it said the file was replaced" \
  || fail "no replacement message: $(cat "$WORK/run3.err")"
new=$(($(store "SELECT count(*) FROM alerts") - before))
want3=$(awk -F, '$1 <= 3000' "$WORK/want" | wc -l)
((new == want3)) && pass "$new alerts for the new file's 3000 lines, as predict flags there" \
  || fail "$new new alerts, predict flags $want3 of lines 1..3000"

expect_error "--resume without --alerts" "--resume needs --alerts" \
  "$VIGIL" watch --model "$WORK/web.vgm" --resume "$LOG"
finish
