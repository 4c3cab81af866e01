# The dashboard in a real browser: start `vigil serve` with a forest trained
# on NSL-KDD 20% (its stored metrics feed the model card), drive Debian's
# headless chromium through playwright-core (tests/browser/) to type a
# neptune (DoS) record into the form generated from the schema, click
# "Score record" and check the verdict, label, explanation and recent
# detections; the Alerts panel over an alert store `vigil watch` wrote from
# KDD test lines (rows, the per-hour chart, the entity and score filters,
# a raw line expanded); then the explain-refused fallback, a phone-sized
# dark layout and the API-key dialog against a second server started with a
# key file (and no store: the panel says how to get one).
# Fails when chromium, node or npm is missing (scripts/setup.sh --test
# installs them). VG_SCREENSHOT_DIR=DIR keeps the screenshots.
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz
BROWSER_DIR=$SRC/tests/browser

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
  fail "chromium is needed for the browser test (scripts/setup.sh --test installs it)"
  finish
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  fail "node and npm are needed to drive the browser (scripts/setup.sh --test installs them)"
  finish
fi

expect_ok "train forest (binary) with a test set" "$VIGIL" train --data "$TRAIN" --test "$TEST" --format kdd \
  --model forest --param n_estimators=20 --seed 1 -o "$WORK/forest.vgm"

# An alert store as `vigil watch` writes it: 400 KDD test lines on stdin.
zcat "$TEST" | head -n 400 >"$WORK/watched.txt"
"$VIGIL" watch --model "$WORK/forest.vgm" --quiet --explain --alerts "$WORK/alerts.db" - <"$WORK/watched.txt" \
  2>"$WORK/watch.err" || fail "vigil watch: $(tail -n 2 "$WORK/watch.err")"
N_ALERTS=$("$VIGIL" alerts --db "$WORK/alerts.db" --limit 0 --json | wc -l)
((N_ALERTS > 50)) && pass "vigil watch stored $N_ALERTS alerts" || fail "only $N_ALERTS alerts stored"

start_server "$WORK/serve.log" --model "forest=$WORK/forest.vgm" --alerts "$WORK/alerts.db"
URL=$SERVER_URL
[[ -n $URL ]] && pass "vigil serve listening at $URL" || { fail "vigil serve did not start: $(cat "$WORK/serve.log")"; finish; }
printf 'dashboard-test-key-4f1c\n' >"$WORK/keys"
start_server "$WORK/serve-auth.log" --model "forest=$WORK/forest.vgm" --api-key-file "$WORK/keys"
AUTH_URL=$SERVER_URL
[[ -n $AUTH_URL ]] && pass "vigil serve with an API key at $AUTH_URL" \
  || { fail "vigil serve --api-key-file did not start: $(cat "$WORK/serve-auth.log")"; finish; }

# The browser driver: playwright-core only (it drives the system chromium).
# A lockfile install; a failed one (no registry) may still find a previous one.
if (cd "$BROWSER_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1); then
  pass "npm ci in tests/browser"
elif [[ -d $BROWSER_DIR/node_modules/playwright-core ]]; then
  echo "note: npm ci failed, using the installed playwright-core: $(tail -n 2 "$WORK/npm.log")"
else
  fail "npm ci in tests/browser failed: $(tail -n 5 "$WORK/npm.log")"
  finish
fi

# A neptune (SYN flood, DoS) connection from KDDTest+ as raw fields.
cat >"$WORK/neptune.json" <<'EOF'
{"duration":0,"protocol_type":"tcp","service":"private","flag":"REJ","src_bytes":0,"dst_bytes":0,"land":0,
 "wrong_fragment":0,"urgent":0,"hot":0,"num_failed_logins":0,"logged_in":0,"num_compromised":0,"root_shell":0,
 "su_attempted":0,"num_root":0,"num_file_creations":0,"num_shells":0,"num_access_files":0,"num_outbound_cmds":0,
 "is_host_login":0,"is_guest_login":0,"count":229,"srv_count":10,"serror_rate":0,"srv_serror_rate":0,
 "rerror_rate":1,"srv_rerror_rate":1,"same_srv_rate":0.04,"diff_srv_rate":0.06,"srv_diff_host_rate":0,
 "dst_host_count":255,"dst_host_srv_count":10,"dst_host_same_srv_rate":0.04,"dst_host_diff_srv_rate":0.06,
 "dst_host_same_src_port_rate":0,"dst_host_srv_diff_host_rate":0,"dst_host_serror_rate":0,
 "dst_host_srv_serror_rate":0,"dst_host_rerror_rate":1,"dst_host_srv_rerror_rate":1}
EOF

SHOTS=${VG_SCREENSHOT_DIR:-$WORK}
mkdir -p "$SHOTS"
if CHROMIUM=$CHROMIUM timeout 240 node "$BROWSER_DIR/dashboard.mjs" --url "$URL/" --record "$WORK/neptune.json" \
     --expect-label attack --expect-anomaly 1 --out "$SHOTS" --auth-url "$AUTH_URL/" \
     --key dashboard-test-key-4f1c --expect-alerts "$N_ALERTS" >"$WORK/browser.log" 2>&1; then
  sed 's/^/  /' "$WORK/browser.log"
  pass "dashboard driven in headless chromium"
else
  sed 's/^/  /' "$WORK/browser.log"
  fail "dashboard browser checks (see above)"
fi
for f in dashboard.png dashboard-alerts.png dashboard-phone-dark.png; do
  [[ -s $SHOTS/$f ]] && pass "screenshot $f ($(stat -c %s "$SHOTS/$f") bytes)" || fail "no screenshot $f"
done
finish
