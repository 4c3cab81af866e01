# vigil watch end to end: a KDD tree model follows a growing file through
# appends, a partial line, bad lines, a rotation (rename + new file) and a
# truncation; the alerts on stdout and in the SQLite store must be exactly
# the lines `vigil predict` flags, and SIGTERM must flush and exit 0.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz

expect_ok "train a tree on NSL-KDD 20%" "$VIGIL" train --data "$TRAIN" --format kdd --model tree -o "$WORK/tree.vgm"
zcat "$TEST" | sed -n '1,300p' >"$WORK/A"       # already in the file: not scored
zcat "$TEST" | sed -n '301,1300p' >"$WORK/B"    # appended
zcat "$TEST" | sed -n '1301,1800p' >"$WORK/C"   # the rotated-in file
zcat "$TEST" | sed -n '1801,1900p' >"$WORK/D"   # after the truncation (smaller than C)
LOG=$WORK/app.log
cp "$WORK/A" "$LOG"

"$VIGIL" watch --model "$WORK/tree.vgm" "$LOG" --alerts "$WORK/alerts.db" --max-line 2000 --explain -v \
  --stats-every 1 >"$WORK/watch.out" 2>"$WORK/watch.err" &
WPID=$!
sleep 0.5

# Appends in chunks, one line split in two writes (held until complete).
head -n 400 "$WORK/B" >>"$LOG"; sleep 0.2
sed -n '401p' "$WORK/B" | head -c 30 | tr -d '\n' >>"$LOG"; sleep 0.3
sed -n '401p' "$WORK/B" | tail -c +31 >>"$LOG"
# Bad lines: garbage, binary, too long, wrong field count.
printf 'not,a,kdd,record\n' >>"$LOG"
printf '\x00\x01\x02binary\n' >>"$LOG"
head -c 5000 /dev/zero | tr '\0' 'x' >>"$LOG"; echo >>"$LOG"
sed -n '402,1000p' "$WORK/B" >>"$LOG"; sleep 0.3
# Rotation: the last lines go to the old file after the rename, then a new file.
mv "$LOG" "$LOG.1"
echo "$(sed -n '1000p' "$WORK/B" | cut -d, -f1-20)" >>"$LOG.1"   # one more bad line in the old file
cp "$WORK/C" "$LOG"; sleep 1
# Truncation: the file shrinks below what was read; read again from 0.
: >"$LOG"; sleep 0.5
cat "$WORK/D" >>"$LOG"

cat "$WORK/B" "$WORK/C" "$WORK/D" >"$WORK/scored"
"$VIGIL" predict --model "$WORK/tree.vgm" --data "$WORK/scored" -o "$WORK/pred.csv" || fail "predict"
want=$(awk -F, 'NR > 1 && $2 >= 0.5' "$WORK/pred.csv" | wc -l)

# Wait (bounded) until the store holds them all.
for _ in $(seq 1 100); do
  got=$("$VIGIL" alerts --db "$WORK/alerts.db" --limit 0 --json 2>/dev/null | wc -l)
  [[ $got -ge $want ]] && break
  sleep 0.2
done
kill -TERM $WPID; wait $WPID; rc=$?
[[ $rc == 0 ]] && pass "SIGTERM: flushed and exited 0" || fail "watch exit $rc: $(tail -3 "$WORK/watch.err")"

out=$(grep -c '^{' "$WORK/watch.out")
db=$("$VIGIL" alerts --db "$WORK/alerts.db" --limit 0 --json | wc -l)
# (counts equal to predict's on B, C and D also prove A, there before the start, was skipped)
((want > 100)) && pass "predict flags $want of $(wc -l <"$WORK/scored") lines" || fail "predict flags only $want"
[[ $out == "$want" ]] && pass "stdout has $out alerts = predict's count" || fail "stdout alerts $out != $want"
[[ $db == "$want" ]] && pass "alert store has $db alerts = predict's count" || fail "store alerts $db != $want"
grep -q '"top":\[{"field":' "$WORK/watch.out" && pass "alerts carry the top contributing fields" \
  || fail "no explanations in alerts"
# Line numbers: B's first line is line 301 of app.log; the rotated file starts at 1.
grep -q "\"line\":301," "$WORK/watch.out" || grep -q "\"line\":302," "$WORK/watch.out" \
  && pass "line numbers count the skipped lines" || fail "line numbers"
grep -qE 'bad lines? .*first: .*app\.log:70[0-9]:' "$WORK/watch.err" \
  && pass "bad lines reported with the first one's file and line: $(grep 'bad line' "$WORK/watch.err" | tail -1)" \
  || fail "bad-line report: $(cat "$WORK/watch.err" | tail -3)"
grep -q "4 bad lines (first" "$WORK/watch.err" && pass "4 bad lines counted (garbage, binary, over-long, short)" \
  || fail "bad count: $(grep 'bad line' "$WORK/watch.err" | tail -1)"
grep -q "lines (.*/s), .*RSS" "$WORK/watch.err" && pass "-v prints periodic statistics" || fail "no -v statistics"

# alerts filters and table
expect_ok "alerts table" "$VIGIL" alerts --db "$WORK/alerts.db" --limit 5
[[ $(wc -l <"$WORK/out") == 6 ]] && pass "table: header + 5 rows" || fail "table rows: $(cat "$WORK/out")"
n_http=$("$VIGIL" alerts --db "$WORK/alerts.db" --entity http --limit 0 --json | wc -l)
n_http_out=$(grep -c '"entity":"http"' "$WORK/watch.out")
[[ $n_http == "$n_http_out" ]] && pass "--entity filter ($n_http)" || fail "--entity: $n_http != $n_http_out"
n_hi=$("$VIGIL" alerts --db "$WORK/alerts.db" --min-score 0.99 --since 1h --limit 0 --json | wc -l)
((n_hi > 0 && n_hi <= db)) && pass "--min-score/--since filters ($n_hi)" || fail "--min-score: $n_hi"
expect_error "alerts: bad --since" "since|time" "$VIGIL" alerts --db "$WORK/alerts.db" --since yesterday
expect_error "alerts: not a store" "not a vigil alert store|not a database|file is not" "$VIGIL" alerts --db "$WORK/A"

# stdin, --from-start semantics, threshold 0: every line of A is an alert
"$VIGIL" watch --model "$WORK/tree.vgm" --threshold 0 --quiet --alerts "$WORK/all.db" - <"$WORK/A" 2>"$WORK/err2"
[[ $("$VIGIL" alerts --db "$WORK/all.db" --limit 0 --json | wc -l) == 300 ]] && pass "stdin to its end, threshold 0: 300 alerts" \
  || fail "stdin run: $(cat "$WORK/err2")"
expect_error "watch: missing model" "none.vgm" "$VIGIL" watch --model "$WORK/none.vgm" "$LOG"
expect_error "watch: bad option" "unknown option" "$VIGIL" watch --model "$WORK/tree.vgm" --bogus
finish
