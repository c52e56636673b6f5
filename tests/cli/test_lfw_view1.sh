#!/usr/bin/env bash
# LFW View 1 through the real pipeline: threshold chosen on pairsDevTrain.txt (3,443
# images), accuracy on pairsDevTest.txt (1,000 pairs, 1,549 images) must be >= 99.3 %
# (the reference runtime gets 99.4 %). About a minute on 2 cores.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
out=$("$BIN" eval lfw --view 1 --data "$DATA") || { echo "eval failed"; exit 1; }
echo "$out"
json=$(echo "$out" | tail -n 1)
acc=$(echo "$json" | sed -n 's/.*"accuracy":\([0-9.]*\).*/\1/p')
[ -n "$acc" ] || { echo "FAIL: no accuracy in: $json"; exit 1; }
if awk -v a="$acc" 'BEGIN { exit !(a >= 0.993) }'; then
    echo "1 passed, 0 failed (View 1 test accuracy $acc >= 0.993)"
else
    echo "FAIL: View 1 test accuracy $acc < 0.993"; echo "0 passed, 1 failed"; exit 1
fi
