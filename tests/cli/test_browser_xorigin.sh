#!/usr/bin/env bash
# Other web pages cannot drive facehatch, in real headless Chromium (tests/browser/test_xorigin.js):
# indexes six LFW photos (two persons) into a fresh library, starts `facehatch serve` twice on it
# (local mode, 127.0.0.1, free ports): A with the default Host allow-list, B with
# `--host rebind.test` (the positive control of the DNS-rebinding check). The script then runs
# CSRF attacks from a second origin and a rebinding page against A. The screenshot goes to
# $BUILD/test-artifacts/xorigin.png. Skips (exit 0, with a message) only when chromium is not
# installed outside CI (in CI a missing chromium fails), like test_browser.sh.
set -u
cd "$(dirname "$0")/../.."
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
LFW=${LFW:-../shared/data/lfw/lfw-deepfunneled}
. tests/browser/prelude.sh
if [ ! -d "$LFW/Colin_Powell" ]; then echo "FAIL: LFW is missing at $LFW"; echo "0 passed, 1 failed"; exit 1; fi
TMP=$(mktemp -d)
PIDA= PIDB=
stop() { if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then kill -TERM "$1"; sleep 1; kill -KILL "$1" 2>/dev/null; fi; }
cleanup() { stop "$PIDA"; stop "$PIDB"; rm -rf "$TMP"; }
trap cleanup EXIT
if ! "$BIN" index "$LFW"/Colin_Powell/Colin_Powell_000{1,2,3}.jpg "$LFW"/Tony_Blair/Tony_Blair_000{1,2,3}.jpg \
        --db "$TMP/lib.db" >"$TMP/index.log" 2>&1; then
    cat "$TMP/index.log"; echo "FAIL: facehatch index"; echo "0 passed, 1 failed"; exit 1
fi
url_of() { # the URL a server printed, waiting for it to start (empty when it did not)
    local u=
    for _ in $(seq 1 600); do
        u=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$1" | head -1)
        [ -n "$u" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "$u"
}
"$BIN" serve --db "$TMP/lib.db" --port 0 --threads 2 >"$TMP/logA" 2>&1 &
PIDA=$!
"$BIN" serve --db "$TMP/lib.db" --port 0 --threads 1 --host rebind.test >"$TMP/logB" 2>&1 &
PIDB=$!
URLA=$(url_of "$TMP/logA" "$PIDA")
URLB=$(url_of "$TMP/logB" "$PIDB")
if [ -z "$URLA" ] || [ -z "$URLB" ]; then cat "$TMP/logA" "$TMP/logB"; echo "FAIL: the servers did not start"; echo "0 passed, 1 failed"; exit 1; fi
FH_URL=$URLA FH_URL_HOST=$URLB FH_DB=$TMP/lib.db LFW=$LFW CHROMIUM=$CHROMIUM ARTIFACTS=${BUILD:-build}/test-artifacts \
    timeout 300 node tests/browser/test_xorigin.js
rc=$?
[ $rc -ne 0 ] && { echo "server log:"; tail -20 "$TMP/logA"; }
exit $rc
