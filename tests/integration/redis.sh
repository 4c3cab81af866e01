# Redis Streams scale-out end to end: ship KDD lines to 2 shards, score them
# with consumers in one group, kill one consumer with SIGKILL while it holds
# delivered-but-unacked events, and check that the survivor claims them and
# that every event is scored exactly once into the alert store (threshold 0:
# every event is an alert; (source, line_no) unique; count = N).
source "$(dirname "$0")/lib.sh"
if ! command -v redis-server >/dev/null 2>&1; then
  fail "redis-server is needed (scripts/setup.sh --test installs it)"
  finish
fi
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
N1=3000
N2=3000
N=$((N1 + N2))

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
RPID=$!
PIDS=()
cleanup() { for p in "${PIDS[@]}" "$RPID"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; [[ -n ${KEEP:-} ]] || rm -rf "$WORK"; }
trap cleanup EXIT
KEEP=${KEEP:-}
R() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }
for _ in $(seq 1 50); do R ping >/dev/null 2>&1 && break; sleep 0.1; done
R ping | grep -q PONG && pass "redis-server on 127.0.0.1:$PORT" || { fail "redis-server did not start"; finish; }

expect_ok "train a tree" "$VIGIL" train --data "$TRAIN" --format kdd --model tree -o "$WORK/tree.vgm"
zcat "$TEST" | head -n $N1 >"$WORK/part1.txt"
zcat "$TEST" | sed -n "$((N1 + 1)),$((N))p" >"$WORK/part2.txt"
truncate -s -1 "$WORK/part2.txt"   # its last line without a newline must be shipped too
URL=redis://127.0.0.1:$PORT/ev
expect_ok "ship part 1 to 2 shards" "$VIGIL" ship --format kdd --redis "$URL" --shards 2 "$WORK/part1.txt"
s0=$(R xlen ev:0); s1=$(R xlen ev:1)
[[ $((s0 + s1)) == "$N1" && $s0 -gt 0 && $s1 -gt 0 ]] && pass "shipped $N1 = $s0 + $s1 over two shards" \
  || fail "shards hold $s0 + $s1, want $N1"

watch() { # NAME SHARD [extra...]
  local name=$1 shard=$2; shift 2
  "$VIGIL" watch --model "$WORK/tree.vgm" "$URL" --group G --consumer "$name" --shard "$shard" --threshold 0 \
    --alerts "$WORK/alerts.db" --quiet -v --stats-every 1 "$@" 2>"$WORK/$name.err" &
  PIDS+=($!)
}
watch a 0 --claim-idle 60000 --block 20000   # a long blocking read to be frozen in
APID=${PIDS[-1]}
watch c 1 --alerts-stream ev:alerts
# Wait until part 1 is consumed, then freeze consumer a inside its blocking read.
for _ in $(seq 1 100); do [[ $(R xpending ev:0 G | head -n1) == 0 && $(R xinfo groups ev:0 | grep -A1 entries-read | tail -n1) == "$s0" ]] && break; sleep 0.1; done
sleep 0.5
kill -STOP "$APID"
expect_ok "ship part 2 (a's blocked read takes some of it)" "$VIGIL" ship --format kdd --redis "$URL" --shards 2 "$WORK/part2.txt"
sleep 0.5
pend_a=$(R xpending ev:0 G - + 100000 a | grep -c -- '-')
kill -9 "$APID"; wait "$APID" 2>/dev/null
((pend_a > 0)) && pass "consumer a killed with $pend_a delivered, unacked events" || fail "a held no pending events"
# The survivor on shard 0: a new consumer b claims a's events once idle 1 s.
watch b 0 --claim-idle 1000

db_count() { /usr/bin/python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute(sys.argv[2]).fetchone())" "$WORK/alerts.db" "$1"; }
for _ in $(seq 1 150); do
  [[ $(db_count "select count(*) from alerts" 2>/dev/null) == "$N" && $(R xpending ev:0 G | head -n1) == 0 ]] && break
  sleep 0.2
done
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do [[ $p == "$APID" ]] && continue; wait "$p" || fail "consumer $p exit $?"; done

total=$(db_count "select count(*) from alerts")
distinct=$(db_count "select count(*) from (select distinct source, line_no from alerts)")
[[ $total == "$N" ]] && pass "alert store holds $N alerts: every event scored" || fail "alerts $total != $N"
[[ $distinct == "$total" ]] && pass "each (source, line_no) once: nothing scored twice" || fail "duplicates: $distinct distinct of $total"
lines_ok=$(db_count "select count(*) from alerts where (source like '%part1.txt' and line_no between 1 and $N1) or (source like '%part2.txt' and line_no between 1 and $N2)")
[[ $lines_ok == "$N" ]] && pass "every line of both files present" || fail "line coverage $lines_ok != $N"
[[ $(R xpending ev:0 G | head -n1) == 0 && $(R xpending ev:1 G | head -n1) == 0 ]] && pass "nothing left pending" \
  || fail "pending left: $(R xpending ev:0 G | head -n1) $(R xpending ev:1 G | head -n1)"
grep -q "claimed [1-9]" "$WORK/b.err" && pass "survivor b claimed: $(grep -o 'claimed [0-9]*' "$WORK/b.err" | tail -n1)" \
  || fail "b did not claim: $(tail -n2 "$WORK/b.err")"
by_c=$(db_count "select count(*) from alerts where line_no > 0") # all
na=$(R xlen ev:alerts)
s1=$(R xlen ev:1)
[[ $na == "$s1" ]] && pass "--alerts-stream: $na alerts XADDed for shard 1" || fail "alerts stream $na != shard 1 $s1"
R xrange ev:alerts - + COUNT 1 | grep -q '"score"' && pass "alerts stream entries are alert JSON" || fail "alerts stream content"

# A server that goes away: the consumer backs off and keeps running.
watch d 1
DPID=${PIDS[-1]}
sleep 0.5
kill -9 "$RPID"; wait "$RPID" 2>/dev/null
sleep 1.5
kill -0 "$DPID" 2>/dev/null && pass "consumer survives the server going away" || fail "consumer died without the server"
kill -TERM "$DPID"; wait "$DPID"; rc=$?
[[ $rc == 0 ]] && pass "SIGTERM while reconnecting: exit 0" || fail "exit $rc after losing the server"
expect_error "ship: redis down gives up after --retry" "gave up" "$VIGIL" ship --format kdd --redis "$URL" --retry 1 "$WORK/part1.txt"
expect_error "ship: csv refused" "csv" "$VIGIL" ship --format csv --redis "$URL" "$WORK/part1.txt"
expect_error "watch: redis without group" "group" "$VIGIL" watch --model "$WORK/tree.vgm" "$URL"
finish
