#!/bin/bash
# vg_logfmt_read throughput on a synthetic 1M-line login log (one thread), and
# the state's bound: run from the source root after building into build/.
# Usage: bench/login.sh [EVENTS]
set -eu
EVENTS=${1:-1000000}
B=${BUILD:-build}
F=$(mktemp /tmp/vigil-login-bench.XXXXXX.csv)
trap 'rm -f "$F"' EXIT
"$B/vigil" synth --format login --events "$EVENTS" --seed 1 -o "$F"
echo "file: $(wc -c <"$F") bytes, $EVENTS events"
for run in 1 2 3; do "$B/login_read" "$F"; done
echo "with --max-entities 1000:"
"$B/login_read" "$F" 1000
