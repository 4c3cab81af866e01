#!/usr/bin/env bash
# Install everything the tests need, build, and run every test: the unit and
# integration tests in a release build, then all of them again under
# AddressSanitizer + UndefinedBehaviorSanitizer (but the browser test, which
# adds nothing there and only slows down). Ends with ctest's summary
# and one line "N passed, N failed" over both runs.
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

echo "== sanitizer build (address, undefined): unit and integration tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVG_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
ASAN_OPTIONS=detect_leaks=1 run_ctest build-asan -E '^integration_dashboard$'

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
