# libvigil and vigil built with the optional parts left out (no HTTP server,
# no SQLite, no Redis): they build and link without those libraries, train
# and predict work, and each left-out part is refused in one line naming the
# build option. Usage: tests/minimal_build.sh BUILD_DIR (run by scripts/test.sh).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: minimal_build.sh BUILD_DIR}
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok:   $*"; }

cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DVG_WITH_SERVER=OFF -DVG_WITH_SQLITE=OFF \
  -DVG_WITH_REDIS=OFF >/dev/null || { echo "FAIL: configure"; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" --target vigil vigil_shared 2>&1 | grep -E "error|warning" && fail "build warnings"
[[ -x $BUILD/vigil ]] || { echo "FAIL: no vigil built"; exit 1; }
libs=$(ldd "$BUILD/libvigil.so" "$BUILD/vigil" | grep -E "microhttpd|sqlite|hiredis")
[[ -z $libs ]] && pass "linked without libmicrohttpd, SQLite and hiredis" || fail "still linked: $libs"

WORK=$(mktemp -d /tmp/vigil-min.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
V=$BUILD/vigil
zcat "$SRC/data/nsl-kdd/KDDTrain+.txt.gz" | head -n 5000 >"$WORK/train.txt"
zcat "$SRC/data/nsl-kdd/KDDTest+.txt.gz" | head -n 500 >"$WORK/test.txt"
"$V" train --data "$WORK/train.txt" --format kdd --model tree -o "$WORK/m.vgm" >/dev/null 2>&1 \
  && pass "train" || fail "train"
n=$("$V" predict --model "$WORK/m.vgm" --data "$WORK/test.txt" 2>/dev/null | wc -l)
[[ $n == 501 ]] && pass "predict: 500 rows" || fail "predict: $n lines"
refused() {  # refused WHAT PATTERN CMD...: non-zero exit, one line naming the option
  local what=$1 pattern=$2; shift 2
  "$@" >/dev/null 2>"$WORK/err" </dev/null
  local rc=$?
  if ((rc != 0 && rc < 128)) && [[ $(wc -l <"$WORK/err") == 1 ]] && grep -q -- "$pattern" "$WORK/err"; then
    pass "$what -> $(cat "$WORK/err")"
  else
    fail "$what: exit $rc: $(cat "$WORK/err")"
  fi
}
refused "serve" "VG_WITH_SERVER=ON" "$V" serve --model "$WORK/m.vgm"
refused "watch --alerts" "VG_WITH_SQLITE=ON" "$V" watch --model "$WORK/m.vgm" --alerts "$WORK/a.db" -
refused "alerts" "VG_WITH_SQLITE=ON" "$V" alerts --db "$WORK/a.db"
refused "ship" "VG_WITH_REDIS=ON" "$V" ship --format kdd --redis redis://127.0.0.1:1/s --retry 0 "$WORK/test.txt"
exit $((FAILS > 0))
