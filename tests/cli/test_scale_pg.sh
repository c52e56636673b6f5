#!/usr/bin/env bash
# Scale-out on a real PostgreSQL 15 (issue 10), black-box through the CLI and HTTP:
#  1. serve --enqueue-only on PostgreSQL + 2 `facehatch worker` processes index 38 photos
#     (the 6 demo photos, 8 LFW photos each of 4 people) uploaded over HTTP; the persons
#     (faces grouped by photo content + box) equal those of `index` into SQLite.
#  2. kill -9: a worker killed at random moments 5 times over a queue of the same photos;
#     after a last worker drains the queue every photo is stored once and has exactly the
#     faces the SQLite run found (none lost, none twice), no job is left, the store checks.
#  3. bad input: a worker against an empty database, an unreachable server, a database of
#     another program; each a clear error, nothing written.
# Uses the server of tests/run.sh ($FH_TEST_PG) or starts its own (tools/pg_test_server.sh).
# Ends with "N passed, M failed"; exit status 1 on any failure.
set -u
cd "$(dirname "$0")/../.."
BIN=${FACEHATCH:-${BUILD:-build}/facehatch}
LFW=../shared/data/lfw/lfw-deepfunneled
for t in curl jq python3; do command -v $t >/dev/null || { echo "FAIL: $t is required"; echo "0 passed, 1 failed"; exit 1; }; done
[ -d "$LFW" ] || { echo "FAIL: $LFW missing"; echo "0 passed, 1 failed"; exit 1; }
TMP=$(mktemp -d)
OWN_PG=
PIDS=()
pass=0; fail=0
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ -n "$OWN_PG" ] && tools/pg_test_server.sh stop "$OWN_PG"
    rm -rf "$TMP"
}
trap cleanup EXIT
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
jqq() { jq -e "$@" >/dev/null 2>&1; }
finish() { echo "$pass passed, $fail failed"; [ $fail -eq 0 ]; exit $?; }

PGDIR=${FH_TEST_PG:-}
if [ -z "$PGDIR" ]; then
    PGDIR=$(tools/pg_test_server.sh start) || { bad "start a PostgreSQL server"; finish; }
    OWN_PG=$PGDIR
fi
dburl() { tools/pg_test_server.sh url "$PGDIR" "$1"; }

# the photo set: copies (the walker does not follow links)
mkdir -p "$TMP/photos"
cp models/samples/*.jpg "$TMP/photos/"
for p in Colin_Powell Tony_Blair Donald_Rumsfeld Gerhard_Schroeder; do
    ls "$LFW/$p" | sort | head -8 | while read -r f; do cp "$LFW/$p/$f" "$TMP/photos/"; done
done
N=$(ls "$TMP/photos" | wc -l)
check "the photo set: $N photos" [ "$N" = 38 ]

# the reference: SQLite, one process
"$BIN" index "$TMP/photos" --db "$TMP/ref.db" --threads 2 >"$TMP/ref.json" 2>"$TMP/ref.err"
check "reference: index into SQLite" jqq '.indexed == 38' "$TMP/ref.json"
"$BIN" persons --db "$TMP/ref.db" --json >"$TMP/ref.persons"
# partition FILE [photos-dir-for-content-hash]: one line per group, faces keyed by the
# photo's sha256 (its file's content; uploads are stored as <sha256>.<ext>) and box
partition() {
    python3 - "$1" <<'EOF'
import hashlib, json, os, sys
groups = []
for p in json.load(open(sys.argv[1])):
    keys = []
    for f in p["faces"]:
        path = f["photo"]
        base = os.path.basename(path).split(".")[0]
        sha = base if len(base) == 64 else hashlib.sha256(open(path, "rb").read()).hexdigest()
        keys.append("%s:%s" % (sha[:16], ",".join(map(str, f["box"]))))
    tag = "unknown" if p["id"] is None else "person"
    groups.append(tag + " " + " ".join(sorted(keys)))
print("\n".join(sorted(groups)))
EOF
}
partition "$TMP/ref.persons" >"$TMP/ref.part"
NP=$(grep -c '^person' "$TMP/ref.part")
check "reference: persons formed ($NP)" [ "$NP" -ge 3 ]

# ---- 1. serve + 2 workers on PostgreSQL ---------------------------------------------------------
U1=$(dburl fh_scale_serve)
"$BIN" serve --db "$U1" --uploads "$TMP/up" --enqueue-only --port 0 >"$TMP/serve.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
URL=
for _ in $(seq 1 300); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/serve.log" | head -1)
    [ -n "$URL" ] && break
    kill -0 "$SPID" 2>/dev/null || break
    sleep 0.1
done
check "serve --enqueue-only starts on PostgreSQL" [ -n "$URL" ]
check "... and says workers index" grep -q 'indexed by workers' "$TMP/serve.log"
check "... never shows a password" bash -c "! grep -q 'password=' '$TMP/serve.log'"
args=()
for f in "$TMP"/photos/*.jpg; do args+=(-F "files=@$f"); done
code=$(curl -s -m 120 -o "$TMP/up.json" -w '%{http_code}' -H "Origin: $URL" "${args[@]}" "$URL/api/upload")
check "38 photos uploaded: 202, all queued" [ "$code" = 202 ] && jqq '.queued == 38' "$TMP/up.json"
curl -s -m 10 "$URL/api/status" >"$TMP/st0.json"
check "status: 38 queued for the workers" jqq '.indexing.queued == 38 and .indexing.workers == "external"' "$TMP/st0.json"
t0=$(date +%s.%N)
"$BIN" worker --db "$U1" --exit-when-idle --threads 1 >"$TMP/w1.out" 2>"$TMP/w1.err" &
W1=$!; PIDS+=("$W1")
"$BIN" worker --db "$U1" --exit-when-idle --threads 1 >"$TMP/w2.out" 2>"$TMP/w2.err" &
W2=$!; PIDS+=("$W2")
wait "$W1"; r1=$?; wait "$W2"; r2=$?
t1=$(date +%s.%N)
check "two workers drain the queue and exit" [ $r1 = 0 ] && [ $r2 = 0 ]
i1=$(tail -1 "$TMP/w1.out" | jq .indexed); i2=$(tail -1 "$TMP/w2.out" | jq .indexed)
echo "     workers: $i1 + $i2 photos in $(python3 -c "print(round($t1 - $t0, 1))") s"
check "both workers did work, 38 photos in all" [ "$i1" -gt 0 ] && [ "$i2" -gt 0 ] && [ $((i1 + i2)) = 38 ]
curl -s -m 10 "$URL/api/status" >"$TMP/st1.json"
check "status: all finished, none failed" jqq '.indexing.busy == false and .indexing.finished == 38 and .indexing.failed == 0' "$TMP/st1.json"
curl -s -m 10 "$URL/api/persons" >"$TMP/persons.json"
check "the server shows the persons" jqq "[.persons[] | select(.id != null)] | length == $NP" "$TMP/persons.json"
"$BIN" persons --db "$U1" --json >"$TMP/pg.persons"
partition "$TMP/pg.persons" >"$TMP/pg.part"
check "the same persons as the SQLite path (faces by photo content and box)" cmp -s "$TMP/ref.part" "$TMP/pg.part"
cmp -s "$TMP/ref.part" "$TMP/pg.part" || diff "$TMP/ref.part" "$TMP/pg.part" | head -5 | cut -c1-200
kill -TERM "$SPID"; wait "$SPID" 2>/dev/null

# ---- 2. kill -9 at random moments ----------------------------------------------------------------
U2=$(dburl fh_scale_kill)
"$BIN" index "$TMP/photos" --db "$U2" --enqueue-only >"$TMP/q.json"
check "index --enqueue-only queues 38 jobs" jqq '.queued == 38' "$TMP/q.json"
"$BIN" index "$TMP/photos" --db "$U2" --enqueue-only >"$TMP/q2.json"
check "... again: nothing queued twice" jqq '.queued == 0' "$TMP/q2.json"
: >"$TMP/kill.out"
for k in 1 2 3 4 5; do
    lines=$(wc -l <"$TMP/kill.out")
    "$BIN" worker --db "$U2" --lease 2 --threads 1 >>"$TMP/kill.out" 2>>"$TMP/kill.err" &
    p=$!; PIDS+=("$p")
    # wait until it works (its first result line or 3 s), then a random moment
    for _ in $(seq 1 30); do [ "$(wc -l <"$TMP/kill.out")" -gt "$lines" ] && break; sleep 0.1; done
    sleep "$(python3 -c "import random; random.seed($k * 7919 + $$); print(round(random.uniform(0.0, 0.4), 2))")"
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
done
"$BIN" worker --db "$U2" --lease 2 --threads 1 --exit-when-idle >"$TMP/last.out" 2>"$TMP/last.err"
check "a last worker drains the queue (waiting out the dead workers' leases)" [ $? = 0 ]
killed=$(grep -c '"result":"indexed"' "$TMP/kill.out"); last=$(tail -1 "$TMP/last.out" | jq .indexed)
echo "     photos committed before the kills: $killed, by the last worker: $last"
check "the killed workers committed some photos, the last one the rest" [ "$killed" -gt 0 ] && [ $((killed + last)) -ge 38 ]
"$BIN" persons --db "$U2" --json >"$TMP/kill.persons"
# every photo once, with exactly the reference's faces (by photo content and box)
faces_of() { python3 - "$1" <<'EOF'
import json, os, sys
keys = []
for p in json.load(open(sys.argv[1])):
    for f in p["faces"]:
        path = f["photo"]
        keys.append("%s:%s" % (os.path.basename(path), ",".join(map(str, f["box"]))))
print("\n".join(sorted(keys)))
EOF
}
faces_of "$TMP/ref.persons" >"$TMP/ref.faces"
faces_of "$TMP/kill.persons" >"$TMP/kill.faces"
check "after the kills: exactly the reference's faces, none twice ($(wc -l <"$TMP/ref.faces") faces)" cmp -s "$TMP/ref.faces" "$TMP/kill.faces"
check "no job left queued or running, none failed" bash -c "psql '$U2' -qAt -c 'SELECT COUNT(*) FROM jobs WHERE state <> 2' | grep -qx 0"
check "some jobs were taken over from killed workers ($(psql "$U2" -qAt -c 'SELECT COUNT(*) FROM jobs WHERE attempts > 1'))" \
    bash -c "[ \$(psql '$U2' -qAt -c 'SELECT COUNT(*) FROM jobs WHERE attempts > 1') -ge 1 ]"
check "every photo once" bash -c "psql '$U2' -qAt -c 'SELECT COUNT(*), COUNT(DISTINCT path) FROM photos' | grep -qx '38|38'"

# ---- 3. bad input ---------------------------------------------------------------------------------
U3=$(dburl fh_scale_empty)
"$BIN" worker --db "$U3" --exit-when-idle >/dev/null 2>"$TMP/e1"; rc=$?
check "a worker on an empty database: exit 1, says so" [ $rc = 1 ] && grep -q 'holds no facehatch library' "$TMP/e1"
check "... and creates nothing" bash -c "psql '$U3' -qAt -c \"SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'\" | grep -qx 0"
"$BIN" worker --db "postgresql:///x?host=$TMP/nowhere&connect_timeout=2" >/dev/null 2>"$TMP/e2"; rc=$?
check "an unreachable server: exit 1, 'cannot connect'" [ $rc = 1 ] && grep -q 'cannot connect' "$TMP/e2"
"$BIN" persons --db "postgresql://u:topsecret@/x?host=$TMP/nowhere&connect_timeout=2" >/dev/null 2>"$TMP/e3"; rc=$?
check "... the password is never printed" [ $rc = 1 ] && ! grep -q topsecret "$TMP/e3"
psql "$U3" -qAt -c "CREATE TABLE orders (id int)" >/dev/null
"$BIN" index "$TMP/photos" --db "$U3" --enqueue-only >/dev/null 2>"$TMP/e4"; rc=$?
check "a database of another program is refused" [ $rc = 1 ] && grep -q 'not a facehatch database' "$TMP/e4"
"$BIN" serve --db "$U3" --port 0 >/dev/null 2>"$TMP/e5"; rc=$?
check "serve on a URL without --uploads: a clear error" [ $rc = 1 ] && grep -q 'uploads' "$TMP/e5"
finish
