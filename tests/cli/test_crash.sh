#!/usr/bin/env bash
# Crash safety: kill -9 `facehatch index` several times at random moments, re-run it to
# completion, then the database passes PRAGMA integrity_check and holds each photo and
# each face exactly once: the same rows as an index that was never interrupted.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 (Debian package sqlite3) is needed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p "$T/photos"
cp models/samples/*.jpg "$T/photos/"
# 450 LFW photos (persons form along the way): enough that five kills within 1.1 s each land
# while photos are still being indexed (one thread indexes ~80 LFW photos a second here; with
# 150 photos, kills after the first found nothing left to do)
find "$DATA/lfw/lfw-deepfunneled" -name '*.jpg' | sort | awk 'NR % 20 == 1' | head -n 450 | xargs -I{} cp {} "$T/photos/"
n=$(ls "$T/photos" | wc -l)
# the reference: one uninterrupted run
"$BIN" index "$T/photos" --db "$T/ref.db" --threads 1 >/dev/null 2>&1 || bad "reference index failed"
q() { sqlite3 "$1" "$2"; }
ref_faces=$(q "$T/ref.db" "SELECT count(*) FROM faces")
kills=0
seed=${FH_SEED:-$$}
RANDOM=$seed
for round in 1 2 3 4 5; do
    "$BIN" index "$T/photos" --db "$T/lib.db" --threads 1 >/dev/null 2>&1 &
    pid=$!
    ms=$((100 + RANDOM % 1000))
    sleep "$(printf '0.%03d' $((ms % 1000)))"; [ $ms -ge 1000 ] && sleep 1
    if kill -9 "$pid" 2>/dev/null; then kills=$((kills+1)); fi
    wait "$pid" 2>/dev/null
    done_now=$(q "$T/lib.db" "SELECT count(*) FROM photos" 2>/dev/null || echo "?")
    echo "     round $round: killed after ${ms} ms, $done_now of $n photos committed"
done
[ $kills -ge 3 ] && ok "index killed with SIGKILL $kills times (seed $seed)" || bad "only $kills kills landed"
"$BIN" index "$T/photos" --db "$T/lib.db" --threads 1 >/dev/null 2>&1 && ok "re-run completes" || bad "re-run failed"
[ "$(q "$T/lib.db" 'PRAGMA integrity_check')" = ok ] && ok "PRAGMA integrity_check: ok" || bad "integrity_check: $(q "$T/lib.db" 'PRAGMA integrity_check' | head -3)"
[ "$(q "$T/lib.db" 'PRAGMA foreign_key_check' | wc -l)" = 0 ] && ok "no dangling references" || bad "foreign_key_check"
photos=$(q "$T/lib.db" "SELECT count(*) FROM photos")
[ "$photos" = "$n" ] && ok "each of the $n photos stored once" || bad "$photos photo rows for $n files"
dups=$(q "$T/lib.db" "SELECT count(*) FROM (SELECT photo_id, x1, y1, x2, y2 FROM faces GROUP BY 1,2,3,4,5 HAVING count(*) > 1)")
[ "$dups" = 0 ] && ok "no face stored twice" || bad "$dups faces stored more than once"
faces=$(q "$T/lib.db" "SELECT count(*) FROM faces")
[ "$faces" = "$ref_faces" ] && ok "$faces faces, as many as the uninterrupted run" || bad "$faces faces vs $ref_faces uninterrupted"
a=$(q "$T/lib.db" "SELECT p.path, f.x1, f.y1, f.x2, f.y2 FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY 1,2,3" | md5sum)
b=$(q "$T/ref.db" "SELECT p.path, f.x1, f.y1, f.x2, f.y2 FROM faces f JOIN photos p ON p.id = f.photo_id ORDER BY 1,2,3" | md5sum)
[ "$a" = "$b" ] && ok "the same faces (photo, box) as the uninterrupted run" || bad "face rows differ from the uninterrupted run"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
