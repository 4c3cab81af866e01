# HTML reports end to end on NSL-KDD 20%: `vigil report`, `eval --report`
# and `compare --report` write one self-contained file each, with the SVG
# curves, the sections and escaped names; headless chromium renders each to
# a DOM, a screenshot and a PDF (the browser part is skipped only when
# chromium is not installed: scripts/setup.sh --test installs it).
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
expect_error "report to an unwritable path" "cannot write" "$VIGIL" report --model "$WORK/forest.vgm" --data "$TEST" \
  -o /nonexistent-dir/r.html
expect_error "eval --report needs a value" "report" "$VIGIL" eval --model "$WORK/forest.vgm" --data "$TEST" --report
expect_ok "report --help" "$VIGIL" report --help
grep -q -- "--model" "$WORK/out" && pass "report --help names its options" || fail "report --help"

# The browser: each report renders, screenshots and prints.
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
  echo "skipped: chromium is not installed (scripts/setup.sh --test installs it); browser checks not run"
  finish
fi
chrome() {  # chrome OUTPUT-FLAG... URL: one headless run in a fresh profile, bounded in time
  local profile; profile=$(mktemp -d "$WORK/chrome.XXXXXX")
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" "$@" 2>>"$WORK/chrome.log"
}
for name in report eval compare; do
  f=$WORK/$name.html
  if chrome --dump-dom "file://$f" >"$WORK/$name.dom" && grep -q '<polyline' "$WORK/$name.dom" \
     && grep -q '</html>' "$WORK/$name.dom"; then
    pass "chromium renders $name.html with its SVG curves"
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
