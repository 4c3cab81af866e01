#!/usr/bin/env bash
# The NSL-KDD operating point (issue 14): KDDTrain+ -> KDDTest+ with the
# threshold chosen by `vigil train --threshold-by fpr:0.01` on 5-fold
# out-of-fold scores of KDDTrain+ alone. The train command is not given the
# test file at all (no --test): the model is saved, then `vigil eval` scores
# KDDTest+ at the saved threshold and, for comparison, at the default 0.5.
# So the choice cannot have used a test row. Writes "## NSL-KDD operating
# point (threshold from training rows only)" into bench/RESULTS.md.
# usage: bench/operating_point.sh [BUILD_DIR] [MODEL[@PARAM=V;PARAM=V...]]...
# (MODEL may hold a colon and commas: vote:gbdt,forest,logreg@weights=2,1,1;voting=soft).
# VG_OP_SELECT=K adds --select K to every setting; VG_OP_FOLDS=K sets --threshold-folds (default 5);
# VG_OP_BY=RULE sets --threshold-by (default fpr:0.01; bench/ensemble_proxy.py --rules chooses it on training rows).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
SETTINGS=("$@")
((${#SETTINGS[@]})) || SETTINGS=(gbdt forest "forest@n_estimators=300"
  "vote:forest,mlp@forest.n_estimators=300;mlp.max_iter=20"
  "vote:forest,adaboost@forest.n_estimators=300;adaboost.n_estimators=200;adaboost.max_depth=3")
DATA=${VG_SHARED_DATA:-../shared/data}/nsl-kdd
VIGIL=$(cd "$BUILD" && pwd)/vigil
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
get() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
rows=""
for s in "${SETTINGS[@]}"; do
  model=${s%%@*}; params=()
  if [[ $s == *@* ]]; then IFS=';' read -ra kv <<<"${s#*@}"; for p in "${kv[@]}"; do params+=(--param "$p"); done; fi
  t0=$(date +%s.%N)
  [[ -n ${VG_OP_SELECT:-} ]] && params+=(--select "$VG_OP_SELECT")
  "$VIGIL" train --data "$DATA/KDDTrain+.txt.gz" --format kdd --model "$model" "${params[@]}" \
    --threshold-by "${VG_OP_BY:-fpr:0.01}" --threshold-folds "${VG_OP_FOLDS:-5}" -o "$work/m.vgm" >"$work/train.txt"
  t1=$(date +%s.%N)
  by=$(grep -oE 'score >= .*' "$work/train.txt")
  "$VIGIL" eval --model "$work/m.vgm" --data "$DATA/KDDTest+.txt.gz" --json >"$work/at.json"
  "$VIGIL" eval --model "$work/m.vgm" --data "$DATA/KDDTest+.txt.gz" --threshold 0.5 --json >"$work/d.json"
  thr=$(get "$work/at.json" threshold)
  label="$s${VG_OP_SELECT:+ --select $VG_OP_SELECT}"
  line=$(printf '| %s | %.4g | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f |' "$label" "$thr" "$(get "$work/d.json" accuracy)" \
    "$(get "$work/at.json" accuracy)" "$(get "$work/at.json" roc_auc)" "$(get "$work/at.json" fpr)" \
    "$(get "$work/at.json" recall)" "$(echo "$t1 - $t0" | bc -l)")
  echo "$line"; echo "  $by"
  rows+="$line"$'\n'
  notes+="- $label: $by"$'\n'
done
section="## NSL-KDD operating point (threshold from training rows only)

\`vigil train --data KDDTrain+ --format kdd --model M --threshold-by fpr:0.01 -o m.vgm\` (no test file given),
then \`vigil eval --model m.vgm --data KDDTest+\` at the saved threshold and at \`--threshold 0.5\`.
Parameters as in the model column; load average at start: $load (2 cores, shared with other sessions).

| model | threshold | acc @0.5 | acc @threshold | ROC-AUC | test FPR | test recall | train s (6 fits) |
|---|---|---|---|---|---|---|---|
${rows}
How each threshold was chosen (what the model file says, \`vigil inspect\`):
${notes}
The issue's bar is accuracy >= 0.90 with ROC-AUC >= 0.97 on KDDTest+. The threshold moves accuracy only: the
ROC-AUC is the model's ranking and no setting here reaches 0.97."
printf '%s\n' "$section" | /usr/bin/python3 bench/results.py
