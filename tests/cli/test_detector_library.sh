#!/usr/bin/env bash
# The detector switch end to end: `index --detector haar` stores faces found by the Haar
# cascade (with O-Net landmarks) and the library records which detector found each face;
# an MTCNN run beside it records "mtcnn"; undo of a photo delete brings the faces back with
# their detector; a schema-3 database (no detector column) migrates and reads "mtcnn";
# an unknown detector is refused.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
mkdir -p "$T/a" "$T/b"
cp models/samples/sample1.jpg models/samples/sample2.jpg "$T/a/"
cp models/samples/sample3.jpg "$T/b/"
DB=$T/lib.db
"$BIN" index "$T/a" --db "$DB" --detector haar >/dev/null 2>&1 && ok "index --detector haar" || bad "index --detector haar failed"
"$BIN" index "$T/b" --db "$DB" >/dev/null 2>&1 && ok "index (mtcnn) into the same library" || bad "index mtcnn failed"
count() { # $1 = folder name part, $2 = detector: faces of those photos with that detector, and all of them
    "$BIN" persons --db "$DB" --json | python3 -c '
import json, sys
n = m = 0
for p in json.load(sys.stdin):
    for f in p["faces"]:
        if "/'"$1"'/" in f["photo"]:
            n += 1; m += f["detector"] == "'"$2"'"
print(m, n)'
}
read -r m n < <(count a haar)
[ "$n" -gt 0 ] && [ "$m" = "$n" ] && ok "Haar photos: all $n faces say haar" || bad "Haar photos: $m of $n faces say haar"
read -r m n < <(count b mtcnn)
[ "$n" -gt 0 ] && [ "$m" = "$n" ] && ok "MTCNN photo: all $n faces say mtcnn" || bad "MTCNN photo: $m of $n say mtcnn"
ver=$(sqlite3 "$DB" 'PRAGMA user_version')
[ "$ver" = 6 ] && ok "schema version 6" || bad "schema version $ver"
lm=$(sqlite3 "$DB" "SELECT COUNT(*) FROM faces WHERE detector = 'haar' AND length(landmarks) = 40")
[ "$lm" -gt 0 ] && ok "Haar faces carry landmarks ($lm)" || bad "Haar faces without landmarks"
# undo of a photo delete restores the faces with their detector
pid=$(sqlite3 "$DB" "SELECT photo_id FROM faces WHERE detector = 'haar' LIMIT 1")
nf=$(sqlite3 "$DB" "SELECT COUNT(*) FROM faces WHERE photo_id = $pid AND detector = 'haar'")
"$BIN" photo delete "$pid" --db "$DB" >/dev/null 2>&1 && "$BIN" undo --db "$DB" >/dev/null 2>&1
nf2=$(sqlite3 "$DB" "SELECT COUNT(*) FROM faces WHERE photo_id = $pid AND detector = 'haar'")
[ "$nf" -gt 0 ] && [ "$nf" = "$nf2" ] && ok "photo delete + undo: $nf2 faces back, still haar" || bad "undo: $nf -> $nf2 haar faces"
# a schema-3 file: drop the column, set the version back; opening migrates, faces read mtcnn
cp "$DB" "$T/old.db"
sqlite3 "$T/old.db" "DROP TABLE face_next; DROP TABLE jobs; ALTER TABLE faces DROP COLUMN detector; ALTER TABLE op_faces DROP COLUMN detector; PRAGMA user_version = 3" \
    && ok "made a schema-3 copy" || bad "could not make a schema-3 copy"
out=$("$BIN" persons --db "$T/old.db" --json 2>&1) && echo "$out" | python3 -c '
import json, sys
fs = [f for p in json.load(sys.stdin) for f in p["faces"]]
sys.exit(not (fs and all(f["detector"] == "mtcnn" for f in fs)))' \
    && ok "schema 3 migrates: every old face reads mtcnn" || bad "migration: $out"
[ "$(sqlite3 "$T/old.db" 'PRAGMA user_version')" = 6 ] && ok "migrated to 6 (detector column, jobs table, face_next)" || bad "not migrated"
out=$("$BIN" index "$T/a" --db "$DB" --detector yolo 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q detector && ok "unknown detector refused (exit 2)" || bad "unknown detector: rc $rc: $out"
out=$("$BIN" detect --detector haar models/samples/sample2.jpg 2>&1)
echo "$out" | python3 -c '
import json, sys
fs = json.loads(sys.stdin.read())["faces"]
sys.exit(not (fs and all(len(f["landmarks"]) == 5 and 0 <= f["face_p"] <= 1 for f in fs)))' \
    && ok "detect --detector haar: landmarks and face_p on every box" || bad "detect haar: $out"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
