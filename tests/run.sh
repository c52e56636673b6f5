#!/usr/bin/env bash
# Runs every test binary given as arguments and every tests/cli/*.sh, then prints one
# closing line "N passed, N failed" (N = test programs). Exit status 1 if any failed.
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0; failed=()
run_one() {
    local name=$1; shift
    local log; log=$(mktemp)
    local t0=$SECONDS
    if "$@" >"$log" 2>&1; then
        pass=$((pass+1)); echo "ok   $name ($((SECONDS-t0)) s)"
    else
        # its failed checks first, then the last 40 lines that are not passes (checks print
        # "N - ...: PASSED" or "ok   ...")
        fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($((SECONDS-t0)) s)"
        grep -E -e '^FAIL' -e ': FAILED' "$log" | head -n 20 | sed 's/^/   ! /'
        grep -v -e ': PASSED$' -e '^ok  ' "$log" | sed 's/^/     /' | tail -40
    fi
    rm -f "$log"
}
# a private PostgreSQL server for the store's second backend (issue 10); if it cannot
# start, that is a failure of the run, and the PostgreSQL parts of the tests skip
if FH_TEST_PG=$(tools/pg_test_server.sh start 2>/tmp/fh_pg_start.$$); then
    export FH_TEST_PG
    trap 'tools/pg_test_server.sh stop "$FH_TEST_PG"' EXIT
    echo "ok   PostgreSQL test server ($FH_TEST_PG)"
else
    fail=$((fail+1)); failed+=("postgres-server"); echo "FAIL PostgreSQL test server"
    sed 's/^/     /' /tmp/fh_pg_start.$$ | tail -20
fi
rm -f /tmp/fh_pg_start.$$
for t in "$@"; do run_one "$t" "$t"; done
for s in tests/cli/*.sh; do [ -e "$s" ] && run_one "$s" bash "$s"; done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
