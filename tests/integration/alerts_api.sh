# The alert store over HTTP: `vigil watch` writes a store from two synthetic
# web logs while `vigil serve --alerts` serves it read-only on 127.0.0.1; the
# store is created after the server starts (503 until then) and written
# while the server is queried (every reply 200). Then GET /v1/alerts and
# /v1/alerts/summary must give what `vigil alerts` lists for each filter
# (entity, label, source, min_score, since/until, limit), bad parameters a
# JSON 400 naming them, and the API key is enforced; a server without
# --alerts answers 404 saying how to get one, and a file that is not a store
# stops `vigil serve` at start.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
command -v curl >/dev/null || { echo "FAIL: curl is needed (scripts/setup.sh --test installs it)"; exit 1; }
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read JSON replies"; exit 1; }

# get PATH [curl args...]: body to $WORK/body, HTTP status to stdout.
get() {
  local path=$1; shift
  curl -s -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$@" "$URL$path"
}
# jq_py EXPR: evaluate a Python expression over the last body (as `j`).
jq_py() { $PY -c "import json,sys; j=json.load(open('$WORK/body')); print($1)"; }
# alerts_n ARGS...: how many alerts `vigil alerts` lists with these filters.
alerts_n() { "$VIGIL" alerts --db "$WORK/alerts.db" --limit 0 --json "$@" | wc -l; }

# ---- a model and two logs ------------------------------------------------------
expect_ok "synth weblog (train)" "$VIGIL" synth --format weblog --events 20000 --seed 1 --truth "$WORK/t1.csv" \
  -o "$WORK/train.log"
# Seed 4: since the generator has fast visitors, seed 2's first 3000 lines hold no attack.
expect_ok "synth weblog a (to watch)" "$VIGIL" synth --format weblog --events 3000 --seed 4 -o "$WORK/a.log"
expect_ok "synth weblog b (to watch)" "$VIGIL" synth --format weblog --events 3000 --seed 3 -o "$WORK/b.log"
cut -d, -f1 "$WORK/t1.csv" >"$WORK/labels.txt"
expect_ok "train forest on weblog" "$VIGIL" train --data "$WORK/train.log" --format weblog --labels "$WORK/labels.txt" \
  --model forest --param n_estimators=20 --seed 1 -o "$WORK/web.vgm"
# What the model flags on a.log scored alone: the two logs share no client,
# so watch's one per-entity state for both files gives a's lines the same
# features.
"$VIGIL" predict --model "$WORK/web.vgm" --data "$WORK/a.log" -o "$WORK/pa.csv" 2>/dev/null
flag_a=$(awk -F, 'NR > 1 && $2 >= 0.5' "$WORK/pa.csv" | wc -l)

KEY="alerts-key-$$"
printf '%s\n' "$KEY" >"$WORK/keys"

# ---- the server starts before the store exists ------------------------------------
start_server "$WORK/serve.log" --model "$WORK/web.vgm" --alerts "$WORK/alerts.db" --api-key-file "$WORK/keys"
URL=$SERVER_URL
[[ -n $URL ]] && pass "vigil serve --alerts (store not created yet) at $URL" \
  || { fail "vigil serve did not start: $(cat "$WORK/serve.log")"; finish; }
code=$(get /v1/alerts)
[[ $code == 503 ]] && grep -q 'does not exist yet' "$WORK/body" && pass "no store file yet: 503 $(cat "$WORK/body")" \
  || fail "before the store exists: $code $(cat "$WORK/body")"
code=$(get /v1/stats)
[[ $code == 200 && $(jq_py "j['alert_store']") == "$WORK/alerts.db" ]] && pass "/v1/stats names the alert store" \
  || fail "/v1/stats alert_store: $code $(head -c 300 "$WORK/body")"

# ---- watch writes while the server reads -------------------------------------------
: >"$WORK/a.live"
: >"$WORK/b.live"
# --from-start: whatever is appended before the watcher is up is scored too.
"$VIGIL" watch --model "$WORK/web.vgm" --quiet --explain --from-start --alerts "$WORK/alerts.db" "$WORK/a.live" \
  "$WORK/b.live" 2>"$WORK/watch.err" &
WPID=$!
PIDS+=($WPID)
for _ in $(seq 100); do [[ -e $WORK/alerts.db ]] && break; sleep 0.1; done
codes=()
for k in $(seq 0 9); do
  sed -n "$((k * 300 + 1)),$((k * 300 + 300))p" "$WORK/a.log" >>"$WORK/a.live"
  sed -n "$((k * 300 + 1)),$((k * 300 + 300))p" "$WORK/b.log" >>"$WORK/b.live"
  codes+=("$(get '/v1/alerts?limit=1000')" "$(get /v1/alerts/summary)")
  sleep 0.15
done
# Wait (bounded) for the watcher to store everything: the count stops moving.
prev=-1
for _ in $(seq 60); do
  n=$(alerts_n 2>/dev/null)
  [[ $n == "$prev" && $n -gt 0 ]] && break
  prev=$n
  sleep 0.5
done
kill -TERM $WPID; wait $WPID
bad_codes=$(printf '%s\n' "${codes[@]}" | grep -vc '^200$')
((bad_codes == 0)) && pass "20 queries during the writes all answered 200 (${codes[*]:0:4} ...)" \
  || fail "queries during the writes: ${codes[*]}"
total=$(alerts_n)
((total > 50)) && pass "watch stored $total alerts from a.log and b.log" || fail "only $total alerts stored"

# ---- the listing -------------------------------------------------------------------
code=$(get /v1/alerts)
[[ $code == 200 && $(jq_py "j['count']") == 100 && $(jq_py "j['more']") == True ]] \
  && pass "default listing: 100 newest, more=true" || fail "default listing: $code $(head -c 300 "$WORK/body")"
jq_py "all(a['time'] <= b['time'] for a, b in zip(j['alerts'][1:], j['alerts']))" | grep -q True \
  && pass "newest first" || fail "listing is not newest first"
jq_py "sorted(j['alerts'][0].keys())" | grep -q "'created'.*'entity'.*'id'.*'raw'.*'score'.*'source'.*'time'.*'top'" \
  && pass "an alert has id, created, time, source, line, entity, label, score, top, raw" \
  || fail "alert fields: $(jq_py "sorted(j['alerts'][0].keys())")"
get '/v1/alerts?limit=1000' >/dev/null
[[ $(jq_py "j['count']") == "$((total < 1000 ? total : 1000))" ]] && pass "limit=1000 lists them all ($total)" \
  || fail "limit=1000: $(jq_py "j['count']") of $total"
entity=$(jq_py "j['alerts'][0]['entity']")
get "/v1/alerts?limit=1000&source=$WORK/a.live" >/dev/null
n_a=$(jq_py "j['count']")
[[ $n_a == "$flag_a" ]] && pass "source=a.live: $n_a alerts, as vigil predict flags on its lines" \
  || fail "source=a.live: $n_a, predict flags $flag_a"
[[ $(alerts_n --source "$WORK/a.live") == "$flag_a" ]] && pass "vigil alerts --source a.live lists the same $flag_a" \
  || fail "vigil alerts --source a.live: $(alerts_n --source "$WORK/a.live"), predict flags $flag_a"
get "/v1/alerts?limit=1000&entity=$entity" >/dev/null
[[ $(jq_py "j['count']") == "$(alerts_n --entity "$entity")" ]] \
  && pass "entity=$entity: $(jq_py "j['count']") alerts, as vigil alerts --entity lists" || fail "entity filter"
jq_py "all(a['entity'] == '$entity' for a in j['alerts'])" | grep -q True && pass "entity filter: only $entity" \
  || fail "entity filter lets others through"
get '/v1/alerts?limit=1000&min_score=0.99&label=attack' >/dev/null
[[ $(jq_py "j['count']") == "$(alerts_n --min-score 0.99 --label attack)" ]] \
  && pass "min_score=0.99&label=attack: $(jq_py "j['count']"), as vigil alerts lists" || fail "min_score/label filter"
get '/v1/alerts?label=no-such-label' >/dev/null
[[ $(jq_py "j['count']") == 0 ]] && pass "an unknown label lists nothing" || fail "unknown label"
# A time window: since the 10th newest alert's time, until (not including) the newest's.
get '/v1/alerts?limit=1000' >/dev/null
t_new=$(jq_py "repr(j['alerts'][0]['time'])")
t_old=$(jq_py "repr(j['alerts'][min(50, len(j['alerts']) - 1)]['time'])")
want=$(jq_py "sum(1 for a in j['alerts'] if $t_old <= a['time'] < $t_new)")
get "/v1/alerts?limit=1000&since=$t_old&until=$t_new" >/dev/null
[[ $(jq_py "j['count']") == "$want" ]] && pass "since/until window: $want alerts" \
  || fail "since/until: $(jq_py "j['count']") != $want"
[[ $(alerts_n --since "$t_old" --until "$t_new") == "$want" ]] && pass "vigil alerts --since --until: the same $want" \
  || fail "vigil alerts --since --until: $(alerts_n --since "$t_old" --until "$t_new") != $want"

# ---- the summary ----------------------------------------------------------------------
code=$(get '/v1/alerts/summary?top=5')
[[ $code == 200 ]] && pass "summary: $(head -c 200 "$WORK/body")..." || fail "summary: $code $(cat "$WORK/body")"
[[ $(jq_py "j['stored']") == "$total" ]] && pass "summary: stored = $total" || fail "summary stored"
[[ $(jq_py "sum(j['timeline']['counts']) == j['total'] and len(j['timeline']['counts']) == 24") == True ]] \
  && pass "summary: 24 hourly buckets adding up to the window's total ($(jq_py "j['total']"))" \
  || fail "summary timeline: $(jq_py "j['timeline']")"
top_entity=$(jq_py "j['entities'][0]['key']")
top_n=$(jq_py "j['entities'][0]['alerts']")
since=$(jq_py "repr(j['filter']['since'])")
[[ $top_n == "$(alerts_n --entity "$top_entity" --since "${since%.*}")" ]] \
  && pass "summary: top entity $top_entity with $top_n alerts, as vigil alerts counts" || fail "summary top entity"
[[ $(jq_py "sorted(s['key'] for s in j['sources'])") == "['$WORK/a.live', '$WORK/b.live']" ]] \
  && pass "summary: alerts per source name both files" || fail "summary sources: $(jq_py "j['sources']")"
get "/v1/alerts/summary?since=0&until=4102444800&bucket=86400" >/dev/null
[[ $(jq_py "j['total']") == "$total" ]] && pass "summary over all time: $total" || fail "summary all time"
get "/v1/alerts/summary?entity=$entity&since=0" >/dev/null
[[ $(jq_py "j['total']") == "$(alerts_n --entity "$entity")" ]] && pass "summary with an entity filter" \
  || fail "summary entity filter"

# ---- bad parameters: a JSON 400 naming the parameter ---------------------------------
for q in 'limit=0' 'limit=1001' 'limit=abc' 'min_score=high' 'since=yesterday' 'until=1e999' 'entitiy=x' \
         'since=2000&until=1000' 'entity=' 'top=5'; do
  code=$(get "/v1/alerts?$q")
  name=${q%%=*}
  [[ $q == since=2000* ]] && name=until
  if [[ $code == 400 ]] && jq_py "j['error']" | grep -q "'$name'"; then
    pass "?$q -> 400 $(jq_py "j['error']")"
  else
    fail "?$q -> $code $(cat "$WORK/body")"
  fi
done
long=$(head -c 257 /dev/zero | tr '\0' 'x')
code=$(get "/v1/alerts?entity=$long")
[[ $code == 400 ]] && grep -q "1 to 256 bytes" "$WORK/body" && pass "a 257-byte entity -> 400 (the limit is 256)" \
  || fail "long entity: $code $(head -c 200 "$WORK/body")"
code=$(get "/v1/alerts?entity=${long:0:256}")
[[ $code == 200 ]] && pass "a 256-byte entity is accepted" || fail "256-byte entity: $code"
code=$(get '/v1/alerts/summary?bucket=5')
[[ $code == 400 ]] && grep -q "'bucket'" "$WORK/body" && pass "summary ?bucket=5 -> 400" || fail "summary bucket: $code"
code=$(get '/v1/alerts/summary?limit=5')
[[ $code == 400 ]] && grep -q "'limit'" "$WORK/body" && pass "summary ?limit -> 400 (not a summary parameter)" \
  || fail "summary limit: $code"

# ---- the API key ---------------------------------------------------------------------------
code=$(curl -s -o "$WORK/body" -w '%{http_code}' "$URL/v1/alerts")
[[ $code == 401 ]] && grep -q '"error"' "$WORK/body" && pass "no key: 401" || fail "no key: $code"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "X-API-Key: wrong" "$URL/v1/alerts/summary")
[[ $code == 401 ]] && pass "a wrong key: 401" || fail "wrong key: $code"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H "X-API-Key: $KEY" "$URL/v1/alerts?limit=1")
[[ $code == 200 ]] && pass "X-API-Key works too" || fail "X-API-Key: $code"
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "X-API-Key: $KEY" "$URL/v1/alerts")
[[ $code == 405 ]] && pass "POST /v1/alerts: 405" || fail "POST: $code"

# ---- without --alerts, and with a file that is not a store -----------------------------------
start_server "$WORK/serve2.log" --model "$WORK/web.vgm"
URL=$SERVER_URL
code=$(get /v1/alerts)
[[ $code == 404 ]] && grep -q -- '--alerts' "$WORK/body" && pass "no store: 404 $(cat "$WORK/body")" \
  || fail "no store: $code $(cat "$WORK/body")"
get /v1/stats >/dev/null
[[ $(jq_py "j['alert_store']") == None ]] && pass "/v1/stats: alert_store null" || fail "stats alert_store"
expect_error "serve --alerts on a log file" "not a vigil alert store|not a database" \
  "$VIGIL" serve --model "$WORK/web.vgm" --alerts "$WORK/a.log" --listen 127.0.0.1:0
expect_error "serve --alerts twice" "one alert store" \
  "$VIGIL" serve --model "$WORK/web.vgm" --alerts "$WORK/alerts.db" --alerts "$WORK/x.db" --listen 127.0.0.1:0
finish
