# The distance-based families through the commands: knn trained, evaluated,
# inspected, predicting and served on NSL-KDD and a small CSV; kmeans' range
# form prints its elbow table; parameter errors name the parameter. (kmeans
# and lof through eval/predict/serve come with the anomaly-score train path.)
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

expect_error "unknown knn parameter" "leaf_size" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model knn --param leaf_size=30 -o "$WORK/x.vgm"
expect_error "bad metric" "metric" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model knn --param metric=chebyshev -o "$WORK/x.vgm"
expect_error "bad kmeans range" "n_clusters" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model kmeans --param n_clusters=5..3 -o "$WORK/x.vgm"
expect_error "lof n_neighbors 0" "n_neighbors" "$VIGIL" train --data "$WORK/small.csv" --label label \
  --model lof --param n_neighbors=0 -o "$WORK/x.vgm"
finish
