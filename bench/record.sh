#!/usr/bin/env bash
# Single-record latency of a 200-tree gbdt (n_estimators=200, max_depth=6,
# learning_rate=0.1) trained on NSL-KDD KDDTrain+: raw field values of
# KDDTest+ records through the pipeline and the model, one record per call
# (build/bench_record), five runs. Writes the section
# "## Single-record prediction" into bench/RESULTS.md.
# usage: bench/record.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$B/vigil" train --data data/nsl-kdd/KDDTrain+.txt.gz --format kdd --model gbdt --param n_estimators=200 \
  --param max_depth=6 --param learning_rate=0.1 --threads 2 -o "$work/gbdt.vgm" >/dev/null
runs=()
for i in 1 2 3 4 5; do
  runs+=("$("$B/bench_record" "$work/gbdt.vgm" data/nsl-kdd/KDDTest+.txt.gz)")
done
median() { printf '%s\n' "${runs[@]}" | grep -o "$1 [0-9.]* us" | awk '{print $2}' | sort -n | sed -n 3p; }
section=$(cat <<END
## Single-record prediction

Command: \`bench/record.sh\` on this machine ($(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the end).
A gbdt with 200 trees (max_depth 6, learning_rate 0.1) trained on KDDTrain+; 20,000 KDDTest+ records
given as raw name/value fields (43 per record, numbers and category strings) are scored one at a time
with vg_model_predict_record (pipeline + model), after 1,000 warm-up calls. Middle of five runs:

| median us | p90 us | p99 us | target |
|---:|---:|---:|---|
| $(median median) | $(median p90) | $(median p99) | median < 5 us |
END
)
printf '%s\n' "${runs[@]}"
printf '%s\n' "$section"
printf '%s\n' "$section" | /usr/bin/python3 bench/results.py
