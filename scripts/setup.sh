#!/usr/bin/env bash
# Install what vigil needs from Debian's packages (only what is missing) and
# build it into build/. Usage: scripts/setup.sh [--test | --bench]   (--test
# adds the test tools, --bench the benchmark tools). Safe to run again: it
# installs and rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc make cmake pkg-config zlib1g-dev libcjson-dev libxxhash-dev libmicrohttpd-dev libsqlite3-dev libhiredis-dev)
# libmaxminddb: optional at build time (a user's MaxMind .mmdb for --geoip); the full build has it.
packages+=(libmaxminddb-dev)
# libopenblas-dev: optional (the neural networks' sgemm path); without it plain loops.
packages+=(libopenblas-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libcmocka-dev redis-server curl python3)
  # The fuzz targets (build-fuzz): clang, and its libFuzzer and sanitizer
  # runtimes, which clang-14 only recommends.
  packages+=(clang libclang-rt-14-dev)
  # The report and dashboard tests render pages in headless chromium, driven
  # through playwright-core from npm (tests/browser/); a node already
  # installed is kept (it may be newer than Debian's).
  packages+=(chromium)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  # tests/integration/web_real_*.sh: real scanners against a local nginx
  # inside a network namespace with only the loopback (iproute2: ip, util-linux: unshare).
  packages+=(nginx-light sqlmap wapiti dirb hydra wfuzz gobuster nmap iproute2)
fi
if [[ "${1:-}" == "--bench" ]]; then
  # bench/serve.py: wrk against vigil serve and a FastAPI + uvicorn + XGBoost twin.
  packages+=(wrk curl python3 python3-fastapi python3-uvicorn python3-xgboost python3-numpy)
  # The peers the other benchmarks run beside vigil: scikit-learn, imbalanced-learn,
  # PyTorch, Optuna, LIBSVM and LIBLINEAR.
  packages+=(python3-sklearn python3-imblearn python3-torch python3-optuna libsvm-tools liblinear-tools)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
test -x build/vigil || { echo "setup: build failed" >&2; exit 1; }
echo "setup: built build/vigil"
