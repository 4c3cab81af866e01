# vigil serve end to end: train small NSL-KDD models, start the real server
# on 127.0.0.1 (a free port) and drive every endpoint with curl: scores match
# `vigil predict`, explanations add up, two named models, every limit just
# under and just over, authentication, malformed requests, a slow client,
# hot reload under load (SIGHUP and the endpoint; a corrupt file keeps the
# old model serving), and a clean stop. Bounded: every wait has a deadline.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
command -v curl >/dev/null || { echo "FAIL: curl is needed (scripts/setup.sh --test installs it)"; exit 1; }
[[ -x $PY ]] || { echo "FAIL: $PY is needed to read JSON replies"; exit 1; }

SPID=
cleanup() {
  [[ -n $SPID ]] && kill -9 "$SPID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- models -------------------------------------------------------------
expect_ok "train forest (binary, 10 trees)" "$VIGIL" train --data "$TRAIN" --format kdd --model forest \
  --param n_estimators=10 --seed 1 -o "$WORK/forest.vgm"
expect_ok "train tree (category task)" "$VIGIL" train --data "$TRAIN" --format kdd --task category --model tree \
  --param max_depth=8 -o "$WORK/cat.vgm"
expect_ok "train tree (binary, the hot-reload replacement)" "$VIGIL" train --data "$TRAIN" --format kdd \
  --model tree --param max_depth=4 -o "$WORK/tree.vgm"
cp "$WORK/forest.vgm" "$WORK/live.vgm"

# 30 test records as JSON objects of raw fields (numbers as numbers).
zcat "$TEST" | head -n 30 > "$WORK/recs.txt"
$PY - "$SHARED/nsl-kdd/field_names.csv" "$WORK/recs.txt" > "$WORK/recs.jsonl" <<'EOF'
import json, sys
fields = [l.split(",") for l in open(sys.argv[1]).read().split("\n") if l]
for line in open(sys.argv[2]):
    v = line.strip().split(",")
    rec = {}
    for (name, kind), x in zip(fields, v):
        rec[name] = x if kind.strip() == "symbolic" else (float(x) if "." in x else int(x))
    print(json.dumps(rec))
EOF
head -n1 "$WORK/recs.jsonl" > "$WORK/rec1.json"
(( $(wc -l < "$WORK/recs.jsonl") == 30 )) && pass "30 KDD records as JSON" || fail "record conversion"

# ---- command-line errors: one line on stderr, a non-zero exit -------------------
expect_error "serve without --model" "--model is required" "$VIGIL" serve
expect_error "serve a missing file" "nonexistent.vgm" "$VIGIL" serve --model "$WORK/nonexistent.vgm"
expect_error "two models with one name" "used twice" "$VIGIL" serve --model "a=$WORK/forest.vgm" --model "a=$WORK/cat.vgm"
expect_error "a bad port" "--listen" "$VIGIL" serve --model "$WORK/forest.vgm" --listen 127.0.0.1:70000
expect_error "a missing key file" "nokeys" "$VIGIL" serve --model "$WORK/forest.vgm" --api-key-file "$WORK/nokeys"
expect_error "a zero body limit" "--max-body" "$VIGIL" serve --model "$WORK/forest.vgm" --max-body 0
expect_error "an unknown --missing policy" "--missing: 'drop' is not a missing-field policy" \
  "$VIGIL" serve --model "$WORK/forest.vgm" --missing drop
expect_error "--missing for a model not given" "no model named 'other'" \
  "$VIGIL" serve --model "$WORK/forest.vgm" --missing other=warn --listen 127.0.0.1:0
expect_ok "serve --help" "$VIGIL" serve --help
grep -q -- "--max-batch" "$WORK/out" && pass "help lists the limits" || fail "help lacks --max-batch"

# ---- start ----------------------------------------------------------------
KEY="k-$$-$RANDOM"
printf '# API keys for the test\n\n  %s  \n' "$KEY" > "$WORK/keys"
"$VIGIL" serve --model "kdd=$WORK/live.vgm" --model "cat=$WORK/cat.vgm" --listen 127.0.0.1:0 --threads 2 \
  --missing kdd=warn \
  --api-key-file "$WORK/keys" --max-body 8192 --max-batch 5 --max-fields 50 --max-depth 8 --timeout 2 \
  --cors http://dash.test >"$WORK/serve.out" 2>"$WORK/serve.err" &
SPID=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -nE 's|^vigil serve: listening on http://127\.0\.0\.1:([0-9]+) .*|\1|p' "$WORK/serve.out")
if [[ -z $PORT ]]; then
  fail "server did not start: $(cat "$WORK/serve.err")"
  finish
fi
grep -q "(models: kdd, cat)$" "$WORK/serve.out" && pass "started on port $PORT: $(cat "$WORK/serve.out")" \
  || fail "start line: $(cat "$WORK/serve.out")"
BASE=http://127.0.0.1:$PORT
expect_error "a port already in use" "cannot listen on 127.0.0.1:$PORT" \
  timeout 10 "$VIGIL" serve --model "$WORK/forest.vgm" --listen "127.0.0.1:$PORT"

# call METHOD PATH [curl args]: with the key; sets CODE, the body is in $WORK/body.
call() {
  local m=$1 p=$2
  shift 2
  CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' --max-time 10 "$@" "$BASE$p")
}
# anon METHOD PATH [curl args]: the same without a key.
anon() {
  local m=$1 p=$2
  shift 2
  CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" --max-time 10 "$@" "$BASE$p")
}
# expect WHAT CODE [BODY-REGEX]: the last call's status (and body).
expect() {
  local what=$1 code=$2 re=${3:-}
  if [[ $CODE != "$code" ]]; then
    fail "$what: HTTP $CODE, expected $code: $(head -c 300 "$WORK/body")"
  elif [[ -n $re ]] && ! grep -qE -- "$re" "$WORK/body"; then
    fail "$what: body lacks /$re/: $(head -c 300 "$WORK/body")"
  else
    pass "$what -> $CODE $(head -c 140 "$WORK/body" | tr -d '\n')"
  fi
}
# jq-like checks with Python: jcheck WHAT 'expression over j' (j = the body).
jcheck() {
  local what=$1 expr=$2
  if $PY -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" "$WORK/body" 2>/dev/null; then
    pass "$what"
  else
    fail "$what: $(head -c 300 "$WORK/body")"
  fi
}

# ---- endpoints ---------------------------------------------------------------
anon GET /healthz; expect "healthz without a key" 200 '"ok"'
anon GET /readyz; expect "readyz without a key" 200 '"models":2'
anon GET /; expect "dashboard without a key" 200
call GET /v1/models; expect "models" 200
jcheck "models lists kdd (forest) and cat (tree)" \
  '[m["name"] for m in j["models"]] == ["kdd", "cat"] and j["models"][0]["family"] == "forest" and j["models"][0]["inputs"] == 41'
call GET /v1/models/kdd; expect "model detail" 200
jcheck "schema of 41 inputs, categories listed, metrics, example" \
  'len(j["schema"]) == 41 and "tcp" in j["schema"][1]["categories"] and "example" in j and "metrics" in j'
$PY -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['example']))" "$WORK/body" > "$WORK/example.json"
call POST /v1/detect --data-binary @"$WORK/example.json"; expect "the example input scores" 200 '"label"'
call GET /v1/models/kdd
CAN_EXPLAIN=$($PY -c "import json,sys; print(int(json.load(open(sys.argv[1]))['can_explain']))" "$WORK/body")
call GET /v1/models/nope; expect "unknown model" 404 "unknown model 'nope' \(loaded: kdd, cat\)"

# Scores and labels match `vigil predict` on the same records.
"$VIGIL" predict --model "$WORK/forest.vgm" --data "$WORK/recs.txt" -o "$WORK/pred.csv" 2>"$WORK/err" \
  || fail "predict: $(cat "$WORK/err")"
mismatch=0
i=0
while IFS= read -r rec; do
  i=$((i + 1))
  printf '%s' "$rec" > "$WORK/one.json"
  call POST /v1/detect --data-binary @"$WORK/one.json"
  want=$(sed -n "$((i + 1))p" "$WORK/pred.csv")
  if ! $PY - "$WORK/body" "$want" <<'EOF'; then
import json, sys
j = json.load(open(sys.argv[1]))
row, score, label = sys.argv[2].split(",")
ok = j["label"] == label and abs(j["score"] - float(score)) < 2e-6 and j["anomaly"] == (j["score"] >= 0.5)
sys.exit(0 if ok else 1)
EOF
    mismatch=$((mismatch + 1))
    ((mismatch < 3)) && echo "  record $i: got $(cat "$WORK/body") want $want"
  fi
done < "$WORK/recs.jsonl"
((mismatch == 0)) && pass "30 records: label and score equal vigil predict's" || fail "$mismatch of 30 records differ from vigil predict"

# Explanations add up (or, for a family without them, a 400 that says so).
call POST "/v1/detect?explain=1&top=41" --data-binary @"$WORK/rec1.json"
if [[ $CAN_EXPLAIN == 1 ]]; then
  expect "explain=1&top=41" 200 '"explanation"'
  jcheck "bias + contributions == raw_score, 41 fields listed" \
    'len(j["explanation"]["top"]) == 41 and abs(j["explanation"]["bias"] + sum(t["contribution"] for t in j["explanation"]["top"]) + j["explanation"]["others"] - j["explanation"]["raw_score"]) < 1e-6'
  call POST "/v1/detect?explain=1" --data-binary @"$WORK/rec1.json"
  jcheck "default top 5 with values, ordered by |contribution|" \
    'len(j["explanation"]["top"]) == 5 and all("value" in t for t in j["explanation"]["top"]) and [abs(t["contribution"]) for t in j["explanation"]["top"]] == sorted([abs(t["contribution"]) for t in j["explanation"]["top"]], reverse=True)'
else
  expect "explain on a model that cannot explain" 400 "cannot explain"
fi
call POST "/v1/detect?explain=1&top=x" --data-binary @"$WORK/rec1.json"; expect "bad top" 400 "query parameter 'top'"

# The second model, by name: multiclass, score = 1 - P(normal).
call POST "/v1/detect?model=cat" --data-binary @"$WORK/rec1.json"; expect "?model=cat" 200 '"model":"cat"'
jcheck "category label and score = 1 - P(normal)" \
  'j["label"] in ("normal","DoS","Probe","R2L","U2R") and abs(j["score"] - (1 - j["probabilities"]["normal"])) < 1e-6'
call POST "/v1/detect?model=other" --data-binary @"$WORK/rec1.json"; expect "?model=unknown" 404 "unknown model"

# The missing-field policy: model cat has the default (reject), kdd warn.
call POST /v1/detect?model=cat --data '{}'; expect "{} is refused by default" 422 "41 of 41 inputs missing 'duration'"
sed 's/"src_bytes"/"src_bytez"/; s/"dst_bytes"/"dst_bytez"/' "$WORK/rec1.json" >"$WORK/typo.json"
call POST /v1/detect?model=cat --data-binary @"$WORK/typo.json"
expect "misspelled names are refused, named" 422 "2 unknown fields 'src_bytez', 'dst_bytez'; 2 of 41 inputs missing 'src_bytes', 'dst_bytes'"
call POST /v1/detect?model=cat --data-binary @"$WORK/rec1.json"; expect "a whole record passes the default policy" 200
call GET /v1/models/cat
$PY -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['example']))" "$WORK/body" > "$WORK/example_cat.json"
call POST /v1/detect?model=cat --data-binary @"$WORK/example_cat.json"; expect "the example input passes the default policy" 200
call POST /v1/detect/batch?model=cat --data "[$(cat "$WORK/rec1.json"), {}]"; expect "a batch with a refused record" 200
jcheck "the refused record keeps its place with status 422" \
  '"score" in j[0] and j[1]["status"] == 422 and "41 of 41 inputs missing" in j[1]["error"]'
call POST /v1/detect --data '{}'; expect "--missing kdd=warn scores {}" 200 '"incomplete record \(--missing warn\): 41 of 41 inputs missing'

# Warnings: unknown fields, nulls, unseen categories, missing fields.
call POST /v1/detect --data '{"duration": null, "service": "gopher2", "colour": "red", "src_bytes": "491"}'
expect "a sparse record scores with warnings" 200 '"warnings"'
jcheck "warnings name the fields" \
  'any("colour" in w for w in j["warnings"]) and any("gopher2" in w for w in j["warnings"]) and any("duration" in w and "null" in w for w in j["warnings"]) and any("missing field" in w for w in j["warnings"])'

# Batches.
head -n 5 "$WORK/recs.jsonl" | paste -sd, | sed 's/^/[/; s/$/]/' > "$WORK/batch5.json"
head -n 6 "$WORK/recs.jsonl" | paste -sd, | sed 's/^/[/; s/$/]/' > "$WORK/batch6.json"
call POST /v1/detect/batch --data-binary @"$WORK/batch5.json"; expect "batch of 5 (the limit)" 200
jcheck "5 results in order" 'len(j) == 5 and all("score" in r for r in j)'
# A batch is scored as one matrix by the batch kernels: each result must be
# the one /v1/detect gives for the record alone (same score text, label, probabilities).
cp "$WORK/body" "$WORK/batch5.out"
same=0
for i in 1 2 3 4 5; do
  sed -n "${i}p" "$WORK/recs.jsonl" > "$WORK/one.json"
  call POST /v1/detect --data-binary @"$WORK/one.json"
  $PY -c "import json,sys; b=json.load(open(sys.argv[1]))[int(sys.argv[3])]; o=json.load(open(sys.argv[2])); sys.exit(0 if b == o else 1)" \
    "$WORK/batch5.out" "$WORK/body" $((i - 1)) && same=$((same + 1))
done
[[ $same == 5 ]] && pass "batch results equal single-record results (5 of 5)" || fail "batch results differ from single-record results ($same of 5 equal)"
call POST /v1/detect/batch --data-binary @"$WORK/batch6.json"; expect "batch of 6 (over --max-batch 5)" 413 "limit of 5"
call POST /v1/detect/batch --data "{\"records\": [$(cat "$WORK/rec1.json"), {\"duration\": \"x\"}, 3]}"
expect "batch object with per-record errors" 200
jcheck "per-record errors name the problem" \
  '"score" in j[0] and "duration" in j[1]["error"] and "object" in j[2]["error"]'

# ---- limits, each just under and just over ------------------------------------
# pad FILE N: rec1.json padded with spaces to exactly N bytes.
pad() { $PY -c "import sys; r=open(sys.argv[1]).read().strip(); n=int(sys.argv[3]); open(sys.argv[2],'w').write(r[:-1] + ' '*(n-len(r)) + '}')" "$WORK/rec1.json" "$1" "$2"; }
pad "$WORK/b8192.json" 8192; pad "$WORK/b8193.json" 8193
call POST /v1/detect --data-binary @"$WORK/b8192.json"; expect "body of 8192 bytes (the limit)" 200
call POST /v1/detect --data-binary @"$WORK/b8193.json"; expect "body of 8193 bytes" 413 "limit of 8192 bytes"
head -c 2000000 /dev/zero | tr '\0' ' ' > "$WORK/huge.json"
call POST /v1/detect --data-binary @"$WORK/huge.json"; expect "2 MB body" 413 "--max-body"
# fields: rec1 has 41; add 9 or 10 unknown ones.
fields() { $PY -c "import json,sys; r=json.load(open(sys.argv[1])); r.update({'extra%d'%i: i for i in range(int(sys.argv[2]))}); print(json.dumps(r))" "$WORK/rec1.json" "$1"; }
fields 9 > "$WORK/f50.json"; fields 10 > "$WORK/f51.json"
call POST /v1/detect --data-binary @"$WORK/f50.json"; expect "50 fields (the limit)" 200 "unknown field 'extra0'"
call POST /v1/detect --data-binary @"$WORK/f51.json"; expect "51 fields" 400 "51 fields, more than the limit of 50"
# depth: the record is level 1; an unknown field nests the rest.
nest() { $PY -c "import sys; d=int(sys.argv[1]); print('{\"x\": ' + '['*d + '1' + ']'*d + '}')" "$1"; }
nest 7 > "$WORK/d8.json"; nest 8 > "$WORK/d9.json"
call POST /v1/detect --data-binary @"$WORK/d8.json"; expect "depth 8 (the limit)" 200
call POST /v1/detect --data-binary @"$WORK/d9.json"; expect "depth 9" 400 "deeper than 8 levels"

# headers: the default --max-header of 16 KiB.
anon GET /healthz -H "X-Pad: $(head -c 12000 /dev/zero | tr '\0' a)"; expect "12 KB of headers (under 16 KiB)" 200
anon GET /healthz -H "X-Pad: $(head -c 20000 /dev/zero | tr '\0' a)"; expect "20 KB of headers: a JSON 431" 431 "exceed the limit of 16384 bytes"
anon GET /healthz -H "X-Pad: $(head -c 40000 /dev/zero | tr '\0' a)"; expect "40 KB of headers (past twice the limit)" 431

# ---- authentication -------------------------------------------------------------
anon POST /v1/detect -H 'Content-Type: application/json' --data-binary @"$WORK/rec1.json"
expect "no key" 401 "API key"
anon POST /v1/detect -H "Authorization: Bearer wrong-$KEY" --data-binary @"$WORK/rec1.json"; expect "wrong key" 401
anon POST /v1/detect -H "Authorization: Bearer ${KEY%?}" --data-binary @"$WORK/rec1.json"; expect "key prefix" 401
anon POST /v1/detect -H "X-API-Key: $KEY" --data-binary @"$WORK/rec1.json"; expect "X-API-Key" 200
anon GET /metrics; expect "metrics need the key" 401
anon POST /v1/models/kdd/reload; expect "reload needs the key" 401
CODE=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X OPTIONS -H 'Origin: http://dash.test' "$BASE/v1/detect")
expect "CORS preflight without a key" 204
grep -qi '^Access-Control-Allow-Origin: http://dash.test' "$WORK/headers" && pass "CORS origin header" \
  || fail "CORS header missing: $(cat "$WORK/headers")"

# ---- malformed requests ------------------------------------------------------------
call POST /v1/detect --data '{"duration": 0, "service": "http"'; expect "truncated JSON" 400 "offset 33: the text ends before"
call POST /v1/detect --data '{"duration": 0} {}'; expect "trailing garbage" 400 "unexpected data after"
call POST /v1/detect --data '"a string"'; expect "not an object" 400 "must be a JSON object"
call POST /v1/detect --data '{"src_bytes": "lots"}'; expect "text in a numeric field" 400 "field 'src_bytes'"
call POST /v1/detect --data '{"service": ["http"]}'; expect "array in a field" 400 "field 'service'"
call POST /v1/detect --data-binary $'{"service": "\xff"}'; expect "invalid UTF-8" 400 "UTF-8"
call GET /v1/detect; expect "wrong method" 405
call GET /v1/detections/recent?limit=abc; expect "bad limit" 400 "'limit'"

# A slow client: headers byte by byte, then silence. Others are served
# meanwhile; the server cuts it off after --timeout 2.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
for c in P O S T ' ' / v 1 / d e t e c t; do printf '%s' "$c" >&3; sleep 0.05; done
t0=$(date +%s.%N)
call POST /v1/detect --data-binary @"$WORK/rec1.json"; expect "served while a slow client stalls" 200
timeout 8 cat <&3 >/dev/null
rc=$?
t1=$(date +%s.%N)
exec 3<&- 3>&-
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if ((rc == 0)) && ge 5 "$waited"; then pass "slow client cut off after ${waited}s"; else fail "slow client not cut off (rc $rc, ${waited}s)"; fi

# ---- observability -------------------------------------------------------------------
call GET "/v1/detections/recent?limit=3"; expect "recent detections" 200
jcheck "3 newest, with time, model, label, score, anomaly, record" \
  'len(j["detections"]) == 3 and all(k in j["detections"][0] for k in ("time","model","label","score","anomaly","record"))'
call GET /v1/stats; expect "stats" 200
jcheck "stats: counters, last-minute rates and latency, memory" \
  'j["detections"] >= 40 and j["last_minute"]["requests_per_second"] > 0 and j["last_minute"]["latency_ms"]["p99"] > 0 and j["memory_bytes"] > 0 and len(j["last_minute"]["per_second"]["requests"]) == 60'
call GET /metrics; expect "metrics" 200
for name in 'vigil_requests_total{route="detect",status="200"}' 'vigil_requests_total{route="detect",status="413"}' \
            'vigil_request_duration_seconds_bucket{route="detect",le="0.001"}' 'vigil_score_bucket{model="kdd"' \
            'vigil_anomalies_total{model="cat"}' 'vigil_memory_bytes ' 'vigil_models_loaded 2'; do
  grep -qF "$name" "$WORK/body" || fail "metrics lack $name"
done
pass "metrics carry requests, durations, scores, anomalies, memory, models"

# ---- hot reload under load -----------------------------------------------------------
# Three clients loop over keep-alive batches of 100 requests until told to
# stop (at most 60 batches each), while the model file is replaced and
# SIGHUP sent; every reply must be a 200.
rm -f "$WORK/stop"
load() {
  local urls=() k
  for _ in $(seq 100); do urls+=("$BASE/v1/detect?model=kdd"); done
  for k in $(seq 60); do
    [[ -e $WORK/stop ]] && break
    curl -s -w '\nCODE=%{http_code}\n' -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
      --data-binary @"$WORK/rec1.json" --max-time 30 "${urls[@]}" | grep '^CODE='
  done > "$WORK/load.$1"
}
LOADERS=()
for w in 1 2 3; do load "$w" & LOADERS+=($!); done
sleep 0.5
cp "$WORK/tree.vgm" "$WORK/live.new" && mv "$WORK/live.new" "$WORK/live.vgm"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "reloaded" "$WORK/serve.err" && break; sleep 0.1; done
sleep 0.5
touch "$WORK/stop"
wait "${LOADERS[@]}"
total=$(cat "$WORK"/load.* | wc -l)
ok=$(cat "$WORK"/load.* | grep -c '^CODE=200$')
((total >= 300 && ok == total)) && pass "hot reload under load: $ok/$total requests answered 200" \
  || fail "hot reload under load: $ok of $total answered 200"
grep -q "vigil serve: reloaded kdd, cat" "$WORK/serve.err" && pass "SIGHUP logged the reload" || fail "no reload log: $(cat "$WORK/serve.err")"
call GET /v1/models/kdd
jcheck "the new model serves: family tree, generation 2" 'j["family"] == "tree" and j["generation"] == 2'
"$VIGIL" predict --model "$WORK/tree.vgm" --data "$WORK/recs.txt" -o "$WORK/pred_tree.csv" 2>/dev/null
call POST /v1/detect --data-binary @"$WORK/rec1.json"
want=$(sed -n 2p "$WORK/pred_tree.csv" | cut -d, -f2)
jcheck "scores now come from the new model ($want)" "abs(j['score'] - $want) < 2e-6"

# A corrupt replacement: SIGHUP and the endpoint both fail, the old model serves.
head -c 3000 "$WORK/forest.vgm" > "$WORK/live.new" && mv "$WORK/live.new" "$WORK/live.vgm"
kill -HUP "$SPID"
for _ in $(seq 50); do grep -q "failed" "$WORK/serve.err" && break; sleep 0.1; done
grep -q "reload of model 'kdd' failed, the previous model keeps serving" "$WORK/serve.err" \
  && pass "SIGHUP with a corrupt file logged: $(grep failed "$WORK/serve.err" | head -n1)" \
  || fail "no failure log: $(cat "$WORK/serve.err")"
call POST /v1/models/kdd/reload; expect "reload endpoint with a corrupt file" 500 "previous model keeps serving"
call GET /v1/models/kdd
jcheck "still the previous model (tree, generation 2)" 'j["family"] == "tree" and j["generation"] == 2'
call POST /v1/detect --data-binary @"$WORK/rec1.json"; expect "still scoring" 200
cp "$WORK/forest.vgm" "$WORK/live.vgm"
call POST /v1/models/kdd/reload; expect "reload endpoint with a good file" 200 '"generation":3'

# ---- survival and a clean stop ---------------------------------------------------------
anon GET /healthz; expect "healthz at the end" 200
kill -TERM "$SPID"
for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SPID" 2>/dev/null; then
  fail "server still running 5 s after SIGTERM"
else
  wait "$SPID"
  rc=$?
  SPID=
  ((rc == 0)) && pass "SIGTERM: clean exit" || fail "exit status $rc after SIGTERM: $(tail -n3 "$WORK/serve.err")"
fi
grep -qiE "sanitizer|runtime error" "$WORK/serve.err" && fail "sanitizer report: $(head -c 600 "$WORK/serve.err")"
finish
