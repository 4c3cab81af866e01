# Records carry the raw field a table's derived inputs come from: a CSV
# --text column (its URL features, for trees) and an IP column (its networks,
# class and flags). serve and watch compute those inputs from the record, so
# each record scores exactly as predict scores its row of the file.
source "$(dirname "$0")/lib.sh"
PAY=$SHARED/http-params/payload_train.csv.gz
IPS=$SHARED/threatlens-iplog/network_log.csv.gz
[[ -f $PAY && -f $IPS ]] || { echo "FAIL: http-params and the ThreatLens IP list are needed under $SHARED"; exit 1; }

# same_scores NAME MODEL CSV LABEL: predict, serve (one record per request,
# every column but the label) and watch (its alerts) give the same scores.
same_scores() {
  local name=$1 model=$2 csv=$3 label=$4
  expect_ok "$name: predict" "$VIGIL" predict --model "$model" --data "$csv" -o "$WORK/$name.pred"
  /usr/bin/python3 - "$csv" "$label" >"$WORK/$name.jsonl" <<'PY'
import csv, json, sys
rows = csv.DictReader(open(sys.argv[1], newline=''))
for r in rows:
    r.pop(sys.argv[2], None)
    print(json.dumps(r))
PY
  start_server "$WORK/$name.log" --model "m=$model"
  if [[ -z $SERVER_URL ]]; then fail "$name: server did not start: $(cat "$WORK/$name.log")"; return; fi
  local n=0 diff=0 i=1 rec s_serve s_pred
  while IFS= read -r rec; do
    i=$((i + 1))
    s_serve=$(curl -s -X POST --data-binary "$rec" "$SERVER_URL/v1/detect" | grep -oE '"score":[^,}]+' | cut -d: -f2)
    s_pred=$(sed -n "${i}p" "$WORK/$name.pred" | cut -d, -f2)
    n=$((n + 1))
    [[ -n $s_serve && $s_serve == "$s_pred" ]] || { diff=$((diff + 1)); ((diff == 1)) && echo "  row $i: serve '$s_serve' predict '$s_pred'"; }
  done <"$WORK/$name.jsonl"
  ((n > 0 && diff == 0)) && pass "$name: serve scores all $n records as predict does" || fail "$name: $diff of $n records differ"
  "$VIGIL" watch --model "$model" - <"$csv" >"$WORK/$name.watch" 2>"$WORK/$name.werr" ||
    fail "$name: watch failed: $(head -c 300 "$WORK/$name.werr")"
  local alerts=0 bad=0 alert l s
  while IFS= read -r alert; do
    l=$(grep -oE '"line":[0-9]+' <<<"$alert" | cut -d: -f2)
    s=$(grep -oE '"score":[^,}]+' <<<"$alert" | cut -d: -f2)
    alerts=$((alerts + 1))
    [[ -n $l && $(sed -n "${l}p" "$WORK/$name.pred" | cut -d, -f2) == "$s" ]] || bad=$((bad + 1))
  done <"$WORK/$name.watch"
  ((alerts > 0 && bad == 0)) && pass "$name: watch's $alerts alerts carry predict's scores" ||
    fail "$name: watch gave $alerts alerts, $bad with another score than predict's"
}

# A tree on a --text column: its inputs are the column's URL features.
zcat "$PAY" | awk 'NR == 1 || NR % 97 == 0' | head -n 2001 >"$WORK/pay.csv"
expect_ok "train a tree on --text payload" "$VIGIL" train --data "$WORK/pay.csv" --label label --positive anom \
  --ignore attack_type,length --text payload --model tree --param max_depth=6 -o "$WORK/tree.vgm"
awk 'NR == 1 || NR % 33 == 0' "$WORK/pay.csv" | head -n 61 >"$WORK/pay60.csv"
same_scores text "$WORK/tree.vgm" "$WORK/pay60.csv" label

# An IP column: its inputs are the address's networks, class and flags.
zcat "$IPS" | awk -F, -v OFS=, 'NR == 1 { print "ip,label"; next }
  { print $1, ($2 == "validated" || $2 == "benign") ? "normal" : "abnormal" }' >"$WORK/ip.csv"
expect_ok "train on an address column" "$VIGIL" train --data "$WORK/ip.csv" --label label --positive abnormal \
  --model gbdt --param n_estimators=30 -o "$WORK/ip.vgm"
head -n 61 "$WORK/ip.csv" >"$WORK/ip60.csv"
same_scores ip "$WORK/ip.vgm" "$WORK/ip60.csv" label

# An address that is none: the derived inputs are missing, as in a file.
start_server "$WORK/bad.log" --model "m=$WORK/ip.vgm" --missing warn
if [[ -n $SERVER_URL ]]; then
  curl -s -X POST --data-binary '{"ip":"not-an-address"}' "$SERVER_URL/v1/detect" >"$WORK/bad.json"
  grep -q '"score"' "$WORK/bad.json" && pass "a non-address is scored on imputed inputs" ||
    fail "non-address: $(cat "$WORK/bad.json")"
fi
finish
