#!/usr/bin/env bash
# Black-box test of `facehatch serve` over loopback: every route's status code and JSON
# shape, bad uploads (not an image, too large, truncated JPEG, path-traversal names),
# rename/merge/hide/avatar/move/reject through the API and their persistence across a
# server restart; browser safety (rebinding Host 421, cross-origin writes 403, text/plain
# JSON 415), 70 idle sockets not stalling others, the non-loopback bind refused. Uploads: the demo photos and 5 LFW photos each of 3 people.
# Undo and user operations (API-CONTRACT): every action reply's "op", POST /api/undo restoring
# the JSON of before (rename, hide, avatar, new person, merge, bulk and single move/reject,
# delete person, delete photo and its image), errors of the new routes (404 ids, 400 empty or
# over 1000, 409 nothing to undo); uploads per user (<db>.uploads/1/), the original name as the
# photo's name, quota 413, recognition off, a forgotten upload deleted (never a folder's photo),
# the old flat layout moved into 1/ at start. Needs python3 (idle sockets, settings via SQL).
# The server listens on 127.0.0.1 on a free port (--port 0, read from its log) and is
# always stopped at the end. Ends with "N passed, M failed"; exit status 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
LFW=../shared/data/lfw/lfw-deepfunneled
for t in curl jq; do command -v $t >/dev/null || { echo "FAIL: $t is required"; echo "0 passed, 1 failed"; exit 1; }; done
if [ ! -x "$BIN" ] || ! "$BIN" --help 2>/dev/null | grep -q '^  serve'; then
    echo "FAIL: $BIN has no serve command"; echo "0 passed, 1 failed"; exit 1
fi
[ -d "$LFW" ] || { echo "FAIL: $LFW missing"; echo "0 passed, 1 failed"; exit 1; }

TMP=$(mktemp -d)
PID=
pass=0; fail=0
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -f "$TMP/body" ] && head -c 600 "$TMP/body" | sed 's/^/     /'; echo; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
# jqb FILTER: the JSON body satisfies FILTER
jqb() { jq -e "$1" "$TMP/body" >/dev/null 2>&1; }
jqf() { jq -e "$@" >/dev/null 2>&1; }

# req METHOD PATH [curl args...]: sets CODE and CTYPE, body in $TMP/body. Writes carry the
# server's own Origin (as its web UI's do); xreq sends only the headers given.
xreq() {
    local m=$1 p=$2; shift 2
    local out
    out=$(curl -s -m 120 -X "$m" -o "$TMP/body" -w '%{http_code} %{content_type}' "$@" "$URL$p")
    CODE=${out%% *}; CTYPE=${out#* }
}
req() {
    local m=$1 p=$2; shift 2
    if [ "$m" = GET ]; then xreq "$m" "$p" "$@"; else xreq "$m" "$p" -H "Origin: $URL" "$@"; fi
}
post_json() { req POST "$1" -H 'Content-Type: application/json' --data-binary "$2"; }
is_error() { jqb ".error.code == $1 and (.error.message | type == \"string\" and length > 0)"; }

start_server() {
    : >"$TMP/log"
    "$BIN" serve --db "$TMP/lib.db" --port 0 --max-upload-mb 1 --threads 2 "$@" >"$TMP/log" 2>&1 &
    PID=$!
    URL=
    for _ in $(seq 1 600); do   # <= 60 s for the models to load
        URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/log" | head -1)
        [ -n "$URL" ] && break
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$URL" ]
}
stop_server() {
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID"; wait "$PID" 2>/dev/null; PID=; return 1; fi
    wait "$PID"; local rc=$?; PID=; return $rc
}
wait_indexed() { # until the queue is empty (<= 300 s)
    for _ in $(seq 1 600); do
        req GET /api/status
        jqb '.indexing.busy == false and .indexing.finished == .indexing.submitted' && return 0
        sleep 0.5
    done
    return 1
}

# ---- refused before anything starts --------------------------------------------------------------
"$BIN" serve --db "$TMP/open.db" --bind 0.0.0.0 --port 0 >"$TMP/bindlog" 2>&1; rc=$?
check "--bind 0.0.0.0 without accounts: refused, exit 1, says why" [ $rc = 1 ] && grep -q 'refusing to listen on 0.0.0.0' "$TMP/bindlog" && [ ! -e "$TMP/open.db" ]
"$BIN" serve --db "$TMP/open.db" --host 'evil.example:80' --port 0 >"$TMP/bindlog" 2>&1; rc=$?
check "--host with a port: refused" [ $rc = 1 ] && grep -q 'not a host name' "$TMP/bindlog"

check "server starts on a free loopback port" start_server || { cat "$TMP/log"; echo "$pass passed, $((fail+1)) failed"; exit 1; }
echo "     $URL"

# ---- empty library, static assets, routing errors ----------------------------------------------
req GET /api/status
check "GET /api/status: 200 idle" jqb '.indexing.busy == false and .indexing.queued == 0 and .indexing.current == null and (.indexing.recent | type == "array")'
req GET /api/persons
check "GET /api/persons on an empty library: []" jqb '.persons == [] and .unknown_faces == 0'
req GET /
check "GET /: the embedded UI (text/html)" [ "$CODE" = 200 ] && [[ "$CTYPE" == text/html* ]] && grep -q '/app.js' "$TMP/body" >/dev/null
req GET /app.js; c1=$CODE; t1=$CTYPE
req GET /style.css
check "GET /app.js and /style.css" [ "$c1" = 200 ] && [[ "$t1" == text/javascript* ]] && [ "$CODE" = 200 ] && [[ "$CTYPE" == text/css* ]]
req GET /api/nope
check "unknown route: 404 JSON error" [ "$CODE" = 404 ] && is_error 404
req GET /nope.html
check "unknown page: 404" [ "$CODE" = 404 ] && is_error 404
req PUT /api/persons
check "PUT /api/persons: 405" [ "$CODE" = 405 ] && is_error 405
req POST /api/undo
check "POST /api/undo with nothing to undo: 409" [ "$CODE" = 409 ] && is_error 409
req GET /api/upload
check "GET /api/upload: 405" [ "$CODE" = 405 ] && is_error 405
req GET /api/persons/999
check "GET /api/persons/999: 404" [ "$CODE" = 404 ] && is_error 404
req GET /api/persons/abc
check "GET /api/persons/abc: 404 (ids are numbers)" [ "$CODE" = 404 ] && is_error 404
req GET /api/faces/999/thumb
check "GET /api/faces/999/thumb: 404" [ "$CODE" = 404 ] && is_error 404
req GET /api/photos/999/image
check "GET /api/photos/999/image: 404" [ "$CODE" = 404 ] && is_error 404

# ---- uploads -----------------------------------------------------------------------------------------
args=()
for f in models/samples/sample{1..6}.jpg; do args+=(-F "files=@$f"); done
req POST /api/upload "${args[@]}"
check "upload 6 demo photos: 202, all queued" [ "$CODE" = 202 ] && jqb '.queued == 6 and .rejected == 0 and ([.files[] | select(.status == "queued" and (.file | test("^[0-9a-f]{64}\\.jpg$")) and .error == null)] | length == 6)'
declare -A SHA   # identity -> the names its photos were uploaded with
args=()
for who in Colin_Powell Tony_Blair Serena_Williams; do
    for i in 1 2 3 4 5; do args+=(-F "files=@$LFW/$who/${who}_000$i.jpg"); done
done
req POST /api/upload "${args[@]}"
check "upload 15 LFW photos in one request: 202" [ "$CODE" = 202 ] && jqb '.queued == 15'
for who in Colin_Powell Tony_Blair Serena_Williams; do
    SHA[$who]=$(jq -r --arg w "$who" '[.files[] | select(.name | startswith($w)) | .name] | join(" ")' "$TMP/body")
done

printf 'hello, not an image\n' >"$TMP/notimage.jpg"
req POST /api/upload -F "files=@$TMP/notimage.jpg"
check "a text file named .jpg: 415, rejected before decoding" [ "$CODE" = 415 ] && is_error 415 && jqb '.files[0].status == "rejected" and .files[0].error.code == 415 and .queued == 0'
{ printf '\xff\xd8\xff\xe0'; head -c 1500000 /dev/zero; } >"$TMP/big.jpg"
req POST /api/upload -F "files=@$TMP/big.jpg"
check "a 1.5 MB file over --max-upload-mb 1: 413" [ "$CODE" = 413 ] && is_error 413 && jqb '.files[0].error.code == 413'
head -c 5000000 /dev/zero >"$TMP/huge.jpg"
req POST /api/upload -F "files=@$TMP/huge.jpg"
check "a request body over the request limit: 413 before reading it" [ "$CODE" = 413 ] && is_error 413
req POST /api/upload -F "files=@$TMP/notimage.jpg" -F "files=@$LFW/Tony_Blair/Tony_Blair_0006.jpg"
check "one good and one bad file: 202, per-file status" [ "$CODE" = 202 ] && jqb '.queued == 1 and .rejected == 1 and .files[0].status == "rejected" and .files[1].status == "queued"'
head -c 20000 models/samples/sample3.jpg >"$TMP/truncated.jpg"
req POST /api/upload -F "files=@$TMP/truncated.jpg"
check "a truncated JPEG passes the magic check: 202 queued" [ "$CODE" = 202 ] && jqb '.files[0].status == "queued"'
TRUNC=$(jq -r '.files[0].file' "$TMP/body")
touch "$TMP/marker"
req POST /api/upload -F "files=@$LFW/Serena_Williams/Serena_Williams_0006.jpg;filename=../../etc/passwd.jpg"
check "filename ../../etc/passwd.jpg: 202, name sanitised" [ "$CODE" = 202 ] && jqb '.files[0].status == "queued" and (.files[0].name | (contains("/") or contains("..")) | not) and (.files[0].file | test("^[0-9a-f]{64}\\.jpg$"))'
TRAV=$(jq -r '.files[0].file' "$TMP/body")
req POST /api/upload -F "files=@$LFW/Colin_Powell/Colin_Powell_0006.jpg;filename=..\\..\\evil\\x.jpg"
check "filename with backslashes: basename only" [ "$CODE" = 202 ] && jqb '(.files[0].name | (contains("\\\\") or contains("..")) | not)'
escaped=$(find "$TMP" / -maxdepth 3 -name 'passwd.jpg' -newer "$TMP/marker" 2>/dev/null | head -1)
outside=$(find "$TMP" -type f -newer "$TMP/marker" ! -path "$TMP/lib.db.uploads/*" ! -name 'lib.db*' ! -name log ! -name body 2>/dev/null | head -1)
check "the upload stayed in LIB.db.uploads/1/ (the user's folder) under a generated name" [ -f "$TMP/lib.db.uploads/1/$TRAV" ] && [ -z "$escaped" ] && [ -z "$outside" ]
check "every stored upload has a generated name, in the user's folder" bash -c "! ls -A '$TMP/lib.db.uploads/1' | grep -Ev '^[0-9a-f]{64}\.(jpg|png|heic|webp)$'" && [ "$(ls -A "$TMP/lib.db.uploads" | grep -v '^\.part-')" = 1 ]
req POST /api/upload -H 'Content-Type: application/json' --data-binary '{}'
check "upload without multipart: 400" [ "$CODE" = 400 ] && is_error 400
req POST /api/upload -F "name=value"
check "upload with no file part: 400" [ "$CODE" = 400 ] && is_error 400

# streamed bodies: whatever fails leaves no temporary file behind
no_parts() { ! ls -A "$TMP/lib.db.uploads" | grep -q '^\.part-'; }
printf -- '--XyZ\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n\r\n\xff\xd8\xff\xe0 no closing boundary' >"$TMP/cut.body"
req POST /api/upload -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$TMP/cut.body"
check "a multipart body without its closing boundary: 400, no temporary file left" [ "$CODE" = 400 ] && is_error 400 && no_parts
req POST /api/upload -H 'Transfer-Encoding: chunked' -F "files=@$TMP/huge.jpg"
check "a chunked body growing over the request limit: 413, no temporary file left" [ "$CODE" = 413 ] && no_parts
{ printf '\xff\xd8\xff\xe0'; head -c 900000 /dev/urandom; } >"$TMP/slow.jpg"
curl -s -m 1 --limit-rate 200k -H "Origin: $URL" -F "files=@$TMP/slow.jpg" "$URL/api/upload" >/dev/null 2>&1
for _ in $(seq 1 50); do no_parts && break; sleep 0.1; done
check "a client gone mid-upload: its temporary file removed" no_parts

check "indexing finishes" wait_indexed
check "status counts every upload" jqb '.indexing.submitted == 25 and .indexing.finished == 25 and .indexing.failed == 1'
check "the truncated JPEG is reported failed, with the decoder's message" \
    jqf --arg f "$TRUNC" '[.indexing.recent[] | select(.file == $f and .status == "failed" and (.error | length > 0))] | length == 1' "$TMP/body"
check "the LFW photos were indexed with a face each" jqf '[.indexing.recent[] | select(.name | test("^(Colin|Tony|Serena)")) | select(.status == "indexed" and .faces >= 1)] | length >= 15' "$TMP/body"
check "server still alive after the bad uploads" kill -0 "$PID"
S1=$(sha256sum models/samples/sample1.jpg | cut -c1-64)
req POST /api/upload -F "files=@models/samples/sample1.jpg;filename=again.jpg"
check "the same bytes uploaded again: 200, one photo (status duplicate, its stored photo)" [ "$CODE" = 200 ] && jqb ".queued == 0 and .duplicates == 1 and .files[0].status == \"duplicate\" and .files[0].file == \"$S1.jpg\" and (.files[0].photo | type == \"number\")"
DUP=$(jq -r '.files[0].photo' "$TMP/body")
req GET "/api/photos/$DUP"
check "a photo's name is the name it was uploaded with (not the stored one, not the duplicate's)" [ "$CODE" = 200 ] && jqb '.photo.name == "sample1.jpg"'
req POST /api/upload -F "files=@models/samples/sample2.jpg" -F "files=@models/samples/sample2.jpg;filename=copy.jpg"
check "the same bytes twice in one request: never queued twice" [ "$CODE" = 200 ] && jqb '.queued == 0 and .duplicates == 2'
req POST /api/upload -F "files=@$LFW/Hugo_Chavez/Hugo_Chavez_0002.jpg" -F "files=@$LFW/Hugo_Chavez/Hugo_Chavez_0002.jpg;filename=again.jpg"
check "new bytes twice in one request: queued once, then duplicate" [ "$CODE" = 202 ] && jqb '.queued == 1 and .duplicates == 1 and .files[1].status == "duplicate"'
wait_indexed
check "duplicates were not queued" jqb '.indexing.submitted == 26'
check "no temporary file left after all uploads" no_parts

# ---- persons -------------------------------------------------------------------------------------------
req GET /api/persons
check "GET /api/persons: shape" jqb '(.persons | length) >= 3 and all(.persons[]; (.id | type == "number") and has("name") and (.hidden | type == "boolean") and (.n_faces | type == "number") and (.n_photos | type == "number") and has("avatar")) and (.unknown_faces | type == "number")'
cp "$TMP/body" "$TMP/persons.json"
# the person holding most of an identity's photos
person_of() {
    local best= bestn=0 id n
    for id in $(jq -r '.persons[].id' "$TMP/persons.json"); do
        req GET "/api/persons/$id"
        n=0
        for s in ${SHA[$1]}; do jq -e --arg s "$s" 'any(.photos[]; .name == $s)' "$TMP/body" >/dev/null && n=$((n+1)); done
        if [ $n -gt $bestn ]; then best=$id; bestn=$n; fi
    done
    echo "$best"
}
A=$(person_of Colin_Powell); B=$(person_of Tony_Blair); C=$(person_of Serena_Williams)
echo "     Colin_Powell -> person $A, Tony_Blair -> $B, Serena_Williams -> $C"
check "each LFW identity became its own person" [ -n "$A" ] && [ -n "$B" ] && [ -n "$C" ] && [ "$A" != "$B" ] && [ "$B" != "$C" ] && [ "$A" != "$C" ]
req GET "/api/persons/$A"
check "GET /api/persons/{id}: faces and photos" [ "$CODE" = 200 ] && jqb '.person.id > 0 and (.faces | length) >= 4 and all(.faces[]; (.id | type == "number") and (.photo | type == "number") and (.box | length == 4) and (.blurry | type == "boolean") and (.trash | type == "boolean") and .detector == "mtcnn") and all(.photos[]; .width > 0 and .height > 0)'
AF1=$(jq -r '.faces[0].id' "$TMP/body"); AF2=$(jq -r '.faces[1].id' "$TMP/body"); AF3=$(jq -r '.faces[2].id' "$TMP/body")
APH=$(jq -r '.photos[0].id' "$TMP/body"); NA=$(jq -r '.person.n_faces' "$TMP/body")
req GET "/api/persons/$B"; NB=$(jq -r '.person.n_faces' "$TMP/body"); BF=$(jq -r '.faces[0].id' "$TMP/body")
req GET "/api/faces/$AF1/thumb"
check "GET /api/faces/{id}/thumb: a JPEG" [ "$CODE" = 200 ] && [ "$CTYPE" = image/jpeg ] && [ "$(head -c 3 "$TMP/body" | od -An -tx1 | tr -d ' ')" = ffd8ff ]
req GET "/api/faces/$AF1"
check "GET /api/faces/{id}" [ "$CODE" = 200 ] && jqb ".face.id == $AF1 and .face.person == $A"
req GET "/api/photos/$APH/image"; full=$(stat -c %s "$TMP/body"); c1=$CODE; t1=$CTYPE
req GET "/api/photos/$APH/image?max=64"
check "GET /api/photos/{id}/image: JPEG, ?max shrinks it" [ "$c1" = 200 ] && [ "$t1" = image/jpeg ] && [ "$CODE" = 200 ] && [ "$(stat -c %s "$TMP/body")" -lt "$full" ]
req GET "/api/photos/$APH"
check "GET /api/photos/{id}: the photo and its faces" [ "$CODE" = 200 ] && jqb ".photo.id == $APH and (.faces | length) >= 1"
req GET /api/unknown
# the review queue's order: each face carries its question's size, a question's faces are adjacent
unknown_groups() {
    jqb 'all(.faces[]; .group | type == "number")' &&
    python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["faces"]
i = 0
while i < len(f):
    g = f[i]["group"]
    if g > 1 and len(f) - i >= g: # a whole question: g adjacent faces of that size
        if any(x["group"] != g for x in f[i:i + g]): sys.exit(1)
        i += g
    else:
        i += 1
' "$TMP/body"
}
check "GET /api/unknown: faces in the review queue's order (group sizes, adjacent)" unknown_groups
check "GET /api/unknown: shape" [ "$CODE" = 200 ] && jqb '(.total | type == "number") and all(.faces[]; (.face.id | type == "number") and .face.person == null and (.suggestion == null or ((.suggestion.person | type == "number") and (.suggestion.distance | type == "number"))))'

# a person left without faces (fuzz_router found qsort given no array): 200 with empty lists
post_json /api/persons "{\"name\":\"Solo\",\"faces\":[$BF]}"; SOLO=$(jq -r '.person.id' "$TMP/body")
post_json "/api/faces/$BF/move" "{\"person\":$B}"; c1=$CODE
req GET "/api/persons/$SOLO"
check "GET /api/persons/{id} of a person whose faces all moved away: 200, no faces, no photos" \
    [ "$c1" = 200 ] && [ "$CODE" = 200 ] && jqb ".person.id == $SOLO and .person.n_faces == 0 and .faces == [] and .photos == []"
post_json /api/undo '{}'; c1=$CODE; post_json /api/undo '{}'
check "both undone (the face back in B, Solo gone)" [ "$c1" = 200 ] && [ "$CODE" = 200 ]

req POST /api/search -F "image=@$LFW/Colin_Powell/Colin_Powell_0010.jpg"
check "POST /api/search: an unseen Colin Powell photo finds his person" [ "$CODE" = 200 ] && jqb "(.width > 0) and any(.faces[]; .person.id == $A and (.distance | type == \"number\") and (.box | length == 4))"
check "... and his stored faces as similar ones (nearest first, all in his person)" \
    jqb "any(.faces[]; .person.id == $A and (.similar | length >= 3) and all(.similar[]; .person == $A and .distance < 0.9 and (.photo | type == \"number\")) and ([.similar[].distance] == ([.similar[].distance] | sort)))"
pars=()
for i in 1 2 3 4 5 6 7 8; do
    curl -s -m 120 -o /dev/null -w '%{http_code}\n' -H "Origin: $URL" -F "image=@models/samples/sample$(( (i - 1) % 6 + 1 )).jpg" "$URL/api/search" >"$TMP/par$i" &
    pars+=($!)
done
sleep 0.2
t0=$(date +%s%N); st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/api/status"); as=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$URL/app.js"); t1=$(date +%s%N)
wait "${pars[@]}"
codes=$(cat "$TMP"/par* | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
echo "     8 concurrent searches: $codes; status+asset during them: $(( (t1 - t0) / 1000000 )) ms"
check "8 concurrent searches: each 200 or 503 (at most 4 run at once), other routes answer meanwhile" \
    bash -c "! grep -qv '^\(200\|503\)$' $TMP/par* && grep -q '^200$' $TMP/par*" && [ "$st" = 200 ] && [ "$as" = 200 ]
req POST /api/search -F "image=@$TMP/notimage.jpg"
check "POST /api/search with a non-image: 415" [ "$CODE" = 415 ] && is_error 415
req POST /api/search -F "image=@$TMP/truncated.jpg"
check "POST /api/search with a truncated JPEG: 415 with the decoder's message" [ "$CODE" = 415 ] && is_error 415

# ---- browser safety: DNS rebinding, CSRF -------------------------------------------------------------
PORT=${URL##*:}
xreq GET /api/persons -H "Host: evil.example:$PORT"
check "a rebinding Host (evil.example): 421, no data" [ "$CODE" = 421 ] && is_error 421 && ! grep -q persons "$TMP/body"
xreq GET "/api/faces/$AF1/thumb" -H "Host: evil.example"
check "a rebinding Host on a face crop: 421" [ "$CODE" = 421 ]
xreq GET /api/persons -H "Host: 127.0.0.1:1"
check "an allowed name with another port: 421" [ "$CODE" = 421 ]
xreq GET /api/persons -H "Host: localhost:$PORT"; c1=$CODE
xreq GET /api/persons -H "Host: [::1]"; c2=$CODE
xreq GET / -H "Host: LOCALHOST"
check "Host localhost:PORT, [::1] and LOCALHOST: 200" [ "$c1" = 200 ] && [ "$c2" = 200 ] && [ "$CODE" = 200 ]
req GET "/api/persons/$A"; NAME_A=$(jq -c '.person.name' "$TMP/body")
xreq POST "/api/persons/$A/rename" -H 'Origin: http://evil.example' -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "cross-origin rename (Origin evil.example): 403" [ "$CODE" = 403 ] && is_error 403
xreq POST "/api/persons/$A/rename" -H 'Origin: http://evil.example' -H 'Content-Type: text/plain' --data-binary '{"name":"pwned"}'
check "cross-origin text/plain form rename: refused" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/rename" -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "rename with neither Origin nor Sec-Fetch-Site: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/rename" -H 'Sec-Fetch-Site: cross-site' -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "rename with Sec-Fetch-Site: cross-site: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/rename" -H 'Origin: null' -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "rename with Origin: null: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/rename" -H "Origin: http://127.0.0.1:1" -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "rename from another port on loopback: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/rename" -H 'Origin: http://evil.example' -H 'Authorization: Bearer guessed' -H 'Content-Type: application/json' --data-binary '{"name":"pwned"}'
check "an unvalidated bearer token is not exempt: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$C/hide" -H 'Origin: http://evil.example' -H 'Content-Type: application/json' --data-binary '{"hidden":true}'
check "cross-origin hide: 403" [ "$CODE" = 403 ]
xreq POST "/api/persons/$A/merge" -H 'Origin: http://evil.example' -H 'Content-Type: application/json' --data-binary "{\"from\":$B}"
check "cross-origin merge: 403" [ "$CODE" = 403 ]
n_up=$(find "$TMP/lib.db.uploads" -type f | wc -l)
xreq POST /api/upload -H 'Origin: http://evil.example' -F "files=@$LFW/Hugo_Chavez/Hugo_Chavez_0001.jpg"
check "cross-origin upload: 403, nothing stored" [ "$CODE" = 403 ] && [ "$(find "$TMP/lib.db.uploads" -type f | wc -l)" = "$n_up" ]
xreq POST /api/recluster
check "recluster without an origin: 403" [ "$CODE" = 403 ]
req GET "/api/persons/$A"; req GET "/api/persons/$C"; hid=$(jq -r '.person.hidden' "$TMP/body")
req GET "/api/persons/$A"
check "after the refused requests: name unchanged, not hidden, not merged" [ "$(jq -c '.person.name' "$TMP/body")" = "$NAME_A" ] && [ "$hid" = false ] && [ "$(jq -r '.person.n_faces' "$TMP/body")" = "$NA" ]
req POST "/api/persons/$A/rename" -H 'Content-Type: text/plain' --data-binary '{"name":"x"}'
check "same-origin JSON with Content-Type text/plain: 415" [ "$CODE" = 415 ] && is_error 415
req POST "/api/persons/$A/rename" --data-binary '{"name":"x"}'
check "same-origin JSON as a urlencoded form: 415" [ "$CODE" = 415 ]
xreq POST "/api/persons/$A/rename" -H 'Sec-Fetch-Site: same-origin' -H 'Content-Type: application/json; charset=utf-8' --data-binary "{\"name\":$NAME_A}"
check "Sec-Fetch-Site: same-origin (no Origin), charset parameter: 200" [ "$CODE" = 200 ]
xreq POST "/api/persons/$A/rename" -H "Origin: http://localhost:$PORT" -H "Host: localhost:$PORT" -H 'Content-Type: application/json' --data-binary "{\"name\":$NAME_A}"
check "Origin http://localhost:PORT: 200" [ "$CODE" = 200 ]

# ---- connections: idle sockets do not stall other clients --------------------------------------------
if command -v python3 >/dev/null; then
    python3 -c '
import socket, sys, time
s = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(70)]
print("open", flush=True)
time.sleep(20)' "$PORT" >"$TMP/idle" 2>&1 &
    IDLE=$!
    for _ in $(seq 1 100); do grep -q open "$TMP/idle" && break; sleep 0.1; done
    out=$(curl -s -m 5 -o "$TMP/body" -w '%{http_code}' "$URL/api/persons")
    check "70 idle sockets open: GET /api/persons still answers within 5 s" grep -q open "$TMP/idle" && [ "$out" = 200 ] && jqb '.persons | length > 0'
    kill $IDLE 2>/dev/null; wait $IDLE 2>/dev/null
else
    bad "python3 is required for the idle-sockets check"
fi

# ---- corrections ---------------------------------------------------------------------------------------
post_json "/api/persons/$A/rename" '{"name":"Colin \"the\" Test ✓"}'
check "rename: 200 and the new name" [ "$CODE" = 200 ] && jqb '.person.name == "Colin \"the\" Test ✓"'
post_json "/api/persons/$A/rename" '{"name":'
check "rename with bad JSON: 400" [ "$CODE" = 400 ] && is_error 400
post_json "/api/persons/$A/rename" '{"name":42}'
check "rename with a number: 400" [ "$CODE" = 400 ] && is_error 400
post_json "/api/persons/99999/rename" '{"name":"x"}'
check "rename an unknown person: 404" [ "$CODE" = 404 ] && is_error 404
post_json "/api/persons/$C/rename" '{"name":"Serena"}'
check "rename another" [ "$CODE" = 200 ]
post_json "/api/persons/$A/merge" "{\"from\":$B}"
check "merge: 200, faces added up" [ "$CODE" = 200 ] && jqb ".person.id == $A and .person.n_faces == $((NA + NB))"
req GET "/api/persons/$B"
check "the merged person is gone: 404" [ "$CODE" = 404 ]
post_json "/api/persons/$A/merge" "{\"from\":$A}"
check "merge into itself: 400" [ "$CODE" = 400 ] && is_error 400
post_json "/api/persons/$A/merge" '{"from":99999}'
check "merge an unknown person: 404" [ "$CODE" = 404 ] && is_error 404
post_json "/api/persons/$C/hide" '{"hidden":true}'
check "hide: 200 hidden" [ "$CODE" = 200 ] && jqb '.person.hidden == true'
post_json "/api/persons/$C/hide" '{"hidden":"yes"}'
check "hide with a string: 400" [ "$CODE" = 400 ] && is_error 400
# (`check D [ A ] && jqb F` would count only [ A ]: the whole condition goes in a function)
req GET "/api/persons/$A"; AQ=$(jq -c '[.faces[].quality] | max' "$TMP/body")
avatars_ok() { [ "$CODE" = 200 ] && jqb ".person.id == $A and (.candidates | length) == ([5, .person.n_faces] | min) and all(.candidates[]; .person == $A) and ([.candidates[].quality] == ([.candidates[].quality] | sort | reverse)) and .candidates[0].quality == $AQ and (.person.avatar_by_user or .person.avatar == .candidates[0].id)"; }
req GET "/api/persons/$A/avatars"
check "GET /api/persons/{id}/avatars: up to 5 of its faces, best quality first, the first the automatic avatar" avatars_ok
req GET "/api/persons/$A/avatars?limit=2"; c1=$CODE; n2=$(jq '.candidates | length' "$TMP/body")
req GET /api/persons/99999/avatars
avatars_404() { [ "$c1" = 200 ] && [ "$n2" = 2 ] && [ "$CODE" = 404 ] && is_error 404; }
check "avatars ?limit=2: 2; an unknown person: 404" avatars_404
post_json "/api/persons/$A/avatar" "{\"face\":$AF2}"
check "avatar: 200, the chosen face" [ "$CODE" = 200 ] && jqb ".person.avatar == $AF2 and .person.avatar_by_user == true"
req GET "/api/persons/$C"; CF=$(jq -r '.faces[0].id' "$TMP/body")
post_json "/api/persons/$A/avatar" "{\"face\":$CF}"
check "avatar with another person's face: 400" [ "$CODE" = 400 ] && is_error 400
post_json "/api/faces/$AF3/move" '{"person":null}'
check "move a face to unknown: 200, person null" [ "$CODE" = 200 ] && jqb ".face.person == null and .face.assigned == \"user\""
post_json "/api/faces/$BF/move" "{\"person\":$C}"
check "move a face to another person: 200" [ "$CODE" = 200 ] && jqb ".face.person == $C"
post_json "/api/faces/$BF/move" '{"person":99999}'
check "move to an unknown person: 404" [ "$CODE" = 404 ] && is_error 404
post_json "/api/faces/99999/move" '{"person":null}'
check "move an unknown face: 404" [ "$CODE" = 404 ] && is_error 404
post_json "/api/faces/$AF1/reject" "{\"person\":$A}"
check "reject: 200, the face leaves the person" [ "$CODE" = 200 ] && jqb ".face.id == $AF1 and .face.person != $A"
post_json "/api/faces/$AF1/reject" '{}'
check "reject without a person: 400" [ "$CODE" = 400 ] && is_error 400
req GET /api/unknown?limit=1000
check "a rejected face is never suggested for that person" jqb "all(.faces[] | select(.face.id == $AF1); .suggestion == null or .suggestion.person != $A)"

# ---- persistence across a restart --------------------------------------------------------------------
check "server stops cleanly on SIGTERM" stop_server
check "server restarts on the same library (with --host photos.example)" start_server --host photos.example
PORT=${URL##*:}
xreq GET /api/persons -H "Host: photos.example"; c1=$CODE
xreq POST "/api/persons/$C/hide" -H "Host: photos.example" -H "Origin: https://photos.example" -H 'Content-Type: application/json' --data-binary '{"hidden":true}'
check "a --host name is served, and is an allowed origin" [ "$c1" = 200 ] && [ "$CODE" = 200 ]
req GET "/api/persons/$A"
check "after restart: name, merge, avatar kept" jqb ".person.name == \"Colin \\\"the\\\" Test ✓\" and .person.n_faces == $((NA + NB - 3)) and .person.avatar == $AF2 and (any(.faces[]; .id == $AF1) | not) and (any(.faces[]; .id == $AF3) | not)"
req GET "/api/persons/$B"
check "after restart: the merged person stays gone" [ "$CODE" = 404 ]
req GET "/api/persons/$C"
check "after restart: hidden, renamed, the moved face there" jqb ".person.hidden == true and .person.name == \"Serena\" and any(.faces[]; .id == $BF)"
req GET "/api/faces/$AF3"
check "after restart: the face moved to unknown is still unknown" jqb '.face.person == null'
req POST /api/recluster
check "POST /api/recluster: 200" [ "$CODE" = 200 ] && jqb '(.faces | type == "number") and (.persons_new | type == "number")'
req GET "/api/faces/$AF1"
check "after recluster: the rejected face is not back in its person" jqb ".face.person != $A"
req GET "/api/faces/$BF"
check "after recluster: the user's move stays" jqb ".face.person == $C"
req GET /api/status
check "status after restart: nothing re-indexed" jqb '.indexing.submitted == 0'
# the library's model (issue 12): the one that made its faces, the server's own, no re-embed
check "status: the library's model is the server's, no re-embed running" \
    jqb '.model.faces > 0 and .model.name == .server_model.name and .model.version == .server_model.version and .reembed == null'
# ---- undo and user operations (API-CONTRACT "Undo and user operations") -------------------------------
# snap NAME PATH: the GET reply of PATH saved as $TMP/NAME; same NAME PATH: PATH answers it again
snap() { req GET "$2"; cp "$TMP/body" "$TMP/snap_$1"; }
same() { req GET "$2"; [ "$CODE" = 200 ] && [ "$(jq -S . "$TMP/body")" = "$(jq -S . "$TMP/snap_$1")" ]; }
has_op() { jqb '(.op.id | type == "number") and (.op.summary | type == "string" and length > 0)'; }
undo_ok() { # undo_ok OP_ID: POST /api/undo took back that op
    req POST /api/undo -H 'Content-Type: application/json' --data-binary '{}'
    [ "$CODE" = 200 ] && jqb ".undone.id == $1 and (.undone.summary | length > 0)"
}
op_id() { jq -r '.op.id' "$TMP/body"; }

snap A "/api/persons/$A"
post_json "/api/persons/$A/rename" '{"name":"Undo me"}'
check "rename reply carries the op" [ "$CODE" = 200 ] && has_op && jqb '.op.summary | contains("Undo me")'
OP=$(op_id)
check "undo rename: 200, the op undone" undo_ok "$OP"
check "after undo: the person as before the rename" same A "/api/persons/$A"
post_json "/api/persons/$C/hide" '{"hidden":false}'
check "hide reply carries the op" [ "$CODE" = 200 ] && has_op
check "undo hide" undo_ok "$(op_id)"
snap A "/api/persons/$A"
mapfile -t AFS < <(jq -r '.faces[].id' "$TMP/snap_A")
APH2=$(jq -r '.photos[0].id' "$TMP/snap_A")
post_json "/api/persons/$A/avatar" "{\"face\":${AFS[1]}}"
check "avatar reply carries the op" [ "$CODE" = 200 ] && has_op
check "undo avatar: as before" undo_ok "$(op_id)" && same A "/api/persons/$A"

post_json /api/persons "{\"name\":\"Newbie\",\"faces\":[${AFS[0]},${AFS[1]}]}"
check "POST /api/persons: 201, a new person with the faces, and the op" [ "$CODE" = 201 ] && has_op && jqb '.person.name == "Newbie" and .person.n_faces == 2'
NEWP=$(jq -r '.person.id' "$TMP/body"); OP_NEW=$(op_id)
req GET "/api/faces/${AFS[0]}"
check "the face is in the new person, by the user" jqb ".face.person == $NEWP and .face.assigned == \"user\""
snap A2 "/api/persons/$A"; snap N "/api/persons/$NEWP"
post_json "/api/persons/$A/merge" "{\"from\":$NEWP}"
check "merge reply carries the op" [ "$CODE" = 200 ] && has_op && jqb '.op.summary | contains("Newbie")'
check "undo merge: 200" undo_ok "$(op_id)"
check "after undo merge: both persons as before" same A2 "/api/persons/$A" && same N "/api/persons/$NEWP"
# "apart" (the review queue's "no" to "are these two one?"): each face of Newbie rejected for A, one op
merges_shape() {
    jqb '(.merges | type == "array") and all(.merges[]; (.person.id | type == "number") and (.other.id | type == "number") and
         .person.id != .other.id and (.p_yes >= 0 and .p_yes <= 1) and (.gain >= 0))'
}
req GET /api/review/merges
check "GET /api/review/merges: 200, its shape" [ "$CODE" = 200 ] && merges_shape
post_json "/api/persons/$A/apart" "{\"person\":$NEWP}"
apart_ok() { [ "$CODE" = 200 ] && has_op && jqb ".person.id == $A"; }
check "apart: 200, one op" apart_ok
OP_APART=$(op_id)
req GET "/api/faces/${AFS[0]}"
check "apart: Newbie's faces stay in Newbie" jqb ".face.person == $NEWP"
never_asked() { req GET /api/review/merges?limit=50 && jqb "all(.merges[]; ([.person.id, .other.id] | sort) != ([$A, $NEWP] | sort))"; }
check "apart: the pair is not asked about" never_asked
post_json "/api/persons/$A/apart" "{\"person\":$A}"
check "apart from itself: 400" [ "$CODE" = 400 ]
check "undo apart" undo_ok "$OP_APART"
check "undo new person" undo_ok "$OP_NEW"
req GET "/api/persons/$NEWP"; c1=$CODE
check "after undo new person: it is gone (404), its faces back where they were" [ "$c1" = 404 ] && same A "/api/persons/$A"

post_json /api/faces/move "{\"faces\":[${AFS[0]},${AFS[1]},${AFS[2]}],\"person\":$C}"
check "bulk move: 200 moved 3, one op" [ "$CODE" = 200 ] && has_op && jqb '.moved == 3 and (.op.summary | contains("3 faces"))'
OP=$(op_id)
req GET "/api/persons/$C"
check "the 3 faces are in the other person" jqb "[.faces[].id] | contains([${AFS[0]},${AFS[1]},${AFS[2]}])"
check "one undo takes the whole bulk move back" undo_ok "$OP" && same A "/api/persons/$A"
post_json /api/faces/move "{\"faces\":[${AFS[0]},${AFS[1]}],\"person\":null}"
check "bulk move to unknown: 200" [ "$CODE" = 200 ] && jqb '.moved == 2' && has_op
check "undo it" undo_ok "$(op_id)" && same A "/api/persons/$A"
post_json /api/faces/reject "{\"faces\":[${AFS[0]},${AFS[1]}],\"person\":$A}"
check "bulk reject: 200 rejected 2, one op" [ "$CODE" = 200 ] && has_op && jqb '.rejected == 2'
OP=$(op_id)
req GET "/api/faces/${AFS[0]}"; p0=$(jq -r '.face.person' "$TMP/body")
check "the rejected faces left the person" [ "$p0" != "$A" ]
check "one undo takes the bulk reject back: the person as before" undo_ok "$OP" && same A "/api/persons/$A"
post_json "/api/faces/${AFS[2]}/move" '{"person":null}'
check "single face move reply carries the op" [ "$CODE" = 200 ] && has_op && jqb '.face.person == null'
check "undo single move" undo_ok "$(op_id)" && same A "/api/persons/$A"
post_json "/api/faces/${AFS[2]}/reject" "{\"person\":$A}"
check "single face reject reply carries the op" [ "$CODE" = 200 ] && has_op
check "undo single reject" undo_ok "$(op_id)" && same A "/api/persons/$A"

snap L /api/persons
req POST "/api/persons/$A/delete"
check "delete person: 200 with the op" [ "$CODE" = 200 ] && has_op && jqb '.op.summary | startswith("Deleted")'
OP=$(op_id)
req GET "/api/persons/$A"; c1=$CODE
req GET "/api/faces/${AFS[0]}"
check "the deleted person is 404, its faces unknown by the user's word" [ "$c1" = 404 ] && jqb '.face.person == null and .face.assigned == "user"'
check "undo delete person: the person and the list as before" undo_ok "$OP" && same A "/api/persons/$A" && same L /api/persons

snap P "/api/photos/$APH2"
PFILE=$(find "$TMP/lib.db.uploads/1" -type f | wc -l)
req POST "/api/photos/$APH2/delete"
check "delete photo: 200 with the op" [ "$CODE" = 200 ] && has_op
OP=$(op_id)
req GET "/api/photos/$APH2"; c1=$CODE
req GET "/api/photos/$APH2/image"
check "the deleted photo is 404 (and its image), its file kept for undo" [ "$c1" = 404 ] && [ "$CODE" = 404 ] && [ "$(find "$TMP/lib.db.uploads/1" -type f | wc -l)" = "$PFILE" ]
check "undo delete photo: the photo, its faces, the person as before" undo_ok "$OP" && same P "/api/photos/$APH2" && same A "/api/persons/$A"
req GET "/api/photos/$APH2/image"
check "the photo's image is served again" [ "$CODE" = 200 ] && [ "$CTYPE" = image/jpeg ]

# errors of the new routes
req POST /api/persons/99999/delete; c1=$CODE
req POST /api/photos/99999/delete
check "delete an unknown person / photo: 404" [ "$c1" = 404 ] && [ "$CODE" = 404 ] && is_error 404
post_json /api/faces/move '{"faces":[],"person":null}'
check "bulk move of an empty list: 400" [ "$CODE" = 400 ] && is_error 400
ids=$(seq -s, 1 1001)
post_json /api/faces/move "{\"faces\":[$ids],\"person\":null}"; c1=$CODE
post_json /api/faces/reject "{\"faces\":[$ids],\"person\":$A}"; c2=$CODE
post_json /api/persons "{\"faces\":[$ids]}"
check "1001 ids: 400 (move, reject, new person)" [ "$c1" = 400 ] && [ "$c2" = 400 ] && [ "$CODE" = 400 ] && is_error 400
post_json /api/faces/move '{"faces":"1","person":null}'; c1=$CODE
post_json /api/faces/move '{"faces":[1.5],"person":null}'; c2=$CODE
post_json /api/faces/move "{\"faces\":[${AFS[0]}],\"person\":\"x\"}"
check "bulk move with mistyped faces or person: 400" [ "$c1" = 400 ] && [ "$c2" = 400 ] && [ "$CODE" = 400 ]
post_json /api/faces/reject "{\"faces\":[${AFS[0]}]}"
check "bulk reject without a person: 400" [ "$CODE" = 400 ] && is_error 400
snap A "/api/persons/$A"
post_json /api/faces/move "{\"faces\":[${AFS[0]},99999],\"person\":$C}"; c1=$CODE
post_json /api/faces/move "{\"faces\":[${AFS[0]}],\"person\":99999}"; c2=$CODE
post_json /api/persons '{"faces":[99999]}'
check "bulk with an unknown face or person: 404, nothing changed" [ "$c1" = 404 ] && [ "$c2" = 404 ] && [ "$CODE" = 404 ] && same A "/api/persons/$A"
post_json /api/persons '{"name":42,"faces":[1]}'; c1=$CODE
post_json /api/persons '{"name":"x"}'
check "new person with a bad name or no faces: 400" [ "$c1" = 400 ] && [ "$CODE" = 400 ]
post_json /api/persons "{\"faces\":[${AFS[0]}]}"
check "new person without a name: 201, unnamed" [ "$CODE" = 201 ] && jqb '.person.name == null' && has_op
check "undo it" undo_ok "$(op_id)" && same A "/api/persons/$A"
req POST /api/undo
check "POST /api/undo without a body: 200 (or 409 when the log is empty)" bash -c "[ $CODE = 200 ] || [ $CODE = 409 ]"
n=0; while [ $n -lt 60 ]; do req POST /api/undo; [ "$CODE" = 200 ] || break; n=$((n+1)); done
check "undo until the log is empty: then 409" [ "$CODE" = 409 ] && is_error 409

# ---- per-user settings: quota, recognition off ----------------------------------------------------------
sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()' "$TMP/lib.db" "$1"; }
used=$(find "$TMP/lib.db.uploads/1" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
sql "UPDATE users SET quota_bytes = $((used + 1000)) WHERE id = 1"
n_up=$(find "$TMP/lib.db.uploads" -type f | wc -l)
req POST /api/upload -F "files=@$LFW/Hugo_Chavez/Hugo_Chavez_0003.jpg"
check "an upload over the user's quota: 413 with a clear message, nothing stored" [ "$CODE" = 413 ] && is_error 413 && jqb '.files[0].error.message | contains("quota")' && [ "$(find "$TMP/lib.db.uploads" -type f | wc -l)" = "$n_up" ]
req POST /api/upload -F "files=@models/samples/sample1.jpg"
check "a duplicate over the quota still answers duplicate (takes no space)" [ "$CODE" = 200 ] && jqb '.duplicates == 1'
sql "UPDATE users SET quota_bytes = 0, recognition = 0 WHERE id = 1"
req POST /api/upload -F "files=@$LFW/Hugo_Chavez/Hugo_Chavez_0003.jpg;filename=hugo.jpg"
check "unlimited quota again: queued" [ "$CODE" = 202 ]
wait_indexed
check "recognition off: the photo is stored, no face computed" jqf '.indexing.recent[0].name == "hugo.jpg" and .indexing.recent[0].status == "indexed" and .indexing.recent[0].faces == 0' "$TMP/body"
sql "UPDATE users SET recognition = 1 WHERE id = 1"

# ---- a deleted photo's file goes when its op leaves the log (50 kept); only uploads -------------------------
mkdir -p "$TMP/folder" && cp models/samples/sample3.jpg "$TMP/folder/mine.jpg"
"$BIN" index "$TMP/folder" --db "$TMP/lib.db" >"$TMP/indexlog" 2>&1
MINE=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM photos WHERE path LIKE ?", ("%/folder/mine.jpg",)).fetchone()[0])' "$TMP/lib.db" 2>/dev/null)
req GET "/api/photos/$MINE"
check "a photo of an indexed folder (CLI) is served too" [ -n "$MINE" ] && [ "$CODE" = 200 ]
req POST "/api/photos/$DUP/delete"; c1=$CODE
req POST "/api/photos/$MINE/delete"
check "delete an uploaded photo and a folder photo: 200, files kept for undo" [ "$c1" = 200 ] && [ "$CODE" = 200 ] && [ -f "$TMP/lib.db.uploads/1/$S1.jpg" ] && [ -f "$TMP/folder/mine.jpg" ]
for i in $(seq 1 25); do
    post_json "/api/persons/$C/hide" '{"hidden":true}'; post_json "/api/persons/$C/hide" '{"hidden":false}'
done
check "50 ops later: the upload's file is deleted, the indexed folder's file never" [ ! -e "$TMP/lib.db.uploads/1/$S1.jpg" ] && [ -f "$TMP/folder/mine.jpg" ]

check "server stops cleanly" stop_server
# ---- the old flat upload layout is moved into 1/ at start --------------------------------------------------
mv "$TMP/lib.db.uploads/1/"* "$TMP/lib.db.uploads/" && rmdir "$TMP/lib.db.uploads/1"
sql "UPDATE photos SET path = replace(path, '/lib.db.uploads/1/', '/lib.db.uploads/')"
check "server starts on a library with the old flat layout" start_server
check "the flat uploads moved into 1/" [ -z "$(find "$TMP/lib.db.uploads" -maxdepth 1 -type f)" ] && [ "$(find "$TMP/lib.db.uploads/1" -type f | wc -l)" -gt 20 ]
req GET "/api/photos/$APH2/image"
check "after the move: images are served, nothing re-indexed" [ "$CODE" = 200 ] && req GET /api/status && jqb '.indexing.submitted == 0'
check "server stops cleanly at the end" stop_server

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
