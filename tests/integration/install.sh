# libvigil as a user gets it: `cmake --install` into a temporary prefix, then
# examples/detect.c built against it through pkg-config, linked to the shared
# library (and again to the static one), and run on the sessions table. Also:
# the shared library exports the public API only, every public header
# compiles alone as C and as C++, and no third-party type is in them.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$VIGIL")" && pwd)
PREFIX=$WORK/prefix
DATA=$SHARED/cyber-intrusion-sessions/cybersecurity_intrusion_data.csv.gz

expect_ok "cmake --install" cmake --install "$BUILD" --prefix "$PREFIX"
for f in bin/vigil include/vigil/model.h include/vigil/decision.h lib/pkgconfig/vigil.pc; do
  [[ -e $PREFIX/$f ]] && pass "installed $f" || fail "not installed: $f"
done
ls "$PREFIX"/lib/libvigil.so* >/dev/null 2>&1 && ls "$PREFIX"/lib/libvigil.a >/dev/null 2>&1 \
  && pass "shared and static libvigil installed" || fail "libraries: $(ls "$PREFIX/lib")"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
# A sanitizer build's library needs its program built with the same runtime.
SAN=()
grep -q '^VG_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && SAN=(-fsanitize=address,undefined)
flags=$(pkg-config --cflags --libs vigil) && pass "pkg-config: $flags" || fail "pkg-config vigil"
expect_ok "build detect.c against the shared library" cc "${SAN[@]}" -Wall -Wextra -Werror "$SRC/examples/detect.c" $flags \
  -o "$WORK/detect"
zcat "$DATA" | head -n 2001 >"$WORK/train.csv"
zcat "$DATA" | sed -n '1p;2002,2501p' >"$WORK/new.csv"
expect_ok "run it" env LD_LIBRARY_PATH="$PREFIX/lib" "$WORK/detect" "$WORK/train.csv" attack_detected "$WORK/new.csv" \
  "$WORK/m.vgm"
grep -qE "^[0-9]+ of 500 records are anomalies$" "$WORK/out" && pass "detect: $(tail -1 "$WORK/out")" \
  || fail "detect output: $(cat "$WORK/out")"
LD_LIBRARY_PATH="$PREFIX/lib" ldd "$WORK/detect" | grep -q "$PREFIX/lib/libvigil.so" \
  && pass "linked to the installed libvigil.so" || fail "not linked to the installed shared library"
# Static: libvigil.a itself, its dependencies as the system has them (shared).
deps=$(pkg-config --libs $(pkg-config --print-requires-private vigil))
expect_ok "build detect.c against the static library" cc "${SAN[@]}" "$SRC/examples/detect.c" -I"$PREFIX/include" \
  "$PREFIX/lib/libvigil.a" $deps -lm -pthread -o "$WORK/detect-static"
expect_ok "run the static one" "$WORK/detect-static" "$WORK/train.csv" attack_detected "$WORK/new.csv" "$WORK/m2.vgm"
"$VIGIL" predict --model "$WORK/m.vgm" --data "$WORK/new.csv" -o "$WORK/pred.csv" 2>/dev/null
n_cli=$(awk -F, 'NR > 1 && $2 >= 0.5' "$WORK/pred.csv" | wc -l)
grep -q "^$n_cli of 500" "$WORK/out" && pass "the library decides as vigil predict does ($n_cli)" \
  || fail "vigil predict flags $n_cli: $(tail -1 "$WORK/out")"

# Exported: vg_ names only, and as many as the headers mark VG_API.
# (a sanitizer build adds its own instrumentation symbols: __odr_asan.*)
exported=$(nm -D --defined-only "$PREFIX"/lib/libvigil.so | awk '{ print $3 }' | grep -v '^__\(odr_asan\|asan\|ubsan\)' | sort)
other=$(grep -v '^vg_' <<<"$exported" | head -5)
[[ -z $other ]] && pass "only vg_ symbols exported" || fail "exported besides vg_: $other"
n_api=$(cat "$PREFIX"/include/vigil/*.h | grep -c 'VG_API [^_]')
n_exp=$(wc -l <<<"$exported")
[[ $n_exp == "$n_api" ]] && pass "$n_exp symbols exported = VG_API declarations" \
  || fail "$n_exp symbols exported, $n_api VG_API declarations"

# Every public header alone, as C and as C++ (extern "C"), no third-party type.
for h in "$PREFIX"/include/vigil/*.h; do
  name=vigil/$(basename "$h")
  printf '#include <%s>\nint main(void) { return 0; }\n' "$name" >"$WORK/h.c"
  cc -Wall -Werror -fsyntax-only -I"$PREFIX/include" "$WORK/h.c" 2>"$WORK/h.err" || fail "$name alone (C): $(head -3 "$WORK/h.err")"
  if command -v c++ >/dev/null; then
    printf '#include <%s>\nint main() { return 0; }\n' "$name" >"$WORK/h.cc"
    c++ -fsyntax-only -I"$PREFIX/include" "$WORK/h.cc" 2>"$WORK/h.err" || fail "$name (C++): $(head -3 "$WORK/h.err")"
  fi
done
pass "every public header compiles alone"
# (the types and includes, not the names in comments)
bad=$(grep -lE '#include <(cjson|sqlite3|hiredis|microhttpd|xxhash|zlib)|struct cJSON|sqlite3 \*|redisContext|MHD_Daemon|XXH64_hash_t' \
  "$PREFIX"/include/vigil/*.h | xargs -r -n1 basename)
[[ -z $bad ]] && pass "no third-party types in public headers" || fail "third-party types in: $bad"
exit $((FAILS > 0))
