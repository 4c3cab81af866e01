#!/usr/bin/env bash
# vigil's svm (RBF C-SVC) against LIBSVM's svm-train / svm-predict (Debian's
# libsvm-tools, single-threaded) on NSL-KDD, binary task (attack vs normal):
# trained on a 20,000-row sample of KDDTrain+ stratified by attack category
# (seed 1), tested on all of KDDTest+ (22,544 rows).
#
# Same rows, same numbers on both sides: bench/svm_data.py writes the sample
# as KDD records for vigil and, from the same rows, the LIBSVM files in the
# encoding vigil's pipeline gives a kernel family (numbers standardised with
# the sample's mean and population std, categories one-hot over the sample's
# values). Both get C=1, gamma = scikit-learn's 'scale' on that matrix
# (passed as a number to both), tol 1e-3 and a 200 MB kernel cache (LIBSVM's
# default is 100; vigil's, like scikit-learn's, is 200); shrinking on.
#
# Timings, best of RUNS (3), the two sides alternating:
#   train    vigil: train_seconds of `vigil train --json` (pipeline fit and
#            encoding + SMO; the CSV read before it is left out, about 0.1 s);
#            LIBSVM: wall time of svm-train (reading its text file + SMO + model file)
#   predict  vigil: wall time of `vigil eval` (read, encode, predict, metrics);
#            LIBSVM: wall time of svm-predict (read, predict, write)
# and the same with probabilities (probability=true against -b 1: five extra
# trainings for the cross-validated Platt fit; best of PROB_RUNS, 1 unless set). With --full also all of
# KDDTrain+ (125,973 rows; LIBSVM takes minutes there: one run each, without probabilities unless
# FULL_PROB=1, as -b 1 would take five more such trainings); --full-only runs only that.
# vigil runs with its defaults (all CPUs). Writes "## SVM: vigil vs LIBSVM" (the sample) and
# "## SVM on all of KDDTrain+: vigil vs LIBSVM" into bench/RESULTS.md.
# usage: bench/svm.sh [BUILD] [RUNS] [--full|--full-only]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd); RUNS=${2:-3}; FULL=${3:-}
PROB_RUNS=${PROB_RUNS:-1}  # -b 1 retrains five times per model: one run each unless asked
FULL_PROB=${FULL_PROB:-0}
DATA=${VG_SHARED_DATA:-../shared/data}/nsl-kdd
command -v svm-train >/dev/null || { echo "svm-train missing: apt-get install libsvm-tools" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_start=$(cut -d' ' -f1 /proc/loadavg)

wall() { local t0 t1; t0=$(date +%s.%N); "$@" >"$work/last.out" 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
json_get() { grep -oE "\"$2\":[-0-9.eE+]+" "$1" | head -n1 | cut -d: -f2; }
declare -A best
keep() { local cur=${best[$1]:-}; if [[ -z $cur ]] || (( $(echo "$2 < $cur" | bc -l) )); then best[$1]=$2; fi; }

# one SET ROWS RUNS PROBS: prepare the data, run both sides RUNS times each, without and (PROBS=2)
# with probabilities
one() {
  local set=$1 rows=$2 runs=$3 probs=$4 dir="$work/$1"
  mkdir -p "$dir"
  /usr/bin/python3 bench/svm_data.py "$DATA/KDDTrain+.txt.gz" "$DATA/KDDTest+.txt.gz" "$rows" 1 "$dir" >"$dir/info"
  zcat "$DATA/KDDTest+.txt.gz" >"$dir/test.txt"
  local g; g=$(cat "$dir/gamma.txt")
  for ((prob = 0; prob < probs; prob++)); do
    local b=() vp=false tag="$set"
    if ((prob)); then b=(-b 1); vp=true; tag="$set-prob"; fi
    local n=$runs; ((prob)) && n=$PROB_RUNS
    for run in $(seq "$n"); do
      "$BUILD/vigil" train --data "$dir/sample.txt" --format kdd --task binary --model svm --param C=1 \
        --param gamma="$g" --param probability=$vp --json -o "$dir/v.vgm" >"$dir/vtrain.json" 2>/dev/null
      keep "$tag-vtrain" "$(json_get "$dir/vtrain.json" train_seconds)"
      keep "$tag-ltrain" "$(wall svm-train -q -c 1 -g "$g" -m 200 "${b[@]}" "$dir/train.svm" "$dir/l.model")"
      keep "$tag-vpred" "$(wall "$BUILD/vigil" eval --model "$dir/v.vgm" --data "$dir/test.txt" --json)"
      cp "$work/last.out" "$dir/veval.json"
      keep "$tag-lpred" "$(wall svm-predict "${b[@]}" "$dir/test.svm" "$dir/l.model" "$dir/l.pred")"
      cp "$work/last.out" "$dir/lpred.out"
    done
    best[$tag-vacc]=$(json_get "$dir/veval.json" accuracy)
    best[$tag-lacc]=$(grep -oE "Accuracy = [0-9.]+" "$dir/lpred.out" | awk '{ printf "%.6f", $3 / 100 }')
    best[$tag-vsv]=$("$BUILD/vigil" inspect "$dir/v.vgm" | grep -oE "support vectors: [0-9]+" | awk '{ print $3 }')
    best[$tag-lsv]=$(awk '$1 == "total_sv" { print $2 }' "$dir/l.model")
  done
}

[[ $FULL != --full-only ]] && one sample 20000 "$RUNS" 2
[[ $FULL == --full* ]] && one full 0 1 $((1 + FULL_PROB))
load_end=$(cut -d' ' -f1 /proc/loadavg)

row() {  # TAG description
  local t=$1
  printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.4f | %.4f | %s / %s |\n' "$2" \
    "${best[$t-vtrain]}" "${best[$t-ltrain]}" "$(echo "${best[$t-vtrain]} / ${best[$t-ltrain]}" | bc -l)" \
    "${best[$t-vpred]}" "${best[$t-lpred]}" "${best[$t-vacc]}" "${best[$t-lacc]}" "${best[$t-vsv]}" "${best[$t-lsv]}"
}
# section TITLE SET RUNS ROWS: the table of one training set
section() {
  cat <<END
## $1

Command: \`bench/svm.sh build $RUNS $FULL\` at $(git log -1 --format=%h) on this machine ($(nproc) cores; load
average $load_start at the start, $load_end at the end of the script; other engineers' jobs were running, so the
figures are noisy). NSL-KDD binary (attack vs normal), RBF kernel, C=1, gamma = 'scale' of the encoded training
set ($(printf '%.6g' "$(cat "$work/$2/gamma.txt")"), the same number to both), tol 1e-3, 200 MB cache, shrinking.
Both sides read the same rows encoded the same way (bench/svm_data.py: numbers standardised, categories one-hot).
Tested on KDDTest+ (22,544 rows). Best of $3 runs, sides alternating. vigil: train = train_seconds (pipeline +
SMO, all CPUs), predict = \`vigil eval\` wall time; LIBSVM (single-threaded): svm-train and svm-predict wall
times. Seconds.

| training set | vigil train | LIBSVM train | ratio | vigil predict | LIBSVM predict | vigil accuracy | LIBSVM accuracy | support vectors (vigil / LIBSVM) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
$4
END
}
put() { printf '%s\n' "$1"; printf '%s\n' "$1" | /usr/bin/python3 bench/results.py; }
if [[ $FULL != --full-only ]]; then
  put "$(section "SVM: vigil vs LIBSVM" sample "$RUNS" "$(row sample "20,000-row sample"
    row sample-prob "20,000-row sample, probabilities (-b 1), best of $PROB_RUNS")")"
fi
if [[ $FULL == --full* ]]; then
  rows=$(row full "all of KDDTrain+ (125,973 rows)")
  ((FULL_PROB)) && rows+=$'\n'$(row full-prob "all of KDDTrain+, probabilities (-b 1)")
  put "$(section "SVM on all of KDDTrain+: vigil vs LIBSVM" full 1 "$rows")"
fi
