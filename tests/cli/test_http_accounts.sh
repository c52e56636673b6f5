#!/usr/bin/env bash
# Black-box test of `facehatch serve` with accounts (two users, alice and bob; the real binary,
# curl, a temp library): local mode turns into accounts mode when users are added while the
# server runs; 401 "login required" on every API route without a session; login (wrong
# password and unknown user: the same 401; the HttpOnly SameSite=Strict cookie), /api/me,
# logout; API tokens without Origin, a wrong token 401; an upload as alice; the table-driven
# owner test (every route that takes an id, called by bob with alice's ids: 404 each, alice's
# rows unchanged); bob's search never matches alice's persons; account deletion (SQL counts and
# the uploads folder); the login rate limit (429 + Retry-After); binding 0.0.0.0 with and
# without accounts. Persons are made with the CLI (`index --user`) so they are alice's and
# bob's whatever the upload path does. Ends with "N passed, M failed"; exit 1 on any failure.
# Some rows use routes of API-CONTRACT.md added by the routes work (persons/{id}/delete,
# photos/{id}/delete, faces/move, faces/reject, POST /api/persons): without them they answer
# 404 (unknown route) or 405.
set -u
cd "$(dirname "$0")/../.."
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
LFW=../shared/data/lfw/lfw-deepfunneled
for t in curl jq sqlite3; do command -v $t >/dev/null || { echo "FAIL: $t is required"; echo "0 passed, 1 failed"; exit 1; }; done
[ -x "$BIN" ] || { echo "FAIL: $BIN missing"; echo "0 passed, 1 failed"; exit 1; }
[ -d "$LFW" ] || { echo "FAIL: $LFW missing"; echo "0 passed, 1 failed"; exit 1; }

TMP=$(mktemp -d)
DB=$TMP/lib.db
PID=
pass=0; fail=0
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -f "$TMP/body" ] && head -c 400 "$TMP/body" | sed 's/^/     /'; echo; }
# COND...; res "what": the status of the condition just run decides
res() { if [ $? = 0 ]; then ok "$1"; else bad "$1"; fi; }
jqb() { jq -e "$1" "$TMP/body" >/dev/null 2>&1; }
sql() { sqlite3 "$DB" "$1"; }
is_error() { jqb ".error.code == $1 and (.error.message | type == \"string\" and length > 0)"; }
hdr() { grep -i "^$1:" "$TMP/hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# xreq METHOD PATH [curl args...]: CODE, body in $TMP/body, headers in $TMP/hdr; only the headers
# given. req: as the web UI (Origin on writes) with the session cookie $AS (a session id, or "").
xreq() {
    local m=$1 p=$2; shift 2
    CODE=$(curl -s -m 120 -X "$m" -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' "$@" "$URL$p")
}
AS=
req() {
    local m=$1 p=$2; shift 2
    local a=()
    [ -n "$AS" ] && a+=(-H "Cookie: fh_session=$AS")
    [ "$m" != GET ] && a+=(-H "Origin: $URL")
    xreq "$m" "$p" "${a[@]}" "$@"
}
post_json() { req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }
# login USER PASSWORD: CODE; SID gets the cookie's session id ("" if none)
login() {
    post_json /api/login "{\"user\":\"$1\",\"password\":\"$2\"}"
    SID=$(hdr Set-Cookie | sed -n 's/^fh_session=\([0-9a-f]\{64\}\);.*/\1/p')
}

start_server() {
    : >"$TMP/log"
    "$BIN" serve --db "$DB" --port 0 --threads 2 "$@" >"$TMP/log" 2>&1 &
    PID=$!
    URL=
    for _ in $(seq 1 600); do
        URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$TMP/log" | head -1)
        [ -n "$URL" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    URL=${URL/0.0.0.0/127.0.0.1}
    [ -n "$URL" ]
}
stop_server() {
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=; return 1; fi
    wait "$PID"; local rc=$?; PID=; return $rc
}
wait_indexed() {
    for _ in $(seq 1 600); do
        req GET /api/status
        jqb '.indexing.busy == false and .indexing.finished == .indexing.submitted' && return 0
        sleep 0.5
    done
    return 1
}

# ---- local mode, then accounts appear while the server runs ------------------------------------------
start_server || { cat "$TMP/log"; echo "FAIL server starts"; echo "$pass passed, $((fail+1)) failed"; exit 1; }
ok "server starts (no accounts: local mode)"
req GET /api/me
[ "$CODE" = 200 ] && jqb '.mode == "local" and .user.id == 1 and .user.name == "local" and .user.recognition == true'; res "local mode: /api/me is the local user"
req GET /api/persons
[ "$CODE" = 200 ]; res "local mode: /api/persons without login 200"
req POST /api/account/delete -H 'Content-Type: application/json' --data-binary '{"password":"whatever-pw"}'
[ "$CODE" = 400 ] && is_error 400; res "local mode: account delete refused 400"
echo "alice-secret-1" | "$BIN" user add alice --password-stdin --db "$DB" >/dev/null
echo "bob-secret-22" | "$BIN" user add bob --password-stdin --db "$DB" >/dev/null
ALICE=$(sql "SELECT id FROM users WHERE name = 'alice'"); BOB=$(sql "SELECT id FROM users WHERE name = 'bob'")
for _ in $(seq 1 50); do req GET /api/me; jqb '.mode == "accounts"' && break; sleep 0.2; done
[ "$CODE" = 200 ] && jqb '.mode == "accounts" and .user == null'; res "users added while it runs: accounts mode within seconds, /api/me user null (200)"
stop_server; res "server stops cleanly"

# alice: 4 photos each of two people (two persons); bob: 2 photos of a third (no person yet)
mkdir -p "$TMP/alice" "$TMP/bob"
for i in 1 2 3 4; do cp "$LFW/Colin_Powell/Colin_Powell_000$i.jpg" "$LFW/Tony_Blair/Tony_Blair_000$i.jpg" "$TMP/alice/"; done
cp "$LFW/Serena_Williams/Serena_Williams_0001.jpg" "$LFW/Serena_Williams/Serena_Williams_0002.jpg" "$TMP/bob/"
"$BIN" index "$TMP/alice" --db "$DB" --user alice --threads 2 >/dev/null 2>"$TMP/err"
[ "$(sql "SELECT COUNT(*) FROM photos WHERE owner = $ALICE")" = 8 ]; res "index alice's photos (CLI --user alice)"
"$BIN" index "$TMP/bob" --db "$DB" --user bob --threads 2 >/dev/null 2>>"$TMP/err"
[ "$(sql "SELECT COUNT(*) FROM photos WHERE owner = $BOB")" = 2 ]; res "index bob's photos (CLI --user bob)"
[ "$(sql "SELECT COUNT(*) FROM persons WHERE owner = $ALICE")" -ge 2 ]; res "alice has two persons"

start_server || { cat "$TMP/log"; echo "FAIL server starts"; echo "$pass passed, $((fail+1)) failed"; exit 1; }
ok "server starts (accounts mode)"

# ---- 401 without a login on every API route; assets always served ------------------------------------
n401=0; bad401=
while read -r m p; do
    if [ "$m" = GET ]; then req GET "$p"; else post_json "$p" '{}'; fi
    if [ "$CODE" = 401 ] && jqb '.error.code == 401 and .error.message == "login required"'; then n401=$((n401+1)); else bad401+=" $m $p ($CODE)"; fi
done <<'EOF'
GET /api/persons
GET /api/persons/1
POST /api/persons/1/rename
POST /api/persons/1/merge
POST /api/persons/1/hide
POST /api/persons/1/avatar
POST /api/persons/1/delete
POST /api/persons
GET /api/unknown
GET /api/faces/1
POST /api/faces/1/move
POST /api/faces/1/reject
GET /api/faces/1/thumb
POST /api/faces/move
POST /api/faces/reject
GET /api/photos/1
GET /api/photos/1/image
POST /api/photos/1/delete
POST /api/upload
GET /api/status
POST /api/search
POST /api/recluster
POST /api/undo
POST /api/logout
POST /api/account/recognition
POST /api/account/delete
GET /api/nosuchroute
EOF
[ -z "$bad401" ]; res "no session: 401 'login required' on every API route ($n401 of 27)"; [ -z "$bad401" ] || echo "     not 401:$bad401"
nass=0
for a in / /index.html /app.js /ui.js /undo.js /account.js /pages.js /lightbox.js /select.js /upload.js /style.css /favicon.svg; do
    req GET "$a"; [ "$CODE" = 200 ] && nass=$((nass+1))
done
[ $nass = 12 ]; res "every web asset is served without a login ($nass of 12)"
req GET /api/me
[ "$CODE" = 200 ] && jqb '.mode == "accounts" and .user == null'; res "/api/me without a session: 200, mode accounts, user null"
xreq GET /api/persons -H "Cookie: fh_session=$(printf '0%.0s' {1..64})"
[ "$CODE" = 401 ]; res "a made-up session id: 401"

# ---- login, me, logout --------------------------------------------------------------------------------
login alice wrong-password-1
[ "$CODE" = 401 ] && is_error 401 && [ -z "$SID" ]; res "login with a wrong password: 401, no cookie"
m1=$(jq -r .error.message "$TMP/body")
login mallory wrong-password-1
[ "$CODE" = 401 ] && [ "$(jq -r .error.message "$TMP/body")" = "$m1" ]; res "login of an unknown user: 401 with the same message"
xreq POST /api/login -H 'Content-Type: application/json' --data-binary '{"user":"alice","password":"alice-secret-1"}'
[ "$CODE" = 403 ]; res "login from no origin (login CSRF): 403"
login alice alice-secret-1
cookie=$(hdr Set-Cookie)
[ "$CODE" = 200 ] && jqb ".user.id == $ALICE and .user.name == \"alice\"" && [ ${#SID} = 64 ]; res "login ok: 200 {user}, cookie fh_session (64 hex)"
grep -q 'HttpOnly' <<<"$cookie" && grep -q 'SameSite=Strict' <<<"$cookie" && grep -q 'Path=/' <<<"$cookie" && grep -Eq 'Max-Age=[1-9][0-9]*' <<<"$cookie"; res "the cookie is HttpOnly, SameSite=Strict, Path=/, Max-Age > 0"
[ "$(sql "SELECT COUNT(*) FROM sessions WHERE user_id = $ALICE AND hash != '$SID'")" -ge 1 ] && [ "$(sql "SELECT COUNT(*) FROM sessions WHERE hash = '$SID'")" = 0 ]; res "the session is stored hashed"
ASID=$SID; AS=$ASID
req GET /api/me
[ "$CODE" = 200 ] && jqb ".mode == \"accounts\" and .user.id == $ALICE and .user.name == \"alice\""; res "/api/me as alice"
req GET /api/persons
[ "$CODE" = 200 ] && jqb '(.persons | length) >= 2'; res "alice's /api/persons: her persons"
login alice alice-secret-1; AS=$SID
req POST /api/logout
[ "$CODE" = 200 ] && hdr Set-Cookie | grep -q 'fh_session=;.*Max-Age=0'; res "logout: 200, cookie cleared (Max-Age=0)"
req GET /api/persons
[ "$CODE" = 401 ]; res "after logout that session is 401"
AS=$ASID; req GET /api/persons
[ "$CODE" = 200 ]; res "alice's other session still works"
login bob bob-secret-22; BSID=$SID
[ "$CODE" = 200 ] && [ ${#BSID} = 64 ]; res "bob logs in"

# ---- API tokens ----------------------------------------------------------------------------------------
TOK=$("$BIN" user token alice --name test --db "$DB" | jq -r .token)
xreq GET /api/persons -H "Authorization: Bearer $TOK"
[ "$CODE" = 200 ] && jqb '(.persons | length) >= 2'; res "bearer token: GET as alice"
AP1=$(jq -r '.persons[0].id' "$TMP/body"); AP2=$(jq -r '.persons[1].id' "$TMP/body")
xreq POST /api/persons/$AP1/hide -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' --data-binary '{"hidden":false}'
[ "$CODE" = 200 ]; res "bearer token: a write without Origin is accepted"
xreq GET /api/persons -H "Authorization: Bearer fh_$(printf 'a%.0s' {1..64})"
[ "$CODE" = 401 ]; res "a wrong token: 401"
xreq GET /api/persons -H "Authorization: Bearer nonsense" -H "Cookie: fh_session=$ASID"
[ "$CODE" = 401 ]; res "a wrong token is not rescued by a cookie: 401"

# ---- an upload as alice ----------------------------------------------------------------------------------
AS=$ASID
req POST /api/upload -F "files=@$LFW/Colin_Powell/Colin_Powell_0005.jpg"
[ "$CODE" = 202 ]; res "upload as alice: 202"
UPFILE=$(jq -r '.files[0].file' "$TMP/body")
wait_indexed; res "indexing finishes"
[ "$(sql "SELECT COUNT(*) FROM photos WHERE owner = $ALICE AND path LIKE '%$UPFILE'")" = 1 ]; res "the upload is alice's photo"

# ---- the owner table: bob with alice's ids ------------------------------------------------------------------
AS=$ASID; req GET /api/persons/$AP1
AF=$(jq -r '.faces[0].id' "$TMP/body"); APH=$(jq -r '.photos[0].id' "$TMP/body")
[ "$AF" -gt 0 ] 2>/dev/null && [ "$APH" -gt 0 ] && [ "$AP2" -gt 0 ]; res "alice's ids: persons $AP1 $AP2, face $AF, photo $APH"
snapshot() {
    sql "SELECT id, name, hidden, avatar_face, avatar_by_user FROM persons WHERE owner = $ALICE ORDER BY id;
         SELECT id, photo_id, person_id, assigned FROM faces WHERE owner = $ALICE ORDER BY id;
         SELECT id, path FROM photos WHERE owner = $ALICE ORDER BY id;
         SELECT face_id, person_id FROM face_rejects WHERE face_id IN (SELECT id FROM faces WHERE owner = $ALICE) ORDER BY 1, 2;"
}
before=$(snapshot)
AS=$BSID
n404=0; not404=
while IFS='|' read -r m p body; do
    if [ "$m" = GET ]; then req GET "$p"
    elif [ -z "$body" ]; then req POST "$p"
    else post_json "$p" "$body"; fi
    if [ "$CODE" = 404 ] && is_error 404; then n404=$((n404+1)); else not404+=" $m $p ($CODE)"; fi
done <<EOF
GET|/api/persons/$AP1|
POST|/api/persons/$AP1/rename|{"name":"Mallory"}
POST|/api/persons/$AP1/merge|{"from":$AP2}
POST|/api/persons/$AP1/hide|{"hidden":true}
POST|/api/persons/$AP1/avatar|{"face":$AF}
GET|/api/faces/$AF|
POST|/api/faces/$AF/move|{"person":null}
POST|/api/faces/$AF/reject|{"person":$AP1}
GET|/api/faces/$AF/thumb|
GET|/api/photos/$APH|
GET|/api/photos/$APH/image|
POST|/api/persons/$AP1/delete|
POST|/api/photos/$APH/delete|
POST|/api/faces/move|{"faces":[$AF],"person":null}
POST|/api/faces/reject|{"faces":[$AF],"person":$AP1}
POST|/api/persons|{"name":"Mallory","faces":[$AF]}
EOF
[ -z "$not404" ]; res "bob with alice's ids: 404 on every route ($n404 of 16)"; [ -z "$not404" ] || echo "     not 404:$not404"
[ "$(snapshot)" = "$before" ]; res "alice's persons, faces, photos and rejects unchanged"
req GET /api/persons
[ "$CODE" = 200 ] && jqb '.persons == []'; res "bob's /api/persons is empty"
req GET /api/unknown
[ "$CODE" = 200 ] && [ "$(jq '.total' "$TMP/body")" = "$(sql "SELECT COUNT(*) FROM faces WHERE owner = $BOB AND person_id IS NULL AND trash = 0")" ]; res "bob's unknown faces are his own"
req POST /api/search -F "image=@$LFW/Colin_Powell/Colin_Powell_0006.jpg"
[ "$CODE" = 200 ] && jqb '(.faces | length) >= 1 and all(.faces[]; .person == null)'; res "bob's search with a photo of alice's person: no person"
AS=$ASID; req POST /api/search -F "image=@$LFW/Colin_Powell/Colin_Powell_0006.jpg"
[ "$CODE" = 200 ] && jqb "any(.faces[]; .person.id != null)"; res "... while alice's own search finds hers"

# ---- recognition off / on (bob) -------------------------------------------------------------------------
AS=$BSID
post_json /api/account/recognition '{"on":false}'
[ "$CODE" = 200 ] && jqb ".user.id == $BOB and .user.recognition == false"; res "recognition off: 200, user.recognition false"
[ "$(sql "SELECT COUNT(*) FROM faces WHERE owner = $BOB")" = 0 ] && [ "$(sql "SELECT COUNT(*) FROM photos WHERE owner = $BOB")" = 2 ] && [ "$(snapshot)" = "$before" ]; res "... bob's faces gone, photos kept, alice untouched"
post_json /api/account/recognition '{"on":true}'
[ "$CODE" = 200 ] && jqb '.user.recognition == true' && [ "$(sql "SELECT COUNT(*) FROM faces WHERE owner = $BOB")" -ge 2 ]; res "recognition on: 200, faces found again"
post_json /api/account/recognition '{"on":"yes"}'
[ "$CODE" = 400 ]; res "recognition with a non-boolean: 400"

# ---- account deletion (alice) -----------------------------------------------------------------------------
bob_before=$(sql "SELECT COUNT(*) FROM photos WHERE owner = $BOB; SELECT COUNT(*) FROM faces WHERE owner = $BOB; SELECT COUNT(*) FROM sessions WHERE user_id = $BOB")
AS=$ASID
post_json /api/account/delete '{"password":"not-her-password"}'
[ "$CODE" = 401 ] && [ "$(sql "SELECT COUNT(*) FROM users WHERE id = $ALICE")" = 1 ]; res "account delete with a wrong password: 401, nothing deleted"
updir=$DB.uploads/$ALICE
had_dir=0; [ -d "$updir" ] && had_dir=1
post_json /api/account/delete '{"password":"alice-secret-1"}'
[ "$CODE" = 200 ] && hdr Set-Cookie | grep -q 'Max-Age=0'; res "account delete: 200, cookie cleared"
counts=$(sql "SELECT (SELECT COUNT(*) FROM users WHERE id = $ALICE) + (SELECT COUNT(*) FROM photos WHERE owner = $ALICE)
   + (SELECT COUNT(*) FROM faces WHERE owner = $ALICE) + (SELECT COUNT(*) FROM persons WHERE owner = $ALICE)
   + (SELECT COUNT(*) FROM sessions WHERE user_id = $ALICE) + (SELECT COUNT(*) FROM tokens WHERE user_id = $ALICE)")
[ "$counts" = 0 ]; res "every row of alice is gone (users, photos, faces, persons, sessions, tokens: 0)"
[ ! -e "$updir" ] && [ $had_dir = 1 ]; res "her uploads folder is gone (it existed: $had_dir)"
[ -d "$DB.uploads" ]; res "the rest of the uploads folder stays"
[ "$(sql "SELECT COUNT(*) FROM photos WHERE owner = $BOB; SELECT COUNT(*) FROM faces WHERE owner = $BOB; SELECT COUNT(*) FROM sessions WHERE user_id = $BOB")" = "$bob_before" ]; res "bob's rows stay"
req GET /api/persons
[ "$CODE" = 401 ]; res "alice's old session: 401"
xreq GET /api/persons -H "Authorization: Bearer $TOK"
[ "$CODE" = 401 ]; res "alice's old token: 401"
AS=$BSID; req GET /api/me
[ "$CODE" = 200 ] && jqb ".user.id == $BOB"; res "bob is still logged in"

# ---- rate limit (last: it blocks this address for a while) -------------------------------------------------
AS=
for i in $(seq 1 8); do login bob "wrong-password-$i"; [ "$CODE" = 429 ] && break; done
ra=$(hdr Retry-After)
[ "$CODE" = 429 ] && is_error 429 && [ "${ra:-0}" -ge 1 ] 2>/dev/null; res "repeated failures: 429 with Retry-After (after $i tries)"
login bob bob-secret-22
[ "$CODE" = 429 ] && [ -z "$SID" ]; res "while limited, even the right password waits: 429"
stop_server; res "server stops cleanly"

# ---- non-loopback binds ---------------------------------------------------------------------------------------
start_server --bind 0.0.0.0; res "--bind 0.0.0.0 with accounts: starts"
req GET /api/persons
[ "$CODE" = 401 ]; res "... and requires a login"
stop_server
"$BIN" serve --db "$TMP/open.db" --bind 0.0.0.0 --port 0 >"$TMP/bindlog" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'refusing to listen on 0.0.0.0' "$TMP/bindlog"; res "--bind 0.0.0.0 without accounts: refused"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
