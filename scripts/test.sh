#!/usr/bin/env bash
# Install everything the tests need, build, and run every test: the unit and
# integration tests in a release build, then all of them again under
# AddressSanitizer + UndefinedBehaviorSanitizer (but the browser test, which
# adds nothing there and only slows down), then the README's fuzzing build
# (clang, libFuzzer) with every fuzz target run for a few seconds on its
# corpus (VG_FUZZ_SECONDS, default 3), each run one test, and a build with
# the optional parts left out (tests/minimal_build.sh). Ends with ctest's
# summary and one line "N passed, N failed" over all runs; a build that
# fails counts as a failed test.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test || exit 1

passed=0; failed=0
run_ctest() {  # build dir, extra ctest args...
  local dir=$1; shift
  local log; log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure -j2 "$@" 2>&1 | tee "$log"
  local line; line=$(grep -E '[0-9]+% tests passed' "$log" | tail -n 1)
  local total; total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  local bad; bad=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  if [[ -z "$line" ]]; then bad=1; total=1; fi
  passed=$((passed + total - bad)); failed=$((failed + bad))
  rm -f "$log"
}

echo "== release build: unit and integration tests"
run_ctest build

targets=()  # what build() builds; empty = everything
build() {  # build dir, cmake configure args...: 0 if it configured and built
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null || { echo "FAILED: configure $dir"; return 1; }
  cmake --build "$dir" -j"$(nproc)" ${targets[@]+--target "${targets[@]}"} 2>&1 | grep -Ev '^\[ *[0-9]+%\]'
  ((PIPESTATUS[0] == 0)) || { echo "FAILED: build $dir"; return 1; }
}

echo "== sanitizer build (address, undefined): unit and integration tests"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DVG_SANITIZE=ON || failed=$((failed + 1))
ASAN_OPTIONS=detect_leaks=1 run_ctest build-asan -E '^integration_dashboard$'

# The README's fuzz build: every fuzz target, and the vigil command as the
# witness that whatever else links the instrumented library links (the
# tests and benchmarks would add build time and prove nothing more).
echo "== fuzz build (clang, libFuzzer): each fuzz target for ${VG_FUZZ_SECONDS:-3} s on its corpus"
targets=(vigil)
for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
if build build-fuzz -DVG_FUZZ=ON -DCMAKE_C_COMPILER=clang -DVG_FUZZ_SECONDS="${VG_FUZZ_SECONDS:-3}"; then
  run_ctest build-fuzz -L fuzz
else
  failed=$((failed + 1))
fi

# libvigil without its optional parts (VG_WITH_SERVER/SQLITE/REDIS=OFF):
# builds, trains, predicts, refuses the rest clearly. One test.
echo "== minimal build (no server, SQLite or Redis)"
if bash tests/minimal_build.sh build-minimal; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
