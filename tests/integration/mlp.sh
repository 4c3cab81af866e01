# The mlp through the commands: train (with a held-out test file), eval,
# predict, inspect, and its parameter errors as one clear line each.
# (The autoencoder joins once the unlabelled train path has landed.)
source "$(dirname "$0")/lib.sh"
GOLD=$SRC/tests/golden/binary.csv
expect_ok "train mlp" "$VIGIL" train --data "$GOLD" --split 0.3 --model mlp --param hidden_layer_sizes=16,8 \
  --param early_stopping=true --param learning_rate_init=0.01 --json -o "$WORK/mlp.vgm"
auc=$(json_get "$WORK/out" roc_auc)
if ge "$auc" 0.95; then pass "mlp held-out ROC-AUC $auc >= 0.95"; else fail "mlp held-out ROC-AUC $auc < 0.95"; fi
expect_ok "eval mlp" "$VIGIL" eval --model "$WORK/mlp.vgm" --data "$GOLD" --json
expect_ok "predict mlp" "$VIGIL" predict --model "$WORK/mlp.vgm" --data "$GOLD" -o "$WORK/p.csv"
rows=$(($(wc -l <"$GOLD") - 1))
if (($(wc -l <"$WORK/p.csv") == rows + 1)); then pass "predict wrote $rows rows"; else fail "predict rows"; fi
expect_ok "inspect mlp" "$VIGIL" inspect "$WORK/mlp.vgm"
grep -q "layers: 30-16-8-1" "$WORK/out" && pass "inspect shows the layers" || fail "inspect lacks the layers"
# the same seed gives the same model file whatever the thread count
"$VIGIL" train --data "$GOLD" --model mlp --param max_iter=5 --threads 1 -o "$WORK/a.vgm" >/dev/null 2>&1
"$VIGIL" train --data "$GOLD" --model mlp --param max_iter=5 --threads 2 -o "$WORK/b.vgm" >/dev/null 2>&1
"$VIGIL" predict --model "$WORK/a.vgm" --data "$GOLD" -o "$WORK/pa.csv" >/dev/null 2>&1
"$VIGIL" predict --model "$WORK/b.vgm" --data "$GOLD" -o "$WORK/pb.csv" >/dev/null 2>&1
cmp -s "$WORK/pa.csv" "$WORK/pb.csv" && pass "threads 1 and 2 predict the same" || fail "thread count changed the model"
expect_error "bad hidden_layer_sizes" "hidden_layer_sizes" "$VIGIL" train --data "$GOLD" --model mlp \
  --param hidden_layer_sizes=0 -o "$WORK/x.vgm"
expect_error "bad activation" "activation" "$VIGIL" train --data "$GOLD" --model mlp --param activation=gelu -o "$WORK/x.vgm"
expect_error "unknown parameter" "n_estimators" "$VIGIL" train --data "$GOLD" --model mlp --param n_estimators=3 -o "$WORK/x.vgm"
finish
