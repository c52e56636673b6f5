#!/usr/bin/env bash
# The web UI in real headless Chromium (tests/browser/test_ui.js, playwright-core): starts
# `facehatch serve` on an empty library on 127.0.0.1 (free port), runs the UI flow, stops
# the server. Screenshots go to $BUILD/test-artifacts/ (people.png, person.png, ...).
# Skips (exit 0, with a message) only when chromium is not installed outside CI; CI installs it with
# `apt-get install -y chromium`. Installs playwright-core from tests/browser/package-lock.json
# if node_modules is missing.
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
FH_URL=$URL CHROMIUM=$CHROMIUM ARTIFACTS=${BUILD:-build}/test-artifacts timeout 600 node tests/browser/test_ui.js
rc=$?
[ $rc -ne 0 ] && { echo "server log:"; tail -20 "$TMP/log"; }
exit $rc
