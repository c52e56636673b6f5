#!/usr/bin/env bash
# eval landmarks on the first 300 MTFL test faces: MTCNN finds nearly all and puts its
# points within 10 % of the inter-ocular distance on average (measured 97.0 %, NME 7.88 %);
# Haar boxes + O-Net find fewer (frontal only) with a similar error; a missing data folder
# is a clear error.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
j=$("$BIN" eval landmarks --quick 2>&1 | tail -1)
echo "$j" | jq -e '.n == 300 and .frame.found == 300 and .detector.name == "mtcnn" and .detector.found_rate >= 0.93 and .detector.nme < 0.10 and .detector.nme > 0.02' >/dev/null \
    && ok "mtcnn: $(echo "$j" | jq -c '.detector | {found_rate, nme}')" || bad "mtcnn: $j"
j=$("$BIN" eval landmarks --quick --detector haar 2>&1 | tail -1)
echo "$j" | jq -e '.detector.name == "haar" and .detector.found_rate >= 0.6 and .detector.nme < 0.10' >/dev/null \
    && ok "haar + O-Net: $(echo "$j" | jq -c '.detector | {found_rate, nme}')" || bad "haar: $j"
out=$("$BIN" eval landmarks --data /nonexistent 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "new_testing.txt" && ok "missing data: exit 1, names the file" || bad "missing data: rc $rc: $out"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
