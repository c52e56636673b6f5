#!/usr/bin/env bash
# The web UI in "accounts" mode in real headless Chromium (tests/browser/test_accounts.js,
# playwright-core): creates two users (`facehatch user add NAME --db LIB.db --password-stdin`) in
# an empty library, starts `facehatch serve` on 127.0.0.1 (free port), runs the two-user UI flow
# (login, undo, bulk, new/delete person, delete photo, account menu, privacy between the users),
# stops the server. Screenshots go to $BUILD/test-artifacts/ (login.png, account-menu.png, ...).
# Skips (exit 0, with a message) when chromium is not installed outside CI (like test_browser.sh).
set -u
cd "$(dirname "$0")/../.."
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
. tests/browser/prelude.sh
TMP=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; sleep 1; kill -KILL "$PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
export FH_USER_A=alice FH_PASS_A='alice: correct horse battery' FH_USER_B=bob FH_PASS_B='bob: staple paper clip'
users_ok=1
printf '%s\n' "$FH_PASS_A" | "$BIN" user add "$FH_USER_A" --db "$TMP/lib.db" --password-stdin >"$TMP/user.log" 2>&1 || users_ok=0
printf '%s\n' "$FH_PASS_B" | "$BIN" user add "$FH_USER_B" --db "$TMP/lib.db" --password-stdin >>"$TMP/user.log" 2>&1 || users_ok=0
"$BIN" serve --db "$TMP/lib.db" --port 0 --threads 2 >"$TMP/log" 2>&1 &
PID=$!
URL=
for _ in $(seq 1 600); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/log" | head -1)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$URL" ]; then cat "$TMP/log"; echo "FAIL: the server did not start"; echo "0 passed, 1 failed"; exit 1; fi
if [ $users_ok = 0 ]; then cat "$TMP/user.log"; echo "FAIL: facehatch user add"; echo "0 passed, 1 failed"; exit 1; fi
FH_URL=$URL CHROMIUM=$CHROMIUM ARTIFACTS=${BUILD:-build}/test-artifacts timeout 600 node tests/browser/test_accounts.js
rc=$?
[ $rc -ne 0 ] && { echo "server log:"; tail -20 "$TMP/log"; }
exit $rc
