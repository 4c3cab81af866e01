# IP address columns as features (vigil/ipfeat.h): the ThreatLens IP list's
# address column is found by its values and becomes networks, class and
# flags (the raw address is no feature); --ip forces a column; --geoip adds
# the country; predict expands the column again from the model; one-line
# errors.
source "$(dirname "$0")/lib.sh"
IPS=$SHARED/threatlens-iplog/network_log.csv.gz
[[ -f $IPS ]] || { echo "FAIL: the ThreatLens IP list is needed under $SHARED"; exit 1; }
expect_ok "train on the IP list as it is, the address column found by its values" "$VIGIL" train --data "$IPS" \
  --label STATUS_CONF --task label --model gbdt --param n_estimators=30 --split 0.2 -o "$WORK/ip.vgm"
expect_ok "inspect" "$VIGIL" inspect "$WORK/ip.vgm"
grep -qE '^ip columns +IP_INFO$' "$WORK/out" && pass "inspect names the IP column" || fail "no ip columns line"
missing=0
for c in ip_net24 ip_net16 ip_class ip_private ip_reserved ip_loopback; do
  grep -qE "^  IP_INFO\.$c " "$WORK/out" || { fail "pipeline lacks IP_INFO.$c"; missing=1; }
done
(( missing == 0 )) && pass "the pipeline has the /24, /16, class and flag inputs"
grep -qE '^  IP_INFO +' "$WORK/out" && fail "the raw address is an input" || pass "the raw address is no input"
grep -q 'IP_INFO.ip_country' "$WORK/out" && fail "a country column without --geoip" || pass "no country without --geoip"
zcat "$IPS" >"$WORK/ips.csv"
expect_ok "predict re-expands the column from the model" "$VIGIL" predict --model "$WORK/ip.vgm" --data "$WORK/ips.csv" \
  -o "$WORK/pred.csv"
[[ $(wc -l <"$WORK/pred.csv") == 2112 ]] && pass "2111 predictions" || fail "predictions: $(wc -l <"$WORK/pred.csv")"
# Only the address, with ThreatLens' label (validated/benign normal, the
# rest abnormal): the networks alone learn it well above chance.
awk -F, -v OFS=, 'NR == 1 { print "ip,label"; next }
  { print $1, ($2 == "validated" || $2 == "benign") ? "normal" : "abnormal" }' "$WORK/ips.csv" >"$WORK/only_ip.csv"
expect_ok "train on the address alone" "$VIGIL" train --data "$WORK/only_ip.csv" --label label --positive abnormal \
  --model gbdt --split 0.2 --json -o "$WORK/only.vgm"
auc=$(json_get "$WORK/out" roc_auc)
awk -v a="$auc" 'BEGIN { exit !(a > 0.7) }' && pass "address alone: ROC-AUC $auc > 0.7 from its networks" ||
  fail "address alone: ROC-AUC $auc"
# --ip forces a column whose values are not all addresses; --geoip adds the country.
{ head -1 "$WORK/only_ip.csv"; tail -n +2 "$WORK/only_ip.csv"; echo "not-an-ip,normal"; } >"$WORK/mixed.csv"
GEO=${VG_SOURCE_DIR:-.}/data/geoip/geoip.gz
[[ -f $GEO ]] || GEO=data/geoip/geoip.gz
expect_ok "--ip forced with --geoip" "$VIGIL" train --data "$WORK/mixed.csv" --label label --positive abnormal \
  --ip ip --geoip "$GEO" --model tree --param max_depth=4 -o "$WORK/geo.vgm"
expect_ok "inspect the geo model" "$VIGIL" inspect "$WORK/geo.vgm"
grep -qE '^  ip\.ip_country +categorical' "$WORK/out" && pass "--geoip adds the country input" ||
  fail "no country input: $(grep ip_ "$WORK/out" | head -3)"
grep -qE '^ip countries +from ' "$WORK/out" && pass "inspect names the GeoIP source" || fail "no ip countries line"
expect_ok "predict with the geo model" "$VIGIL" predict --model "$WORK/geo.vgm" --data "$WORK/mixed.csv" -o "$WORK/p2.csv"
"$VIGIL" train --data "$WORK/mixed.csv" --label label --positive abnormal --model tree -o "$WORK/noip.vgm" \
  >"$WORK/out" 2>&1
grep -q "column 'ip' looks like an id" "$WORK/out" && pass "a column with one non-address is not found as an IP column" ||
  fail "mixed column: $(cat "$WORK/out" | head -3)"
expect_error "--ip of a missing column" "--ip: " "$VIGIL" train --data "$WORK/only_ip.csv" --label label \
  --positive abnormal --ip nosuch -o "$WORK/x.vgm"
expect_error "--ip with a log format" "--ip goes with CSV" "$VIGIL" train --data "$WORK/ips.csv" --format kdd \
  --ip ip -o "$WORK/x.vgm"
expect_error "--ip of a numeric column" "holds numbers" "$VIGIL" train --data "$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz" \
  --label attack_detected --ip failed_logins -o "$WORK/x.vgm"
finish
