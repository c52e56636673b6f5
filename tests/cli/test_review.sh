#!/usr/bin/env bash
# The review queue (issue 12 part 2), by simulation on real LFW faces: `eval review` builds two
# libraries of 30 LFW identities with 4..9 images + 150 strangers and lets a simulated user who
# knows the LFW labels answer 20 questions in the review queue's order (gain), today's order and
# a random one. Floors under what was measured (2026-12-02: gain F 0.973 -> 0.998 after 10
# answers, today's order 0.998, random 0.974; after 20: 0.9988 / 1.0000 / 0.9742): the queue's
# first 10 answers raise BCubed F by >= 0.015 and beat random order by >= 0.01, after 20 it is
# within 0.005 of today's order, no impure person.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
[ -d "$DATA/lfw/lfw-deepfunneled" ] || { echo "FAIL: needs $DATA/lfw"; echo "0 passed, 1 failed"; exit 1; }
"$BIN" eval review --known 30 --answers 20 --draws 2 --seed 5 --threads 2 --plot "$T/review.svg" >"$T/out" 2>"$T/err" ||
    bad "eval review: $(cat "$T/err")"
sed 's/^/     /' "$T/out"
python3 - "$T/out" <<'EOF' && ok "review order: F up >= 0.015 in 10 answers, >= random + 0.01, within 0.005 of today's order at 20, no impure" || bad "review floors"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = json.loads([l for l in lines if l.startswith('{')][-1])
g, t, x = r["gain"], r["today"], r["random"]
impure = sum(int(l.split()[-1]) for l in lines if l[:1].isdigit())
print("     gain %s, today %s, random %s, impure %d" % (g, t, x, impure))
sys.exit(0 if g[1] >= g[0] + 0.015 and g[1] >= x[1] + 0.01 and g[2] >= t[2] - 0.005 and impure == 0 else 1)
EOF
grep -q '<svg' "$T/review.svg" && grep -q 'gain' "$T/review.svg" && ok "the plot is written (SVG, the four curves)" || bad "no plot"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
