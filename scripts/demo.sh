#!/usr/bin/env bash
# The quick start: set up, train a random forest on the bundled NSL-KDD
# training set, evaluate it on the official KDDTest+ set, show predictions.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p out
echo
echo "== vigil train: random forest, NSL-KDD KDDTrain+ -> KDDTest+ (attack vs normal)"
build/vigil train --data data/nsl-kdd/KDDTrain+.txt.gz --test data/nsl-kdd/KDDTest+.txt.gz \
  --format kdd --task binary --model forest -o out/nsl-kdd-forest.vgm
echo
echo "== vigil predict: the first 8 records of KDDTest+ (score = probability of attack)"
build/vigil predict --model out/nsl-kdd-forest.vgm --data data/nsl-kdd/KDDTest+.txt.gz -o out/predictions.csv
head -n 9 out/predictions.csv | column -t -s,
echo "   ... all $(($(wc -l < out/predictions.csv) - 1)) predictions are in out/predictions.csv"
echo
echo "== vigil inspect out/nsl-kdd-forest.vgm (first lines)"
build/vigil inspect out/nsl-kdd-forest.vgm | sed -n 1,14p   # sed reads it all: head would close the pipe early and, under pipefail, fail the demo (SIGPIPE)
