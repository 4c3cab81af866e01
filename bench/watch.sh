#!/usr/bin/env bash
# Streaming detection benchmark: lines per second through parse, online
# features and a model in `vigil watch`, one thread (CPU and wall) and all
# threads (--threads 2, wall), RSS sampled over a long run to show memory
# stays flat, and a check that scoring in blocks and on a second thread gives
# the same alerts as scoring each line alone. Writes the section "## Streaming
# detection: lines per second" of bench/RESULTS.md (replacing it, keeping the
# others). Usage: bench/watch.sh [VIGIL] [LINES_FOR_SPEED] [LINES_FOR_MEMORY]
# With BASE=/path/to/an/older/vigil in the environment, its one-thread runs
# alternate with VIGIL's (same load for both) and the section gives both.
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=$(realpath "${1:-build/vigil}")
N=${2:-1000000}
M=${3:-10000000}
WORK=$(mktemp -d /tmp/vigil-bench-watch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
KDD=../shared/data/nsl-kdd/KDDTrain+_20Percent.txt.gz

# The workload: weblog + gbdt (200 trees) when both exist, else KDD + forest.
if "$VIGIL" synth --format weblog --events 200000 --seed 1 --truth "$WORK/truth.csv" -o "$WORK/base.log" 2>/dev/null \
   && cut -d, -f1 "$WORK/truth.csv" | grep -E '^[0-9]+$' >"$WORK/labels.txt" \
   && "$VIGIL" train --data "$WORK/base.log" --format weblog --labels "$WORK/labels.txt" --model gbdt \
        --param n_estimators=200 -o "$WORK/m.vgm" >/dev/null 2>&1; then
  WORKLOAD="weblog lines (vigil synth --format weblog, 200,000 distinct lines repeated), gbdt with 200 trees"
else
  zcat "$KDD" >"$WORK/base.log"
  "$VIGIL" train --data "$KDD" --format kdd --model forest --param n_estimators=100 -o "$WORK/m.vgm" >/dev/null
  WORKLOAD="NSL-KDD lines (KDDTrain+_20Percent repeated), forest with 100 trees"
fi
base_lines=$(wc -l <"$WORK/base.log")
repeat() { local n=$1 i=0; while ((i * base_lines < n)); do cat "$WORK/base.log"; i=$((i + 1)); done | head -n "$n"; }
repeat "$N" >"$WORK/big.log"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Same alerts whatever the scoring: line by line (--batch 1), in blocks (the
# default), in blocks on a second thread; JSON lines with explanations.
"$VIGIL" watch --model "$WORK/m.vgm" --explain --batch 1 - <"$WORK/base.log" >"$WORK/a1.json"
"$VIGIL" watch --model "$WORK/m.vgm" --explain - <"$WORK/base.log" >"$WORK/a2.json"
"$VIGIL" watch --model "$WORK/m.vgm" --explain --threads 2 - <"$WORK/base.log" >"$WORK/a3.json"
n_alerts=$(wc -l <"$WORK/a1.json")
if cmp -s "$WORK/a1.json" "$WORK/a2.json" && cmp -s "$WORK/a1.json" "$WORK/a3.json"; then same=yes; else same=NO; fi
echo "alerts on $base_lines lines: $n_alerts; identical for --batch 1, blocks, --threads 2: $same"

# Speed: the whole file through stdin (the same reader as --from-start, but it
# ends at end of file); best of 3 by CPU time (user + sys), and best wall.
# run THREADS: sets best_cpu, best_wall.
# one BIN THREADS: one timed run; sets cpu and wall.
one() {
  /usr/bin/time -f "%e %U %S" -o "$WORK/t" "$1" watch --model "$WORK/m.vgm" --quiet --threads "$2" - <"$WORK/big.log" 2>/dev/null
  read -r wall user sys <"$WORK/t"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
}
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# run THREADS [BASE_BIN]: best of 3 (base_cpu: BASE_BIN's, run after each).
run() {
  best_cpu=1e9; best_wall=1e9; base_cpu=1e9
  for _ in 1 2 3; do
    one "$VIGIL" "$1"
    if less "$cpu" "$best_cpu"; then best_cpu=$cpu; fi
    if less "$wall" "$best_wall"; then best_wall=$wall; fi
    if [[ -n ${2:-} ]]; then one "$2" "$1"; if less "$cpu" "$base_cpu"; then base_cpu=$cpu; fi; fi
  done
}
run 1 "${BASE:-}"
cpu1=$best_cpu; wall1=$best_wall; cpu_base=$base_cpu
run 2
cpu2=$best_cpu; wall2=$best_wall
rate() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
lps_cpu=$(rate "$cpu1"); lps_wall=$(rate "$wall1"); lps_cpu2=$(rate "$cpu2"); lps_wall2=$(rate "$wall2")
echo "speed, 1 thread: $N lines, cpu ${cpu1}s (${lps_cpu}/s), wall ${wall1}s (${lps_wall}/s)"
base_note=""
if [[ -n ${BASE:-} ]]; then
  base_note="The same runs alternated with \`$BASE\` (the build before the change being measured), best of 3: $cpu_base CPU s ($(rate "$cpu_base") lines/s per core); this build $cpu1 CPU s."
  echo "$base_note"
fi
echo "speed, 2 threads: $N lines, cpu ${cpu2}s (${lps_cpu2}/s), wall ${wall2}s (${lps_wall2}/s)"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before, after: $load_after"

# Memory: M lines streamed in, RSS from the -v statistics every second.
repeat "$M" | "$VIGIL" watch --model "$WORK/m.vgm" --quiet -v --stats-every 1 - 2>"$WORK/stats" || true
grep -oE '^vigil watch: [0-9]+ lines|RSS [0-9]+' "$WORK/stats" | paste - - | awk '{ print $3, $6 }' >"$WORK/rss"
samples=$(wc -l <"$WORK/rss")
rss_first=$(awk 'NR == 2 { print $2 }' "$WORK/rss")
rss_last=$(tail -n1 "$WORK/rss" | awk '{ print $2 }')
rss_max=$(awk 'NR >= 2 && $2 > m { m = $2 } END { print m }' "$WORK/rss")
lines_done=$(tail -n1 "$WORK/rss" | awk '{ print $1 }')
echo "memory: $lines_done lines, $samples samples, RSS at 2nd sample $rss_first KiB, max $rss_max KiB, end $rss_last KiB"
met=$(awk -v l="$lps_cpu" 'BEGIN { print (l >= 500000) ? "met" : "not met" }')

/usr/bin/python3 - "$WORKLOAD" "$N" "$cpu1" "$wall1" "$lps_cpu" "$lps_wall" "$cpu2" "$wall2" "$lps_cpu2" "$lps_wall2" \
  "$lines_done" "$samples" "$rss_first" "$rss_max" "$rss_last" "$met" "$WORK/rss" "$load_before" "$load_after" \
  "$base_lines" "$n_alerts" "$same" "$base_note" "$M" <<'PY'
import sys
(workload, n, cpu1, wall1, lps_cpu, lps_wall, cpu2, wall2, lps_cpu2, lps_wall2, lines, samples, rss_first, rss_max,
 rss_last, met, rss_file, load_before, load_after, base_lines, n_alerts, same, base_note, m) = sys.argv[1:]
curve = [l.split() for l in open(rss_file) if l.strip()]
step = max(1, len(curve) // 8)
pts = ", ".join(f"{int(a)/1e6:.1f}M: {int(b)/1024:.1f}" for a, b in curve[::step])
sec = f"""## Streaming detection: lines per second

Command: `{"BASE=... " if base_note else ""}bench/watch.sh build/vigil {n} {m}` on this machine (2 cores, shared with other engineers' builds
and benchmarks while measured: load average {load_before} before the speed runs, {load_after} after; CPU time is
the figure to trust, wall time is shown too). `vigil watch --model M --quiet [--threads 2] - < FILE` (stdin from
the file: the same follower, parser, online features and model as `--from-start FILE`, but it ends at end of
file); lines are scored in blocks of 1024 while they keep coming (docs/streaming.md). Workload: {workload}.

| measure | 1 thread | `--threads 2` |
|---|---:|---:|
| lines | {int(n):,} | {int(n):,} |
| CPU seconds (user + sys, best of 3) | {float(cpu1):.2f} | {float(cpu2):.2f} |
| lines per second per core (CPU) | {int(lps_cpu):,} | {int(lps_cpu2):,} |
| wall seconds, best of 3 | {float(wall1):.2f} | {float(wall2):.2f} |
| lines per second (wall) | {int(lps_wall):,} | {int(lps_wall2):,} |
| CPUs used (CPU seconds / wall seconds of the best runs) | {float(cpu1)/float(wall1):.2f} | {float(cpu2)/float(wall2):.2f} |

With `--threads 2` the second thread scores the blocks while the first reads and computes features; a figure of
about 1.0 CPUs used for it means the two threads found one free core between them (the machine's other work held
the other), so its wall time cannot show the gain.

Target 500,000 lines/s per core (CPU, one thread): {met}. {base_note + chr(10) + chr(10) if base_note else ""}Before the layout bound once (vg_pipeline_plan), the weblog
memos and the kernel's register tiles (main at 72651a0, a quiet machine, load 0.1-2.8): 2.55 CPU s (392,157 lines/s
per core), 2.44 s wall. Before scoring in blocks and the cheaper per-line work
(commit 0f4033d, the same 1,000,000 lines, measured 2026-11-21 at load average 2.6): 4.55 CPU s (219,780 lines/s per
core), 5.26 s wall; a steady writer through a pipe was held to one 64 KiB pipeful per 50 ms sleep (100,000 lines
written at 100,000 lines/s took 10.9 s through `vigil watch -`; 2.0 s with the wait on stdin).

Alerts on the {int(base_lines):,} distinct lines
({int(n_alerts):,} alerts, JSON with explanations) identical for `--batch 1` (each line scored alone), blocks,
and `--threads 2`: {same}.

Memory over {int(lines):,} lines ({samples} RSS samples, one per second, stdin from a pipe): RSS
{int(rss_first)/1024:.1f} MiB at the 2nd sample, max {int(rss_max)/1024:.1f} MiB, {int(rss_last)/1024:.1f} MiB
at the end (MiB by lines read: {pts}).
"""
sys.path.insert(0, "bench")
from results import put_section
put_section(sec)
print("wrote the section to bench/RESULTS.md")
PY
