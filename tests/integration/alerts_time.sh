# vigil alerts --since on a replayed log: event time is the default and says
# so when nothing matches; --by stored bounds when watch stored the alert.
source "$(dirname "$0")/lib.sh"

"$VIGIL" synth --format weblog --events 5000 --seed 1 -o "$WORK/w.log" 2>/dev/null  # events of 2026-01-01
expect_ok "rule-score model" "$VIGIL" train --data "$WORK/w.log" --format weblog --task rule-score --model tree \
  -o "$WORK/w.vgm"
expect_ok "watch the old log" timeout 60 "$VIGIL" watch --model "$WORK/w.vgm" --alerts "$WORK/a.db" --quiet - \
  <"$WORK/w.log"
all=$("$VIGIL" alerts --db "$WORK/a.db" --limit 0 --json | wc -l)
((all > 0)) && pass "$all alerts stored" || fail "no alerts stored"

"$VIGIL" alerts --db "$WORK/a.db" --since 1h --limit 0 --json >"$WORK/recent" 2>"$WORK/hint"
[[ ! -s $WORK/recent ]] && pass "--since 1h by event time: none (events are from 2026-01-01)" \
  || fail "--since 1h listed $(wc -l <"$WORK/recent") alerts of old events"
grep -q "no alert has an event time in that range; the stored events run from 2026-01-01" "$WORK/hint" \
  && pass "says which time it filtered on" || fail "no hint: $(cat "$WORK/hint")"
n=$("$VIGIL" alerts --db "$WORK/a.db" --since 1h --by stored --limit 0 --json | wc -l)
[[ $n == "$all" ]] && pass "--by stored --since 1h: all $n" || fail "--by stored: $n of $all"
n=$("$VIGIL" alerts --db "$WORK/a.db" --until 1h --by stored --limit 0 --json | wc -l)
[[ $n == 0 ]] && pass "--by stored --until 1h: none" || fail "--by stored --until 1h: $n"
expect_error "--by: a bad value" "--by: 'arrival'" "$VIGIL" alerts --db "$WORK/a.db" --by arrival

exit $((FAILS > 0))
