#!/usr/bin/env bash
# The example program built against the public API (build/examples/example) works:
# two photos of one person are "same", of two people "different".
set -u
EX=${FACEHATCH_EXAMPLE:-build/examples/example}
L=${FH_DATA:-../shared/data}/lfw/lfw-deepfunneled
pass=0; fail=0
t() { local want=$1; shift; local out; out=$("$EX" models "$@" 2>&1)
      if echo "$out" | grep -q "$want"; then pass=$((pass+1)); echo "ok   $out"; else fail=$((fail+1)); echo "FAIL want '$want': $out"; fi; }
t "same person" "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Serena_Williams/Serena_Williams_0002.jpg"
t "different people" "$L/Serena_Williams/Serena_Williams_0001.jpg" "$L/Colin_Powell/Colin_Powell_0001.jpg"
"$EX" models /nonexistent.jpg "$L/Colin_Powell/Colin_Powell_0001.jpg" >/dev/null 2>&1
[ $? = 1 ] && { pass=$((pass+1)); echo "ok   missing image -> exit 1"; } || { fail=$((fail+1)); echo "FAIL missing image"; }
echo "$pass passed, $fail failed"
[ $fail = 0 ]
