# Helpers for the integration scripts (sourced, not run): each script gets
# the vigil binary as $1, works in a fresh temporary folder and exits
# non-zero if any check failed.
set -u
VIGIL=${1:?usage: script PATH/TO/vigil}
SHARED=${VG_SHARED_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/data}
SRC=${VG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d /tmp/vigil-it.XXXXXX)
FAILS=0

# Background processes whose pids are added to PIDS are stopped (and waited
# for) when the script exits, before the work folder goes.
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_server LOG ARGS...: vigil serve in the background on a free port;
# SERVER_URL is set once it says it listens (empty if it never does within
# 10 s). Not to be run in a subshell: the pid must reach PIDS.
start_server() {
  local log=$1; shift
  SERVER_URL=
  "$VIGIL" serve --listen 127.0.0.1:0 --threads 2 "$@" >"$log" 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 100); do
    if grep -q "listening on http://" "$log"; then
      SERVER_URL=$(grep -oE "http://[0-9.]+:[0-9]+" "$log" | head -n1)
      return
    fi
    sleep 0.1
  done
}

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok:   $*"; }

# expect_ok "what" cmd...: the command exits 0.
expect_ok() {
  local what=$1; shift
  if "$@" >"$WORK/out" 2>"$WORK/err"; then pass "$what"; else fail "$what (exit $?): $(head -c 400 "$WORK/err")"; fi
}

# expect_error "what" "pattern" cmd...: non-zero exit, exactly one line on
# stderr matching the pattern, no crash (exit < 128).
expect_error() {
  local what=$1 pattern=$2; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if ((rc == 0)); then fail "$what: exit 0, expected an error"; return; fi
  if ((rc >= 128)); then fail "$what: crashed (exit $rc)"; return; fi
  local lines; lines=$(wc -l <"$WORK/err")
  if ! grep -qE -- "$pattern" "$WORK/err"; then fail "$what: stderr lacks /$pattern/: $(cat "$WORK/err")"; return; fi
  if ((lines != 1)); then fail "$what: expected one error line, got $lines: $(cat "$WORK/err")"; return; fi
  pass "$what -> $(cat "$WORK/err")"
}

# json_get FILE KEY: a top-level number or string from a one-line JSON object.
json_get() {
  grep -oE "\"$2\":(\"[^\"]*\"|[-0-9.eE+]+|null)" "$1" | head -n1 | cut -d: -f2- | tr -d '"'
}

# per_kind TRUTH PRED POSITIVE OFFSET: detection per attack kind
# (tools/per_kind.awk, which says what the figures are) into $WORK/kinds as
# "kind lines detected recall precision" lines, and shown as a table.
per_kind() {
  awk -F, -v positive="$3" -v offset="$4" -f "$SRC/tools/per_kind.awk" "$1" "$2" >"$WORK/kinds"
  awk 'BEGIN { printf "  %-20s %7s %8s %7s %9s\n", "kind", "lines", "detected", "recall", "precision" }
       $1 == "normal" { printf "  %-20s %7d %8d  false alarms (rate %s)\n", $1, $2, $3, $4; next }
       { printf "  %-20s %7d %8d %7s %9s\n", $1, $2, $3, $4, $5 }' "$WORK/kinds"
}
# kind_figure KIND COLUMN: a figure of $WORK/kinds (lines, detected, recall,
# precision; for "normal": lines, detected = false alarms, recall = their rate).
kind_figure() {
  awk -v k="$1" -v c="$2" '$1 == k { print $(c == "lines" ? 2 : c == "detected" ? 3 : c == "recall" ? 4 : 5) }' \
    "$WORK/kinds"
}

# ge A B: A >= B as floating point.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

finish() {
  if ((FAILS)); then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"
}
