# The distance-based families through the commands: knn trained, evaluated,
# inspected, predicting and served on NSL-KDD and a small CSV; kmeans and lof
# fitted on the normal rows of NSL-KDD (labels for evaluation only), then
# eval, predict --explain (contributions that sum to the score) and serve;
# kmeans' range form prints its elbow table; parameter errors name the
# parameter.
source "$(dirname "$0")/lib.sh"
KDD=$SHARED/nsl-kdd

expect_ok "train knn on KDDTrain+ 20% -> KDDTest+" "$VIGIL" train --data "$KDD/KDDTrain+_20Percent.txt.gz" \
  --test "$KDD/KDDTest+.txt.gz" --format kdd --task binary --model knn --param n_neighbors=5 --json -o "$WORK/knn.vgm"
acc=$(json_get "$WORK/out" accuracy)
ge "$acc" 0.70 && pass "knn KDDTest+ accuracy $acc >= 0.70" || fail "knn accuracy $acc"
expect_ok "inspect knn" "$VIGIL" inspect "$WORK/knn.vgm"
grep -q "neighbours: 5 (uniform, euclidean)" "$WORK/out" && pass "inspect shows the neighbours" \
  || fail "inspect: $(grep -i neighbour "$WORK/out")"
expect_ok "eval knn" "$VIGIL" eval --model "$WORK/knn.vgm" --data "$KDD/KDDTest+.txt.gz" --json
[[ $(json_get "$WORK/out" accuracy) == "$acc" ]] && pass "eval gives train's test accuracy" \
  || fail "eval accuracy $(json_get "$WORK/out" accuracy) vs $acc"

# A small CSV: predict and serve agree on one record.
awk 'BEGIN { srand(5); print "a,b,proto,label";
  for (i = 0; i < 60; i++) { c = i % 2; printf "%.3f,%.3f,%s,%d\n", c * 2 + rand(), rand() - c, (i % 3 ? "tcp" : "udp"), c } }' \
  >"$WORK/small.csv"
expect_ok "train knn distance/manhattan" "$VIGIL" train --data "$WORK/small.csv" --label label --model knn \
  --param n_neighbors=4 --param weights=distance --param metric=manhattan -o "$WORK/small.vgm"
printf 'a,b,proto\n1.7,-0.2,udp\n' >"$WORK/one.csv"
expect_ok "predict one row" "$VIGIL" predict --model "$WORK/small.vgm" --data "$WORK/one.csv"
want=$(sed -n 2p "$WORK/out" | cut -d, -f2)
start_server "$WORK/serve.log" --model "small=$WORK/small.vgm"
if [[ -z $SERVER_URL ]]; then
  fail "server did not start: $(cat "$WORK/serve.log")"
else
  got=$(curl -s --max-time 10 -H 'Content-Type: application/json' \
    --data '{"a":1.7,"b":-0.2,"proto":"udp"}' "$SERVER_URL/v1/detect")
  score=$(printf '%s' "$got" | grep -oE '"score":[0-9.eE+-]+' | cut -d: -f2)
  awk -v a="$score" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }' \
    && pass "served score $score = predicted $want" || fail "served: $got, predicted $want"
fi

# kmeans' range form: the elbow table, and the k of the best silhouette kept.
expect_ok "kmeans n_clusters=2..4" "$VIGIL" train --data "$WORK/small.csv" --label label --model kmeans \
  --param n_clusters=2..4 --param silhouette_sample=50 -o "$WORK/km.vgm"
grep -q "elbow table" "$WORK/err" && grep -qE "kmeans: +3 " "$WORK/err" && pass "elbow table printed" \
  || fail "no elbow table: $(head -c 300 "$WORK/err")"
grep -q "kept n_clusters=" "$WORK/err" && pass "the kept k is said" || fail "kept k not said"

# Anomaly scores: fitted on the normal rows of KDDTrain+ 20%, scored on KDDTest+.
for m in kmeans lof; do
  param=$([[ $m == kmeans ]] && echo n_clusters=8 || echo n_neighbors=20)
  expect_ok "train $m --fit-on normal" "$VIGIL" train --data "$KDD/KDDTrain+_20Percent.txt.gz" \
    --test "$KDD/KDDTest+.txt.gz" --format kdd --model $m --param $param --fit-on normal --contamination 0.05 \
    --json -o "$WORK/$m.vgm"
  auc=$(json_get "$WORK/out" roc_auc)
  ge "$auc" 0.80 && pass "$m KDDTest+ ROC-AUC $auc >= 0.80" || fail "$m ROC-AUC $auc"
  expect_ok "eval $m" "$VIGIL" eval --model "$WORK/$m.vgm" --data "$KDD/KDDTest+.txt.gz" --json
  [[ $(json_get "$WORK/out" roc_auc) == "$auc" ]] && pass "$m eval gives train's ROC-AUC" \
    || fail "$m eval ROC-AUC $(json_get "$WORK/out" roc_auc) vs $auc"
  zcat "$KDD/KDDTest+.txt.gz" | head -n 200 >"$WORK/t200.txt"
  expect_ok "predict --explain $m" "$VIGIL" predict --model "$WORK/$m.vgm" --data "$WORK/t200.txt" --explain \
    -o "$WORK/$m.csv"
  # row,score,prediction,explained,raw_score,bias,contrib_...: bias + contributions = raw_score = score.
  bad=$(awk -F, 'NR > 1 { s = 0; for (i = 6; i <= NF; i++) s += $i; d = s - $5; if (d < 0) d = -d;
                  e = $5 - $2; if (e < 0) e = -e; tol = 1e-3 * ($5 > 1 ? $5 : 1);
                  if (d > tol || e > tol) n++ } END { print n + 0 }' "$WORK/$m.csv")
  rows=$(($(wc -l <"$WORK/$m.csv") - 1))
  [[ $rows == 200 && $bad == 0 ]] && pass "$m: 200 explanations summing to their scores" \
    || fail "$m explanations: $rows rows, $bad not summing ($(sed -n 2p "$WORK/$m.csv" | cut -c1-120))"
done
expect_ok "inspect lof" "$VIGIL" inspect "$WORK/lof.vgm"
grep -q "training rows kept" "$WORK/out" && pass "inspect lof says the rows it keeps" || fail "inspect lof"
start_server "$WORK/serve2.log" --model "km=$WORK/kmeans.vgm" --model "lof=$WORK/lof.vgm"
if [[ -z $SERVER_URL ]]; then
  fail "server did not start: $(cat "$WORK/serve2.log")"
else
  for m in km lof; do
    curl -s --max-time 10 "$SERVER_URL/v1/models/$m" >"$WORK/detail.json"
    /usr/bin/python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['example']))" \
      "$WORK/detail.json" >"$WORK/example.json" 2>/dev/null
    got=$(curl -s --max-time 10 -H 'Content-Type: application/json' --data-binary @"$WORK/example.json" \
      "$SERVER_URL/v1/detect?explain=1&model=$m")
    grep -q "\"model\":\"$m\"" <<<"$got" && grep -q '"anomaly"' <<<"$got" && grep -q '"score"' <<<"$got" \
      && pass "served $m: $(head -c 120 <<<"$got")" \
      || fail "served $m: $got"
  done
fi

expect_error "unknown knn parameter" "leaf_size" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model knn --param leaf_size=30 -o "$WORK/x.vgm"
expect_error "bad metric" "metric" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model knn --param metric=chebyshev -o "$WORK/x.vgm"
expect_error "bad kmeans range" "n_clusters" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model kmeans --param n_clusters=5..3 -o "$WORK/x.vgm"
expect_error "lof n_neighbors 0" "n_neighbors" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model lof --param n_neighbors=0 -o "$WORK/x.vgm"
finish
