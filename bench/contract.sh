#!/usr/bin/env bash
# Before and after the detector-contract changes (one decision module, the
# saved operating point, estimator v2, format registry, layers, the
# installable library): the same five workloads on two builds, run
# alternately (before, after, before, ...), best of RUNS each:
#   train    vigil train, NSL-KDD KDDTrain+, forest of 50 trees, 2 threads (wall s)
#   batch    vigil eval of that forest on KDDTest+ x5 (112,720 raw records; wall s)
#   record   build/bench_record: median us per single record, gbdt 200 trees
#   serve    wrk 10 s, 64 connections, POST /v1/detect of one KDD record (req/s)
#   watch    vigil watch of 200,000 weblog lines from stdin, gbdt 50 trees (wall s)
# Each build trains its own models. Writes "## Detector contract: before and
# after" into bench/RESULTS.md. Run it alone on the machine.
# usage: bench/contract.sh BEFORE_BUILD AFTER_BUILD [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$(cd "$1" && pwd); AFTER=$(cd "$2" && pwd); RUNS=${3:-3}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
load_start=$(cut -d' ' -f1 /proc/loadavg)

zcat data/nsl-kdd/KDDTest+.txt.gz >"$work/test1.txt"
for i in 1 2 3 4 5; do cat "$work/test1.txt"; done >"$work/test5.txt"
"$AFTER/vigil" synth --format weblog --events 200000 --seed 5 --truth "$work/truth.csv" -o "$work/web.log" 2>/dev/null
cut -d, -f1 "$work/truth.csv" >"$work/labels.txt"
/usr/bin/python3 - "$work/test1.txt" ../shared/data/nsl-kdd/field_names.csv "$work/record.json" <<'EOF'
import json, sys
fields = [l.split(",") for l in open(sys.argv[2]).read().split("\n") if l]
v = open(sys.argv[1]).readline().strip().split(",")
json.dump({n: (x if k.strip() == "symbolic" else float(x)) for (n, k), x in zip(fields, v)}, open(sys.argv[3], "w"))
EOF
cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$(cat "$work/record.json")]]
EOF

for side in before after; do
  B=$BEFORE; [[ $side == after ]] && B=$AFTER
  "$B/vigil" train --data data/nsl-kdd/KDDTrain+.txt.gz --format kdd --model forest --param n_estimators=50 \
    --threads 2 -o "$work/$side-forest.vgm" >/dev/null
  "$B/vigil" train --data data/nsl-kdd/KDDTrain+.txt.gz --format kdd --model gbdt --param n_estimators=200 \
    --param max_depth=6 --threads 2 -o "$work/$side-gbdt.vgm" >/dev/null
  "$B/vigil" train --data "$work/web.log" --format weblog --labels "$work/labels.txt" --model gbdt \
    --param n_estimators=50 -o "$work/$side-web.vgm" >/dev/null
done

wall() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
serve_rps() {  # build side: req/s of one wrk run against that build's server
  local B=$1 side=$2 port
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$B/vigil" serve --model "$work/$side-gbdt.vgm" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 50); do grep -q listening "$work/serve.log" && break; sleep 0.1; done
  wrk -t1 -c64 -d10s -s "$work/post.lua" "http://127.0.0.1:$port/v1/detect" | awk '/Requests\/sec/ { print $2 }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
declare -A best
keep() {  # keep NAME VALUE lower|higher
  local cur=${best[$1]:-}
  if [[ -z $cur ]] || { [[ $3 == lower ]] && (( $(echo "$2 < $cur" | bc -l) )); } ||
     { [[ $3 == higher ]] && (( $(echo "$2 > $cur" | bc -l) )); }; then best[$1]=$2; fi
}
for run in $(seq "$RUNS"); do
  for side in before after; do
    B=$BEFORE; [[ $side == after ]] && B=$AFTER
    keep "$side-train" "$(wall "$B/vigil" train --data data/nsl-kdd/KDDTrain+.txt.gz --format kdd --model forest \
      --param n_estimators=50 --threads 2 -o "$work/x.vgm")" lower
    keep "$side-batch" "$(wall "$B/vigil" eval --model "$work/$side-forest.vgm" --data "$work/test5.txt" --threads 2)" lower
    keep "$side-record" "$("$B/bench_record" "$work/$side-gbdt.vgm" data/nsl-kdd/KDDTest+.txt.gz |
      grep -o 'median [0-9.]* us' | awk '{ print $2 }')" lower
    keep "$side-serve" "$(serve_rps "$B" "$side")" higher
    keep "$side-watch" "$(wall sh -c "\"$B/vigil\" watch --model \"$work/$side-web.vgm\" --quiet - <\"$work/web.log\"")" lower
  done
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

row() {  # name unit lower|higher description
  local b=${best[before-$1]} a=${best[after-$1]}
  printf '| %s | %s | %.3f | %.3f | %+.1f%% |\n' "$4" "$2" "$b" "$a" "$(echo "($a - $b) / $b * 100" | bc -l)"
}
section=$(cat <<END
## Detector contract: before and after

Command: \`bench/contract.sh BEFORE AFTER $RUNS\` on this machine ($(nproc) cores; load average $load_start at the
start, $load_end at the end). BEFORE is $(git -C "$BEFORE/.." log -1 --format=%h 2>/dev/null || echo "the build before")
(main before the correctness and contract work), AFTER is $(git log -1 --format=%h). Best of $RUNS runs per side,
sides alternating. Each side trains its own models.

| workload | unit | before | after | change |
|---|---|---:|---:|---:|
$(row train s lower "train: forest 50 trees on KDDTrain+ (125,973 rows), 2 threads")
$(row batch s lower "batch: eval of that forest on KDDTest+ x5 (112,720 records)")
$(row record us lower "single record: gbdt 200 trees, median per record (bench_record)")
$(row serve req/s higher "server: POST /v1/detect, wrk 64 connections, 10 s")
$(row watch s lower "watch: 200,000 weblog lines, gbdt 50 trees")
END
)
printf '%s\n' "$section"
printf '%s\n' "$section" | /usr/bin/python3 bench/results.py
