# HTML reports end to end on NSL-KDD 20%: `vigil report`, `eval --report`
# and `compare --report` write one self-contained file each, with the SVG
# curves, the sections and escaped names. On synthetic logs: the Sources
# section of an unlabelled weblog and of a login log with a bad line, whose
# numbers must match counts made with awk on the files and the alerts
# `vigil predict` flags; the same with --labels (metrics and summary); the
# summary of an alert store written by `vigil watch`. Headless chromium
# renders each to a DOM, a screenshot and a PDF (scripts/setup.sh --test
# installs chromium; without it the test fails).
source "$(dirname "$0")/lib.sh"
TRAIN=$SHARED/nsl-kdd/KDDTrain+_20Percent.txt.gz
TEST=$SHARED/nsl-kdd/KDDTest+.txt.gz

expect_ok "train forest (binary)" "$VIGIL" train --data "$TRAIN" --format kdd --model forest \
  --param n_estimators=20 --seed 1 -o "$WORK/forest.vgm"
expect_ok "train logreg (category)" "$VIGIL" train --data "$TRAIN" --format kdd --task category --model logreg \
  -o "$WORK/lr.vgm"

# check_report FILE WHAT PATTERN...: the file is a whole, inert HTML page
# holding every pattern.
check_report() {
  local file=$1 what=$2; shift 2
  [[ -s $file ]] || { fail "$what: no report at $file"; return; }
  head -c 15 "$file" | grep -q '<!doctype html>' || fail "$what: not an HTML document"
  tail -c 20 "$file" | grep -q '</html>' || fail "$what: document not closed"
  grep -q '<script' "$file" && fail "$what: the report holds a script"
  grep -qE 'https?://' "$file" && fail "$what: the report refers to the network"
  grep -qE '[^a-zA-Z](nan|NaN|inf)[^a-zA-Z]' "$file" && fail "$what: a figure reads nan or inf"
  local p missing=0
  for p in "$@"; do grep -q -- "$p" "$file" || { fail "$what: lacks $p"; missing=1; }; done
  ((missing)) || pass "$what: $(wc -c <"$file") bytes with $*"
}

expect_ok "vigil report" "$VIGIL" report --model "$WORK/forest.vgm" --data "$TEST" -o "$WORK/report.html"
check_report "$WORK/report.html" "report (binary forest)" '<svg class="chart"' 'id="roc"' 'id="pr"' '<polyline' \
  'id="confusion"' 'id="scores"' 'id="importance"' 'id="per-class"' 'AUC <b>0\.9' 'src_bytes'

expect_ok "eval --report" "$VIGIL" eval --model "$WORK/lr.vgm" --data "$TEST" --report "$WORK/eval.html"
grep -qi "confusion" "$WORK/out" && pass "eval still prints its text report" || fail "eval text report missing"
check_report "$WORK/eval.html" "eval --report (category logreg)" '<svg class="chart"' 'id="roc"' 'U2R' 'Macro F1'

expect_ok "compare --report" "$VIGIL" compare --data "$TRAIN" --split 0.25 --format kdd --models logreg,tree,forest \
  --param forest:n_estimators=15 --report "$WORK/compare.html"
grep -qE "^forest +[01]\.[0-9]+" "$WORK/out" && pass "compare still prints its table" || fail "compare table missing"
check_report "$WORK/compare.html" "compare --report" 'Models side by side' 'id="roc"' 'logreg' 'tree' 'forest' \
  'class="best"'
rocs=$(grep -o '<polyline' "$WORK/compare.html" | wc -l)
((rocs == 6)) && pass "compare report overlays 3 ROC and 3 PR curves" || fail "compare report has $rocs curves, not 6"

expect_ok "report comparing two saved models" "$VIGIL" report --model "$WORK/forest.vgm" --model "$WORK/lr.vgm" \
  --data "$TEST" -o "$WORK/two.html" --title "Forest & logreg"
check_report "$WORK/two.html" "two-model report" 'Forest &amp; logreg' '>forest<' '>lr<'

expect_error "report without -o" "usage|required" "$VIGIL" report --model "$WORK/forest.vgm" --data "$TEST"
expect_error "report to a missing folder (checked before work)" "the folder .* does not exist" "$VIGIL" report --model "$WORK/forest.vgm" --data "$TEST" \
  -o /nonexistent-dir/r.html
expect_error "eval --report needs a value" "report" "$VIGIL" eval --model "$WORK/forest.vgm" --data "$TEST" --report
expect_ok "report --help" "$VIGIL" report --help
grep -q -- "--model" "$WORK/out" && pass "report --help names its options" || fail "report --help"

# ---- logs: the per-source summary -------------------------------------------
# data_value FILE METRIC [N]: the data-value of the N-th card with that metric.
data_value() {
  grep -o "data-metric=\"$2\" data-value=\"[0-9]*\"" "$1" | sed -n "${3:-1}p" | grep -o '[0-9]*"$' | tr -d '"'
}
# row_events FILE ID KEY: events of KEY in the bar list with that id.
row_events() {
  awk -v id="id=\"$2\"" 'index($0, id) { on = 1 } on' "$1" | grep -o "data-key=\"$3\" data-events=\"[0-9]*\"" \
    | head -n1 | grep -o '[0-9]*"$' | tr -d '"'
}
expect_ok "synth weblog (train)" "$VIGIL" synth --format weblog --events 20000 --seed 1 --truth "$WORK/wt1.csv" \
  -o "$WORK/web1.log"
expect_ok "synth weblog (test)" "$VIGIL" synth --format weblog --events 5000 --seed 2 --truth "$WORK/wt2.csv" \
  -o "$WORK/web2.log"
cut -d, -f1 "$WORK/wt1.csv" >"$WORK/wl1.txt"
cut -d, -f1 "$WORK/wt2.csv" >"$WORK/wl2.txt"
expect_ok "train forest on weblog" "$VIGIL" train --data "$WORK/web1.log" --format weblog --labels "$WORK/wl1.txt" \
  --model forest --param n_estimators=20 --seed 1 -o "$WORK/web.vgm"
"$VIGIL" predict --model "$WORK/web.vgm" --data "$WORK/web2.log" -o "$WORK/web-pred.csv" 2>/dev/null
flagged=$(awk -F, 'NR > 1 && $2 >= 0.5' "$WORK/web-pred.csv" | wc -l)

expect_ok "report on an unlabelled weblog" "$VIGIL" report --model "$WORK/web.vgm" --data "$WORK/web2.log" \
  -o "$WORK/logs.html"
grep -q "no labels" "$WORK/err" && pass "report says the log has no labels" || fail "no word about labels: $(cat "$WORK/err")"
check_report "$WORK/logs.html" "report (unlabelled weblog)" 'id="no-labels"' 'id="sources"' 'id="source-1"' \
  'id="source-1-entities"' 'id="source-1-entity-alerts"' 'id="source-1-country"' 'id="source-1-status"' \
  'Events and alerts per' 'id="importance"'
grep -q 'id="roc"' "$WORK/logs.html" && fail "unlabelled report draws a ROC curve" || pass "unlabelled: no ROC section"
events=$(data_value "$WORK/logs.html" events)
[[ $events == "$(wc -l <"$WORK/web2.log")" ]] && pass "events = lines of the log ($events)" || fail "events $events"
alerts=$(data_value "$WORK/logs.html" alerts)
((flagged > 0)) && [[ $alerts == "$flagged" ]] && pass "alerts = rows vigil predict flags ($alerts)" \
  || fail "alerts $alerts != predict's $flagged"
# Status codes: field 9 of the combined format, counted by awk.
bad_codes=0
while read -r n code; do
  got=$(row_events "$WORK/logs.html" source-1-status "$code")
  [[ $got == "$n" ]] || { fail "status $code: report $got, awk $n"; bad_codes=1; }
done < <(awk '{ print $9 }' "$WORK/web2.log" | sort | uniq -c | sort -rn | head -n 10)
((bad_codes)) || pass "status code counts match awk"
read -r n ip < <(awk '{ print $1 }' "$WORK/web2.log" | sort | uniq -c | sort -k1,1nr -k2,2 | head -n 1)
got=$(row_events "$WORK/logs.html" source-1-entities "$ip")
[[ $got == "$n" ]] && pass "top client IP $ip with $n requests, as awk counts" || fail "top client $ip: $got != $n"
distinct=$(awk '{ print $1 }' "$WORK/web2.log" | sort -u | wc -l)
[[ $(data_value "$WORK/logs.html" entities) == "$distinct" ]] && pass "distinct client IPs = awk's ($distinct)" \
  || fail "distinct client IPs $(data_value "$WORK/logs.html" entities) != $distinct"

expect_ok "report on a weblog with --labels and two sources" "$VIGIL" report --model "$WORK/web.vgm" \
  --data "$WORK/web2.log" --labels "$WORK/wl2.txt" --data "$WORK/web1.log" -o "$WORK/logs2.html"
check_report "$WORK/logs2.html" "report (labelled weblog, two sources)" 'id="roc"' 'id="confusion"' \
  'id="source-1"' 'id="source-2"' 'data-source="[^"]*web1.log"' 'id="sources-table"'
grep -q 'id="no-labels"' "$WORK/logs2.html" && fail "labelled report says no labels" || pass "labelled: metrics shown"

# Login: a bad line counted, outcomes add up.
expect_ok "synth login" "$VIGIL" synth --format login --events 4000 --seed 3 -o "$WORK/login.csv"
expect_ok "train forest on login" "$VIGIL" train --data "$WORK/login.csv" --format login --model forest \
  --param n_estimators=10 -o "$WORK/login.vgm"
"$VIGIL" synth --format login --events 1500 --seed 4 -o "$WORK/login2.csv"
echo 'this is not a login event' >>"$WORK/login2.csv"
expect_ok "report on a login log" "$VIGIL" report --model "$WORK/login.vgm" --data "$WORK/login2.csv" \
  -o "$WORK/login.html"
check_report "$WORK/login.html" "report (login)" 'id="roc"' 'id="source-1-login_success"' 'id="source-1-asn"' \
  '>Users<'
[[ $(data_value "$WORK/login.html" events) == 1500 && $(data_value "$WORK/login.html" bad) == 1 ]] \
  && pass "login: 1500 events, 1 bad line" || fail "login events/bad: $(data_value "$WORK/login.html" events)/$(data_value "$WORK/login.html" bad)"
ok=$(row_events "$WORK/login.html" source-1-login_success success)
ko=$(row_events "$WORK/login.html" source-1-login_success failure)
ok_awk=$(grep -c ',True,[A-Za-z]*,[A-Za-z]*$' "$WORK/login2.csv")
[[ $ok == "$ok_awk" && $((ok + ko)) == 1500 ]] && pass "login outcomes: $ok successes (as grep counts), $ko failures" \
  || fail "login outcomes $ok/$ko, grep $ok_awk"
expect_error "report: --format other than the model's" "model reads weblog" "$VIGIL" report \
  --model "$WORK/web.vgm" --data "$WORK/web2.log" --format login -o "$WORK/x.html"
expect_error "report: several --data need a log format" "log format" "$VIGIL" report --model "$WORK/forest.vgm" \
  --data "$TEST" --data "$TEST" -o "$WORK/x.html"

# ---- an alert store written by vigil watch ----------------------------------
"$VIGIL" watch --model "$WORK/web.vgm" --quiet --alerts "$WORK/alerts.db" - <"$WORK/web2.log" 2>"$WORK/watch.err" \
  || fail "watch on stdin: $(tail -n 2 "$WORK/watch.err")"
stored=$("$VIGIL" alerts --db "$WORK/alerts.db" --limit 0 --json | wc -l)
expect_ok "report --alerts alone" "$VIGIL" report --alerts "$WORK/alerts.db" -o "$WORK/store.html"
check_report "$WORK/store.html" "report (alert store)" 'id="alert-store"' 'id="alert-store-sources"' \
  'id="alert-store-labels"' 'id="alert-store-entities"' 'Alerts per'
[[ $(data_value "$WORK/store.html" alerts) == "$stored" && $stored == "$flagged" ]] \
  && pass "alert store report: $stored alerts, as vigil alerts lists and predict flags" \
  || fail "alert store: report $(data_value "$WORK/store.html" alerts), store $stored, predict $flagged"
expect_ok "report with a model, a log and --alerts" "$VIGIL" report --model "$WORK/web.vgm" --data "$WORK/web2.log" \
  --alerts "$WORK/alerts.db" -o "$WORK/both.html"
check_report "$WORK/both.html" "report (log and alert store)" 'id="sources"' 'id="alert-store"'
expect_error "report --alerts: not a store" "not a vigil alert store|not a database|file is not" \
  "$VIGIL" report --alerts "$WORK/web2.log" -o "$WORK/x.html"

# The browser: each report renders, screenshots and prints.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
  fail "chromium is needed for the browser checks (scripts/setup.sh --test installs it)"
  finish
fi
chrome() {  # chrome OUTPUT-FLAG... URL: one headless run in a fresh profile, bounded in time
  local profile; profile=$(mktemp -d "$WORK/chrome.XXXXXX")
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" "$@" 2>>"$WORK/chrome.log"
}
for name in report eval compare logs store; do
  f=$WORK/$name.html
  want='<polyline'
  [[ $name == logs ]] && want='id="source-1-status"'
  [[ $name == store ]] && want='id="alert-store-labels"'
  if chrome --dump-dom "file://$f" >"$WORK/$name.dom" && grep -q "$want" "$WORK/$name.dom" \
     && grep -q '</html>' "$WORK/$name.dom"; then
    pass "chromium renders $name.html (with $want)"
  else
    fail "chromium could not render $name.html: $(tail -n 3 "$WORK/chrome.log")"
  fi
  chrome --screenshot="$WORK/$name.png" --window-size=1280,2400 "file://$f" >/dev/null
  size=$(stat -c %s "$WORK/$name.png" 2>/dev/null || echo 0)
  ((size > 50000)) && pass "$name screenshot ($size bytes)" || fail "$name screenshot too small ($size bytes)"
done
chrome --print-to-pdf="$WORK/report.pdf" --no-pdf-header-footer "file://$WORK/report.html" >/dev/null
head -c 5 "$WORK/report.pdf" 2>/dev/null | grep -q '%PDF' && pass "report prints to PDF ($(stat -c %s "$WORK/report.pdf") bytes)" \
  || fail "report did not print to PDF"
finish
