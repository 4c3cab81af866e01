#!/usr/bin/env bash
# Choosing the NSL-KDD model on training rows only (issue 14). KDDTest+ is
# hard because it holds attack types KDDTrain+ lacks; cross-validation on
# KDDTrain+ cannot see that (every fold holds every type, ROC-AUC ~0.999 for
# every model). So the choice is made on a split of KDDTrain+ alone that
# imitates the shift: the rare attack types (fewer than 1000 training rows:
# back, teardrop, warezclient, pod, guess_passwd and the R2L/U2R handful) and
# every 5th normal row are held out as "unseen"; each candidate is fitted on
# every 3rd remaining row and ranked by its ROC-AUC on the held-out rows.
# KDDTest+ is never read. The winner is then run by bench/operating_point.sh.
# Writes "## NSL-KDD model choice on training rows only" into bench/RESULTS.md.
# usage: bench/operating_point_choice.sh [BUILD_DIR] ["MODEL ARGS..."]...
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
CANDIDATES=("$@")
((${#CANDIDATES[@]})) || CANDIDATES=(
  "forest --param n_estimators=300" "gbdt" "adaboost --param n_estimators=200 --param max_depth=3"
  "bagging --param n_estimators=50" "mlp --param max_iter=20" "knn"
  "forest --param n_estimators=300 --select 10" "forest --param n_estimators=300 --select 20"
  "vote:gbdt,forest,logreg" "stack:gbdt,forest,logreg"
  "vote:forest,adaboost --param forest.n_estimators=300 --param adaboost.n_estimators=200 --param adaboost.max_depth=3"
  "vote:forest,mlp --param forest.n_estimators=300 --param mlp.max_iter=20"
  "vote:forest,knn --param forest.n_estimators=300"
  "vote:forest,mlp,knn --param forest.n_estimators=300 --param mlp.max_iter=20"
  "vote:forest,adaboost,mlp --param forest.n_estimators=300 --param adaboost.n_estimators=200 --param adaboost.max_depth=3 --param mlp.max_iter=20")
DATA=${VG_SHARED_DATA:-../shared/data}/nsl-kdd
VIGIL=$(cd "$BUILD" && pwd)/vigil
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
zcat "$DATA/KDDTrain+.txt.gz" | awk -F, -v tr="$work/tr.txt" -v va="$work/va.txt" '
  BEGIN { n = split("back teardrop warezclient pod guess_passwd buffer_overflow warezmaster land imap rootkit " \
                    "loadmodule ftp_write multihop phf perl spy", a, " "); for (i = 1; i <= n; i++) rare[a[i]] = 1 }
  { if ($42 == "normal") { if (++nn % 5 == 0) { print > va; next } }
    else if ($42 in rare) { print > va; next }
    if (++m % 3 == 0) print > tr }'
ntr=$(wc -l <"$work/tr.txt"); nva=$(wc -l <"$work/va.txt")
rows=""
for c in "${CANDIDATES[@]}"; do
  read -ra args <<<"$c"
  t0=$(date +%s.%N)
  auc=$("$VIGIL" train --data "$work/tr.txt" --test "$work/va.txt" --format kdd --model "${args[@]}" --json \
        -o "$work/m.vgm" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["roc_auc"])')
  t1=$(date +%s.%N)
  line=$(printf '| `%s` | %.4f | %.0f |' "$c" "$auc" "$(echo "$t1 - $t0" | bc -l)")
  echo "$line"
  rows+="$line"$'\n'
done
section="## NSL-KDD model choice on training rows only

KDDTrain+ alone: the rare attack types (< 1000 rows) and every 5th normal row held out as unseen attacks
($nva rows), every 3rd remaining row fitted ($ntr rows); ROC-AUC on the held-out rows
(bench/operating_point_choice.sh; KDDTest+ is never read). Load average at start: $load (2 cores, shared).

| model | ROC-AUC on held-out attack types | s |
|---|---|---|
${rows}
The setting with the best held-out ROC-AUC is the one bench/operating_point.sh runs on KDDTest+."
printf '%s\n' "$section" | /usr/bin/python3 bench/results.py
