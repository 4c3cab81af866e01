# vigil watch keeps its per-entity state bounded, and watches CSV models.
# (1) A weblog model watches 400,000 requests from 400,000 distinct client
#     IPs with --max-entities 1000: the -v statistics must never show more
#     than 1000 entities, the state bytes must not grow past the bound, and
#     RSS must end within a few MiB of a run 20 times shorter; a control run
#     without the small bound shows the same input would grow the state, and
#     --entity-ttl alone keeps only the recently active clients.
# (2) A gradient-boosting model trained on a CSV (the cyber-intrusion sessions
#     data) watches a CSV file with a header line: the alerts must be exactly
#     the rows `vigil predict` scores at 0.5 or more, with the same scores,
#     also when the watched file's columns come in another order.
source "$(dirname "$0")/lib.sh"
SESSIONS=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz

# ---- (1) bounded state ------------------------------------------------------
expect_ok "synthesize a labelled weblog" \
  "$VIGIL" synth --format weblog --events 4000 --seed 5 --truth "$WORK/truth.csv" -o "$WORK/train.log"
cut -d, -f1 "$WORK/truth.csv" >"$WORK/labels.txt"
expect_ok "train a tree on it" \
  "$VIGIL" train --data "$WORK/train.log" --format weblog --labels "$WORK/labels.txt" --model tree -o "$WORK/web.vgm"

# N requests, each from a new client IP (10.a.b.c), five per second of event
# time: 400,000 lines span under a day, so the default one-week TTL never
# fires and every entity that leaves the state was evicted by the bound.
requests() {
  awk -v n="$1" 'BEGIN {
    for (i = 0; i < n; i++) {
      t = int(i / 5)
      printf "10.%d.%d.%d - - [%02d/Jan/2026:%02d:%02d:%02d +0000] \"GET /p%d.html HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\"\n",
        int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1 + int(t / 86400), int(t / 3600) % 24,
        int(t / 60) % 60, t % 60, i % 50, 1000 + i % 977
    }
  }'
}

# watch_stream NAME N ARGS...: stream N requests through watch -v; the
# statistics lines go to $WORK/NAME.err.
watch_stream() {
  local name=$1 n=$2; shift 2
  requests "$n" | "$VIGIL" watch --model "$WORK/web.vgm" --quiet -v --stats-every 0.05 "$@" - \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  ((rc == 0)) || fail "$name: watch exit $rc: $(tail -n 3 "$WORK/$name.err")"
}

# stat NAME FIELD: FIELD of the last statistics line (lines, entities,
# state_kib, evicted, expired, held_kib, rss_kib); statmax NAME FIELD: its
# largest value.
stats_table() {
  sed -nE 's/^vigil watch: ([0-9]+) lines .* ([0-9]+) entities \(([0-9]+) KiB state, ([0-9]+) evicted, ([0-9]+) expired\), ([0-9]+) KiB held, RSS ([0-9]+) KiB$/\1 \2 \3 \4 \5 \6 \7/p' \
    "$WORK/$1.err"
}
col_of() {
  case $1 in
    lines) echo 1 ;; entities) echo 2 ;; state_kib) echo 3 ;; evicted) echo 4 ;; expired) echo 5 ;;
    held_kib) echo 6 ;; rss_kib) echo 7 ;;
  esac
}
# notices NAME: how many times the run said the state is full.
notices() { grep -c 'per-entity state is full at' "$WORK/$1.err"; }
stat() { stats_table "$1" | tail -n 1 | cut -d' ' -f"$(col_of "$2")"; }
statmax() { stats_table "$1" | cut -d' ' -f"$(col_of "$2")" | sort -n | tail -n 1; }

watch_stream short 20000 --max-entities 1000
watch_stream long 400000 --max-entities 1000
for run in short long; do
  [[ -n $(stat $run lines) ]] || fail "$run: no statistics line in: $(head -c 300 "$WORK/$run.err")"
done
if [[ -n $(stat long lines) && -n $(stat short lines) ]]; then
  [[ $(stat long lines) == 400000 ]] && pass "long run read all 400000 lines" || fail "long run read $(stat long lines)"
  n_stats=$(stats_table long | wc -l)
  max_ent=$(statmax long entities)
  ((max_ent == 1000)) && pass "entities never above --max-entities 1000 in $n_stats statistics lines" \
    || fail "entities reached $max_ent (bound 1000)"
  # 400,000 distinct clients seen, 1000 held: the rest were evicted by the
  # bound (none expired), and the run said so once.
  [[ $(stat long evicted) == 399000 && $(stat long expired) == 0 ]] \
    && pass "399000 of 400000 distinct clients evicted, none expired" \
    || fail "evicted $(stat long evicted), expired $(stat long expired) (want 399000 and 0)"
  [[ $(notices long) == 1 ]] && pass "the state-full notice came once" \
    || fail "the state-full notice came $(notices long) times"
  [[ $(statmax long state_kib) == "$(stat short state_kib)" ]] \
    && pass "state stays at $(stat short state_kib) KiB from 20,000 to 400,000 clients" \
    || fail "state grew: $(stat short state_kib) KiB after 20,000 clients, up to $(statmax long state_kib) KiB after 400,000"
  held_growth=$(($(statmax long held_kib) - $(stat short held_kib)))
  rss_growth=$(($(statmax long rss_kib) - $(stat short rss_kib)))
  ((held_growth <= 1024)) && pass "counted memory grew $held_growth KiB (bound 1024) over 20x the input" \
    || fail "counted memory grew $held_growth KiB: $(stat short held_kib) -> $(statmax long held_kib)"
  ((rss_growth <= 8192)) && pass "RSS grew $rss_growth KiB (bound 8192): $(stat short rss_kib) -> $(statmax long rss_kib) KiB" \
    || fail "RSS grew $rss_growth KiB: $(stat short rss_kib) -> $(statmax long rss_kib) KiB"
fi

# Control: the same kind of input without the small bound does grow, so the
# checks above would catch a bound that was not applied.
watch_stream control 50000 --max-entities 1000000
if [[ -n $(stat control lines) && -n $(stat short state_kib) ]]; then
  ((($(stat control entities) == 50000) && ($(stat control state_kib) > 10 * $(stat short state_kib)) &&
    ($(stat control evicted) == 0) && ($(notices control) == 0))) \
    && pass "control: unbounded, 50000 clients hold $(stat control state_kib) KiB of state" \
    || fail "control: $(stat control entities) entities, $(stat control state_kib) KiB state, $(stat control evicted) evicted"
fi

# TTL alone: at five new clients per second of event time and a 60 s TTL,
# about 300 clients are alive at any time.
watch_stream ttl 50000 --max-entities 100000 --entity-ttl 60
if [[ -n $(stat ttl lines) ]]; then
  ent=$(stat ttl entities)
  ((ent >= 250 && ent <= 310 && $(statmax ttl entities) <= 310)) \
    && pass "--entity-ttl 60: $ent clients held at the end (at most $(statmax ttl entities)) of 50000" \
    || fail "--entity-ttl 60: $ent entities at the end, at most $(statmax ttl entities)"
  (($(stat ttl expired) == 50000 - ent && $(stat ttl evicted) == 0)) \
    && pass "--entity-ttl 60: the other $(stat ttl expired) expired, none evicted" \
    || fail "--entity-ttl 60: $(stat ttl expired) expired, $(stat ttl evicted) evicted (want $((50000 - ent)) and 0)"
fi

# ---- (2) a CSV model watching a CSV file ------------------------------------
if [[ ! -f $SESSIONS ]]; then
  fail "missing $SESSIONS"
  finish
fi
zcat "$SESSIONS" | head -n 6001 >"$WORK/sessions_train.csv"
{ zcat "$SESSIONS" | head -n 1; zcat "$SESSIONS" | tail -n +6002; } >"$WORK/sessions_test.csv"
expect_ok "train gbdt on 6000 sessions (CSV)" \
  "$VIGIL" train --data "$WORK/sessions_train.csv" --label attack_detected --ignore session_id --model gbdt \
  -o "$WORK/sessions.vgm"
expect_ok "predict the other 3537" \
  "$VIGIL" predict --model "$WORK/sessions.vgm" --data "$WORK/sessions_test.csv" -o "$WORK/pred.csv"
# Rows predict scores at 0.5 or more, as "file line,score" (row 1 is line 2).
awk -F, 'NR > 1 && $2 >= 0.5 { printf "%d,%.4f\n", $1 + 1, $2 }' "$WORK/pred.csv" | sort -t, -k1,1n >"$WORK/want"
want=$(wc -l <"$WORK/want")
((want > 100)) && pass "predict flags $want of 3537 sessions" || fail "predict flags only $want sessions"

# alerts FILE: "line,score" of each JSON alert line.
alerts() {
  sed -nE 's/.*"line":([0-9]+),.*"score":([-0-9.eE+]+).*/\1 \2/p' "$1" | awk '{ printf "%d,%.4f\n", $1, $2 }' \
    | sort -t, -k1,1n
}

# watch_file NAME FILE: watch FILE from its start (header line included)
# until the statistics (stderr, unbuffered, unlike the alerts on stdout) say
# every line was read, then SIGTERM, which flushes the alerts.
watch_file() {
  local name=$1 file=$2 total
  total=$(wc -l <"$file")
  "$VIGIL" watch --model "$WORK/sessions.vgm" --from-start -v --stats-every 0.1 "$file" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  for _ in $(seq 1 300); do
    [[ $(stat "$name" lines) -ge $total ]] 2>/dev/null && break
    sleep 0.1
  done
  kill -TERM $pid
  wait $pid
  local rc=$?
  ((rc == 0)) && pass "$name: SIGTERM exits 0" || fail "$name: watch exit $rc: $(tail -n 3 "$WORK/$name.err")"
  alerts "$WORK/$name.out" >"$WORK/$name.got"
  if cmp -s "$WORK/want" "$WORK/$name.got"; then
    pass "$name: $want alerts, the same lines and scores as predict"
  else
    fail "$name: alerts differ from predict ($(wc -l <"$WORK/$name.got") vs $want): $(diff "$WORK/want" "$WORK/$name.got" | head -n 4 | tr '\n' ' ')"
  fi
}
watch_file csv_watch "$WORK/sessions_test.csv"
grep -q '"truth":"1"' "$WORK/csv_watch.out" && pass "alerts carry the label column's truth" \
  || fail "no truth in CSV alerts: $(head -c 300 "$WORK/csv_watch.out")"

# Columns reordered (label first, id last): fields are matched by name.
awk -F, -v OFS=, '{ print $11, $9, $3, $2, $4, $5, $6, $7, $8, $10, $1 }' "$WORK/sessions_test.csv" \
  >"$WORK/sessions_reordered.csv"
watch_file csv_watch_reordered "$WORK/sessions_reordered.csv"
finish
