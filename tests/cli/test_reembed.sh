#!/usr/bin/env bash
# Switching a library's model (issue 12 part 1, `facehatch reembed`), on real LFW faces:
#  - user decisions first (a name, a face moved in, "not this person", a new person, a face
#    made unknown), then a re-embed to int8 killed with SIGKILL while it stages vectors: the
#    library still answers on its old model with its old vectors untouched (index, search,
#    persons), `reembed --status` shows the progress, a re-run resumes (does not start over)
#    and ends with exactly the vectors, persons and decisions of an uninterrupted re-embed
#    of a copy; the library then refuses the old model and takes the new one; a server on
#    the half-staged library shows its model and the progress (GET /api/status);
#  - `eval reembed` (30 LFW identities with 4..9 images + 150 strangers, the 30 largest
#    persons named, switched to int8): >= 99 % of the named faces keep their name, no
#    impure person.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
for t in sqlite3 jq curl; do command -v $t >/dev/null || { echo "FAIL: $t is needed"; echo "0 passed, 1 failed"; exit 1; }; done
[ -d "$DATA/lfw/lfw-deepfunneled" ] || { echo "FAIL: needs $DATA/lfw"; echo "0 passed, 1 failed"; exit 1; }
q() { sqlite3 "$1" "$2"; }
mkdir -p "$T/photos"
# 400 LFW photos: the first 10 images of the 40 first identities (by name) with 20 or more,
# so persons form
python3 - "$DATA/lfw/lfw-deepfunneled" "$T/photos" <<'EOF'
import os, shutil, sys
root, out = sys.argv[1], sys.argv[2]
ids = [d for d in sorted(os.listdir(root)) if len(os.listdir(os.path.join(root, d))) >= 20][:40]
for d in ids:
    for f in sorted(os.listdir(os.path.join(root, d)))[:10]:
        shutil.copy(os.path.join(root, d, f), out)
EOF
"$BIN" index "$T/photos" --db "$T/lib.db" --threads 2 >/dev/null 2>"$T/err" || bad "index: $(cat "$T/err")"
persons=$(q "$T/lib.db" "SELECT count(*) FROM persons")
[ "$persons" -ge 5 ] && ok "library: $(ls "$T/photos" | wc -l) photos, $(q "$T/lib.db" 'SELECT count(*) FROM faces') faces, $persons persons" ||
    bad "only $persons persons formed"
# the user's decisions
P1=$(q "$T/lib.db" "SELECT person_id FROM faces WHERE person_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
P2=$(q "$T/lib.db" "SELECT person_id FROM faces WHERE person_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1 OFFSET 1")
MOVED=$(q "$T/lib.db" "SELECT id FROM faces WHERE person_id = $P2 ORDER BY id LIMIT 1")
REJ=$(q "$T/lib.db" "SELECT id FROM faces WHERE person_id = $P1 ORDER BY id DESC LIMIT 1")
NEWF=$(q "$T/lib.db" "SELECT id FROM faces WHERE person_id = $P2 ORDER BY id LIMIT 2 OFFSET 1" | tr '\n' ' ')
UNK=$(q "$T/lib.db" "SELECT id FROM faces WHERE person_id = $P2 ORDER BY id LIMIT 1 OFFSET 3")
"$BIN" rename "$P1" Anna --db "$T/lib.db" >/dev/null &&
"$BIN" face move "$MOVED" "$P1" --db "$T/lib.db" >/dev/null &&
"$BIN" face reject "$REJ" "$P1" --db "$T/lib.db" >/dev/null &&
"$BIN" person new Boris $NEWF --db "$T/lib.db" >/dev/null &&
"$BIN" face move "$UNK" unknown --db "$T/lib.db" >/dev/null && ok "decisions: named Anna, moved, rejected, new person Boris, made unknown" ||
    bad "user decisions failed"
decisions() { # each decided face and where it is (by person name)
    q "$1" "SELECT f.id, coalesce(p.name, '#' || coalesce(f.person_id, 0)), f.assigned FROM faces f LEFT JOIN persons p
            ON p.id = f.person_id WHERE f.id IN ($MOVED, $REJ, $UNK, ${NEWF// /,} 0) ORDER BY 1;
            SELECT face_id, person_id FROM face_rejects ORDER BY 1, 2"
}
before=$(decisions "$T/lib.db")
embs() { q "$1" "SELECT id, model_id, hex(embedding) FROM faces ORDER BY id" | md5sum; }
old=$(embs "$T/lib.db")
cp "$T/lib.db" "$T/ref.db"
cp "$T/lib.db" "$T/orig.db"
"$BIN" reembed --db "$T/ref.db" --precision int8 --threads 1 >"$T/ref.json" 2>"$T/err" && ok "uninterrupted re-embed: $(cat "$T/ref.json" | head -c 300)" ||
    bad "uninterrupted re-embed: $(cat "$T/err")"
total=$(q "$T/lib.db" "SELECT count(*) FROM faces")
# kill it while it stages
staged=0 rounds=0
for ms in 400 600 800 1000 1300 1600 2000; do
    "$BIN" reembed --db "$T/lib.db" --precision int8 --threads 1 >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    rounds=$((rounds + 1))
    staged=$(q "$T/lib.db" "SELECT count(*) FROM face_next")
    [ "$staged" -gt 0 ] && break
done
if [ "$staged" -gt 0 ] && [ "$staged" -lt "$total" ]; then
    ok "killed after $ms ms (round $rounds): $staged of $total faces staged"
else
    bad "the kill did not land while staging: $staged of $total staged"
fi
[ "$(embs "$T/lib.db")" = "$old" ] && ok "old vectors untouched while the re-embed is incomplete" || bad "vectors changed before the switch"
[ "$(q "$T/lib.db" 'PRAGMA integrity_check')" = ok ] && ok "integrity_check ok after the kill" || bad "integrity_check"
"$BIN" index "$T/photos" --db "$T/lib.db" >"$T/out" 2>"$T/err" && grep -q '"unchanged":' "$T/out" && ok "index on the old model still works" ||
    bad "index on the old model: $(cat "$T/err")"
"$BIN" search --db "$T/lib.db" "$(ls "$T/photos"/*.jpg | head -n 1)" >"$T/out" 2>"$T/err" && ok "search on the old model still works" ||
    bad "search: $(cat "$T/err")"
"$BIN" reembed --db "$T/lib.db" --status >"$T/st.json" 2>"$T/err"
grep -q '"reembed":{"to":{"name":"MobileFaceNet","version":"[^"]*+int8"' "$T/st.json" && grep -q "\"staged\":$staged," "$T/st.json" &&
    ok "reembed --status: $(cat "$T/st.json" | head -c 400)" || bad "status: $(cat "$T/st.json" "$T/err")"
[ "$(decisions "$T/lib.db")" = "$before" ] && ok "decisions unchanged while staging" || bad "decisions changed before the switch"
# the server shows the model in use and the re-embed's progress
"$BIN" serve --db "$T/lib.db" --port 0 --threads 1 >"$T/srv.log" 2>&1 &
SRV=$!
URL=
for _ in $(seq 1 600); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$T/srv.log" | head -1)
    [ -n "$URL" ] && break
    kill -0 "$SRV" 2>/dev/null || break
    sleep 0.1
done
if [ -n "$URL" ] && curl -s -m 30 "$URL/api/status" >"$T/status.json" &&
   [ "$(jq -r '.model.version' "$T/status.json")" = "$(jq -r '.server_model.version' "$T/status.json")" ] &&
   jq -e --argjson s "$staged" --argjson t "$total" '.reembed.staged == $s and .reembed.staged + .reembed.pending == $t and
        (.reembed.version | endswith("+int8"))' "$T/status.json" >/dev/null; then
    ok "GET /api/status: $(jq -c '{model: .model.version, reembed}' "$T/status.json")"
else
    bad "server status: $(cat "$T/status.json" "$T/srv.log" 2>/dev/null | head -c 400)"
fi
kill -TERM "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null
# resume
"$BIN" reembed --db "$T/lib.db" --precision int8 --threads 1 >"$T/re.json" 2>"$T/err" || bad "resume: $(cat "$T/err")"
resumed=$(sed -n 's/.*"resumed":\([0-9]*\).*/\1/p' "$T/re.json")
[ "${resumed:-0}" -ge "$staged" ] && ok "the re-run resumed from $resumed staged faces: $(head -c 300 "$T/re.json")" ||
    bad "re-run did not resume: $(cat "$T/re.json")"
[ "$(embs "$T/lib.db")" = "$(embs "$T/ref.db")" ] && ok "vectors equal the uninterrupted re-embed's, face by face" ||
    bad "vectors differ from the uninterrupted re-embed"
[ "$(embs "$T/lib.db")" != "$old" ] && ok "vectors switched" || bad "vectors not switched"
[ "$(q "$T/lib.db" 'SELECT count(*) FROM face_next')" = 0 ] && ok "nothing left staged" || bad "staged rows left"
a=$(q "$T/lib.db" "SELECT f.id, coalesce(p.name, f.person_id) FROM faces f LEFT JOIN persons p ON p.id = f.person_id ORDER BY 1" | md5sum)
b=$(q "$T/ref.db" "SELECT f.id, coalesce(p.name, f.person_id) FROM faces f LEFT JOIN persons p ON p.id = f.person_id ORDER BY 1" | md5sum)
[ "$a" = "$b" ] && ok "persons equal the uninterrupted re-embed's" || bad "persons differ from the uninterrupted re-embed"
after=$(decisions "$T/lib.db")
[ "$after" = "$before" ] && ok "every decision kept across the switch" || bad "decisions changed: before
$before
after
$after"
"$BIN" index "$T/photos" --db "$T/lib.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "embedded by" "$T/err" && ok "the switched library refuses the old model" || bad "old model not refused (rc $rc)"
"$BIN" index "$T/photos" --db "$T/lib.db" --precision int8 >/dev/null 2>"$T/err" && ok "and takes the new one" || bad "new model: $(cat "$T/err")"
"$BIN" reembed --db "$T/lib.db" --precision int8 >"$T/out" 2>&1 && grep -q '"faces":0,' "$T/out" && ok "a second re-embed to the same model does nothing" ||
    bad "second re-embed: $(cat "$T/out")"
# a process that started on the old model (a worker, idle) and outlived the switch stores
# nothing: the photo's transaction sees the switch (lib_reembed_model_guard)
cp "$T/orig.db" "$T/w.db"   # the library before any switch (fp32)
"$BIN" worker --db "$T/w.db" --threads 1 >"$T/worker.out" 2>"$T/worker.err" &
WPID=$!
sleep 2   # the worker has checked the model and loaded it
"$BIN" reembed --db "$T/w.db" --precision int8 --threads 2 >/dev/null 2>"$T/err" || bad "switch under a worker: $(cat "$T/err")"
mkdir -p "$T/new" && cp models/samples/sample1.jpg models/samples/sample2.jpg "$T/new/"
"$BIN" index "$T/new" --db "$T/w.db" --precision int8 --enqueue-only >/dev/null 2>"$T/err" || bad "enqueue: $(cat "$T/err")"
sleep 6; kill -TERM "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
int8=$(q "$T/w.db" "SELECT id FROM models WHERE version LIKE '%+int8'")
others=$(q "$T/w.db" "SELECT count(*) FROM faces WHERE model_id IS NOT $int8")
[ "$others" = 0 ] && grep -q "switched to another model" "$T/worker.out" "$T/worker.err" &&
    ok "a worker on the old model stored nothing after the switch (it said: $(grep -oh 'the library was switched to another model[^:]*' "$T/worker.out" "$T/worker.err" | head -1))" ||
    bad "old-model faces after the switch: $others; worker said: $(cat "$T/worker.out" "$T/worker.err" | head -c 400)"
# the same on PostgreSQL (the server of tests/run.sh, $FH_TEST_PG): staged rows, the switch
if [ -n "${FH_TEST_PG:-}" ]; then
    U=$(tools/pg_test_server.sh url "$FH_TEST_PG" reembed_test) && mkdir -p "$T/pg" && cp models/samples/*.jpg "$T/pg/" &&
        "$BIN" index "$T/pg" --db "$U" --threads 2 >/dev/null 2>"$T/err" &&
        "$BIN" reembed --db "$U" --precision int8 --threads 2 >"$T/pg.json" 2>>"$T/err" &&
        "$BIN" reembed --db "$U" --status >"$T/pgst.json" 2>>"$T/err" &&
        jq -e '.switched == .faces and .faces > 0 and .missing == 0' "$T/pg.json" >/dev/null &&
        jq -e '(.model.version | endswith("+int8")) and .reembed == null' "$T/pgst.json" >/dev/null &&
        "$BIN" index "$T/pg" --db "$U" --precision int8 >/dev/null 2>>"$T/err" &&
        ok "PostgreSQL: $(jq -c '{faces, switched}' "$T/pg.json") and the new model indexes" || bad "PostgreSQL re-embed: $(cat "$T/err" "$T/pg.json" 2>/dev/null | head -c 400)"
else
    echo "     (no \$FH_TEST_PG: the PostgreSQL part runs under make test)"
fi
# names kept across a switch, on a fresh draw of LFW identities with few photos
"$BIN" eval reembed --known 30 --draws 1 --seed 3 --precision int8 --threads 2 >"$T/ev" 2>"$T/err" || bad "eval reembed: $(cat "$T/err")"
sed 's/^/     /' "$T/ev" | head -n 4
python3 - "$T/ev" <<'EOF' && ok "eval reembed: >= 99 % of named faces keep their name, no impure person" || bad "eval reembed floor"
import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith('{')][-1])
print("     names kept %.4f, BCubed F %.4f -> %.4f, impure %d" % (r["names_kept"], r["bcubed_f_before"], r["bcubed_f_after"], r["impure_after"]))
sys.exit(0 if r["names_kept"] >= 0.99 and r["impure_after"] == 0 and r["bcubed_f_after"] >= 0.93 else 1)
EOF
echo "$pass passed, $fail failed"
[ $fail = 0 ]
