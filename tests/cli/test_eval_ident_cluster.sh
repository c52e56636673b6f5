#!/usr/bin/env bash
# Fast subsets of `eval ident` and `eval cluster` through the real pipeline on LFW, with
# floors set a little below what the full and quick runs measure (docs/RESULTS.md).
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
pass=0; fail=0
num() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
floor() { # name value min
    if [ -n "$2" ] && awk -v a="$2" -v b="$3" 'BEGIN { exit !(a >= b) }'; then
        pass=$((pass+1)); echo "ok   $1 = $2 >= $3"
    else fail=$((fail+1)); echo "FAIL $1 = '$2' < $3"; fi
}
out=$("$BIN" eval ident --quick --data "$DATA") || { echo "$out"; echo "0 passed, 1 failed"; exit 1; }
echo "$out"; j=$(echo "$out" | tail -n 1)
floor "ident rank-1 with 10 distractors" "$(num "$j" 10)" 0.98
floor "ident rank-1 with all distractors" "$(num "$j" all)" 0.97
floor "ident open-set DIR at FAR 1%" "$(num "$j" dir_at_far_1e-2)" 0.85
out=$("$BIN" eval cluster --quick --data "$DATA") || { echo "$out"; echo "0 passed, 1 failed"; exit 1; }
echo "$out"; j=$(echo "$out" | tail -n 1)
bf=$(echo "$j" | sed -n 's/.*"bcubed":{[^}]*"f":\([0-9.]*\).*/\1/p')
floor "cluster best BCubed F (quick subset)" "$bf" 0.97
echo "$pass passed, $fail failed"
[ $fail = 0 ]
