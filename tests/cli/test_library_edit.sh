#!/usr/bin/env bash
# The library's editing commands on real faces (LFW, two people): person new / delete,
# photo delete, hide, merge, and undo for each: after `undo` the persons listing equals the
# one before the action, byte for byte. Also: --user for an unknown user is exit 1.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
LFW=$DATA/lfw/lfw-deepfunneled
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
DB=$T/lib.db
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
for id in Venus_Williams Gray_Davis; do mkdir -p "$T/photos/$id"; cp "$LFW/$id"/*.jpg "$T/photos/$id/"; done
"$BIN" index "$T/photos" --db "$DB" >/dev/null 2>&1 || { echo "FAIL index"; exit 1; }
snap() { "$BIN" persons --db "$DB" --json; }
J=$(snap)
py() { echo "$J" | python3 -c "import json,sys; ps=json.load(sys.stdin); $1"; }
P1=$(py 'print(sorted([p for p in ps if p["id"]], key=lambda p: -len(p["faces"]))[0]["id"])')
P2=$(py 'print(sorted([p for p in ps if p["id"]], key=lambda p: -len(p["faces"]))[1]["id"])')
U=$(py 'print(" ".join(str(f["id"]) for f in [p for p in ps if p["id"] is None][0]["faces"][:2]))')
PH=$(py 'print([p for p in ps if p["id"] == '"$P1"'][0]["faces"][0]["photo"])')
[ -n "$P1" ] && [ -n "$P2" ] && [ -n "$U" ] && ok "persons $P1, $P2; unknown faces $U" || { bad "setup"; exit 1; }
# the photo id: via sqlite3 if present, else skip the photo case
PHID=$(command -v sqlite3 >/dev/null && sqlite3 "$DB" "SELECT id FROM photos WHERE path = '$PH'")

check_undo() { # $1 = what, $2 = expected words in the summary
    local before=$J after out
    out=$("$BIN" undo --db "$DB" 2>&1) && echo "$out" | grep -q "$2" && ok "$1: undo says $out" || bad "$1: undo: $out"
    after=$(snap)
    [ "$before" = "$after" ] && ok "$1: undo restores the listing byte for byte" || bad "$1: listing differs after undo"
}
"$BIN" rename "$P1" Venus --db "$DB" >/dev/null && J=$(snap) && ok "named $P1 Venus"
# shellcheck disable=SC2086
out=$("$BIN" person new Dora $U --db "$DB") && NEW=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') \
    && snap | grep -q '"name":"Dora"' && ok "person new Dora from faces $U: id $NEW" || bad "person new: $out"
check_undo "person new" "New person 'Dora'"
"$BIN" person delete Venus --db "$DB" >/dev/null && ! snap | grep -q '"name":"Venus"' && ok "person delete Venus" || bad "person delete"
"$BIN" recluster --db "$DB" >/dev/null
! snap | python3 -c 'import json,sys; ps=json.load(sys.stdin); sys.exit(0 if any(p["id"] == '"$P1"' for p in ps) else 1)' \
    && ok "recluster does not rebuild the deleted person's id" || bad "deleted person $P1 came back"
"$BIN" undo --db "$DB" >/dev/null 2>&1   # takes back the delete (recluster is no user action)
snap | grep -q '"name":"Venus"' && ok "undo brings Venus back" || bad "undo of delete after recluster"
J=$(snap)
"$BIN" hide Venus --db "$DB" >/dev/null && snap | grep -q '"hidden":true' && ok "hide" || bad "hide"
check_undo "hide" "Hid 'Venus'"
"$BIN" merge "$P1" "$P2" --db "$DB" >/dev/null && ok "merge $P2 into $P1" || bad "merge"
check_undo "merge" "into 'Venus'"
if [ -n "$PHID" ]; then
    "$BIN" photo delete "$PHID" --db "$DB" >/dev/null && ! snap | grep -q "$PH" && ok "photo delete $PHID" || bad "photo delete"
    [ -f "$PH" ] && ok "the photo's file is kept" || bad "the file is gone"
    check_undo "photo delete" "Deleted the photo"
fi
out=$("$BIN" undo --db "$DB" 2>&1); rc=$?   # the rename, then nothing
out=$("$BIN" undo --db "$DB" 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "nothing to undo" && ok "nothing to undo: exit 1" || bad "empty undo: rc $rc $out"
"$BIN" undo --db "$DB" --user nobody >/dev/null 2>&1; [ $? = 1 ] && ok "--user nobody: exit 1" || bad "--user nobody"
# face recognition off / on for one user
nf=$(snap | python3 -c 'import json,sys; print(sum(len(p["faces"]) for p in json.load(sys.stdin)))')
np=$(snap | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p["id"]))')
out=$("$BIN" recognition off --db "$DB") && [ "$(snap | python3 -c 'import json,sys; print(sum(len(p["faces"]) for p in json.load(sys.stdin)))')" = 0 ] \
    && [ "$(snap | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p["id"]))')" = 0 ] \
    && ok "recognition off: no faces, no persons left ($out)" || bad "recognition off: $out"
if command -v sqlite3 >/dev/null; then
    c=$(sqlite3 "$DB" "SELECT (SELECT COUNT(*) FROM faces) + (SELECT COUNT(*) FROM op_faces) + (SELECT COUNT(*) FROM persons)")
    p=$(sqlite3 "$DB" "SELECT COUNT(*) FROM photos")
    [ "$c" = 0 ] && [ "$p" -gt 0 ] && ok "SQL: no face, embedding or person rows; $p photos kept" || bad "SQL after off: $c face rows, $p photos"
fi
"$BIN" undo --db "$DB" >/dev/null 2>&1; [ $? = 1 ] && ok "nothing to undo after recognition off" || bad "undo after off"
out=$("$BIN" index "$T/photos" --db "$DB" 2>&1); rc=$?
nf_off=$(snap | python3 -c 'import json,sys; print(sum(len(p["faces"]) for p in json.load(sys.stdin)))')
[ $rc = 1 ] && echo "$out" | grep -q "recognition is off" && [ "$nf_off" = 0 ] \
    && ok "index while off is refused (exit 1, says why) and adds no faces" || bad "index while off: rc $rc, $nf_off faces: $out"
out=$("$BIN" recognition on --db "$DB")
nf2=$(snap | python3 -c 'import json,sys; print(sum(len(p["faces"]) for p in json.load(sys.stdin)))')
np2=$(snap | python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin) if p["id"]))')
[ "$nf2" = "$nf" ] && [ "$np2" -ge 2 ] && ok "recognition on: $nf2 faces, $np2 persons again ($out)" || bad "recognition on: $nf2/$nf faces, $np2 persons: $out"
if command -v sqlite3 >/dev/null; then
    [ "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok ] && ok "integrity_check ok" || bad "integrity_check"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
