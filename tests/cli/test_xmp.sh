#!/usr/bin/env bash
# XMP face regions (issue 12): `export-xmp` writes MWG regions that ExifTool reads back with
# exactly our names and boxes (within 1 px after de-normalising, also for a photo stored turned
# with EXIF Orientation 6); re-export changes nothing; regions of other programs are kept;
# --in-file rewrites the photo with its pixels untouched and a byte-exact .bak; `index
# --import-xmp` makes ExifTool-tagged photos' names and our own sidecars user decisions in a
# fresh library; broken and hostile sidecars are refused cleanly. Needs exiftool
# (libimage-exiftool-perl) and /usr/bin/python3 with cv2; fails (does not skip) without them.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
PY=/usr/bin/python3
T=$(mktemp -d); trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }
command -v exiftool >/dev/null || { bad "exiftool missing (apt-get install libimage-exiftool-perl)"; finish; }
$PY -c 'import cv2' 2>/dev/null || { bad "/usr/bin/python3 without cv2 (apt-get install python3-opencv)"; finish; }
LFW=$DATA/lfw/lfw-deepfunneled KNN=$DATA/face_recognition_knn/test
P=$T/photos; mkdir -p "$P"
cp "$LFW"/Tony_Blair/Tony_Blair_000{1,2,3,4}.jpg "$LFW"/Colin_Powell/Colin_Powell_000{1,2,3}.jpg \
   "$KNN"/kit_with_rose.jpg "$KNN"/obama_and_biden.jpg "$P"/ || { bad "test photos missing under $DATA"; finish; }
# the same photo stored turned: pixels rotated 90 degrees ccw, EXIF Orientation 6 (shown turned back)
$PY -c 'import cv2, sys; im = cv2.imread(sys.argv[1]); cv2.imwrite(sys.argv[2], cv2.rotate(im, cv2.ROTATE_90_COUNTERCLOCKWISE), [cv2.IMWRITE_JPEG_QUALITY, 100])' \
    "$KNN"/kit_with_rose.jpg "$P"/turned.jpg
exiftool -q -overwrite_original -n -IFD0:Orientation=6 "$P"/turned.jpg
chmod u+w "$P"/*
mkdir -p "$T/orig"; cp -p "$P"/*.jpg "$T/orig/"

DB=$T/a.db
"$BIN" index "$P" --db "$DB" >/dev/null 2>&1 && ok "index 10 photos" || bad "index"
J=$("$BIN" persons --db "$DB" --json)
# q: queries on the persons JSON; `q person Tony_Blair` = the person holding most faces of
# those photos, `q face kit_with_rose.jpg 0` = the face of that photo with the smallest x1
cat >"$T/q.py" <<'EOF'
import json, os, sys, collections
ps = json.load(sys.stdin); what = sys.argv[1]
if what == "person":
    c = collections.Counter(p["id"] for p in ps if p["id"] for f in p["faces"] if sys.argv[2] in f["photo"])
    print(c.most_common(1)[0][0] if c else "")
elif what == "face":
    fs = sorted((f["box"][0], f["id"]) for p in ps for f in p["faces"] if os.path.basename(f["photo"]) == sys.argv[2])
    print(fs[int(sys.argv[3])][1])
EOF
q() { echo "$J" | python3 "$T/q.py" "$@"; }
PT=$(q person Tony_Blair) PC=$(q person Colin_Powell)
"$BIN" rename "$PT" "Tony Blair" --db "$DB" >/dev/null && "$BIN" rename "$PC" "Colin Powell" --db "$DB" >/dev/null &&
"$BIN" person new "Zoë Left" "$(q face kit_with_rose.jpg 0)" --db "$DB" >/dev/null &&
"$BIN" person new "Rosé Right" "$(q face kit_with_rose.jpg 1)" --db "$DB" >/dev/null && ok "named 4 persons" || bad "naming"
J=$("$BIN" persons --db "$DB" --json)
PZ=$(q person kit_with_rose.jpg) # any of the two; look them up by name instead
PZ=$(echo "$J" | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin) if p["name"] == "Zoë Left"][0])')
PR=$(echo "$J" | python3 -c 'import json,sys; print([p["id"] for p in json.load(sys.stdin) if p["name"] == "Rosé Right"][0])')
# in the turned photo the left face (upright) is Zoe's too
"$BIN" face move "$(q face turned.jpg 0)" "$PZ" --db "$DB" >/dev/null && "$BIN" face move "$(q face turned.jpg 1)" "$PR" --db "$DB" >/dev/null &&
    ok "the turned photo's faces named too" || bad "face move in turned.jpg"

# ---- export to sidecars; ExifTool reads exactly our names and boxes ---------------------------
out=$("$BIN" export-xmp --db "$DB" 2>"$T/err") && ok "export-xmp: $out" || bad "export-xmp: $out $(cat "$T/err")"
[ ! -e "$P/obama_and_biden.jpg.xmp" ] && ok "no sidecar for a photo without named faces" || bad "obama_and_biden.jpg.xmp written"
# compare: every named face of the library against ExifTool's reading of the sidecars
compare() { # $1: "sidecar" or "in-file"; prints "regions N maxerr E" and exits 1 on a mismatch
    local src; if [ "$1" = sidecar ]; then src=("$P"/*.xmp); else src=("$P"/*.jpg); fi
    "$BIN" persons --db "$DB" --json >"$T/persons.json"
    exiftool -j -struct -RegionInfo "${src[@]}" >"$T/regions.json" 2>/dev/null
    exiftool -j -n -Orientation -ImageWidth -ImageHeight "$P"/*.jpg >"$T/dims.json" 2>/dev/null
    $PY - "$T" "$1" <<'EOF'
import json, os, sys
T, mode = sys.argv[1], sys.argv[2]
ps = json.load(open(T + "/persons.json"))
want = {}  # photo -> [(name, box)]
for p in ps:
    if p["name"] and not p["hidden"]:
        for f in p["faces"]:
            want.setdefault(os.path.basename(f["photo"]), []).append((p["name"], f["box"]))
dims = {os.path.basename(d["SourceFile"]): d for d in json.load(open(T + "/dims.json"))}
got = {}
for r in json.load(open(T + "/regions.json")):
    base = os.path.basename(r["SourceFile"])
    photo = base[:-4] if mode == "sidecar" else base
    if "RegionInfo" in r: got[photo] = r["RegionInfo"]
bad, n, maxerr = [], 0, 0.0
for photo in sorted(set(want) | set(got)):
    w = sorted(want.get(photo, [])); info = got.get(photo)
    if not info: bad.append("%s: no regions read" % photo); continue
    d = dims[photo]; sw, sh, o = d["ImageWidth"], d["ImageHeight"], d.get("Orientation", 1)
    ad = info["AppliedToDimensions"]
    if (ad["W"], ad["H"], ad["Unit"]) != (sw, sh, "pixel"):
        bad.append("%s: AppliedToDimensions %s, stored size %dx%d" % (photo, ad, sw, sh))
    regs = []
    for g in info["RegionList"]:
        a = g["Area"]
        u0, u1 = (a["X"] - a["W"] / 2) * sw, (a["X"] + a["W"] / 2) * sw
        v0, v1 = (a["Y"] - a["H"] / 2) * sh, (a["Y"] + a["H"] / 2) * sh
        if o == 6:    # shown turned 90 degrees clockwise: stored (u, v) is shown at (sh - v, u)
            box = [sh - v1, u0, sh - v0, u1]
        else:
            assert o == 1, o
            box = [u0, v0, u1, v1]
        regs.append((g["Name"], box, g["Type"], a["Unit"]))
    names_w = sorted(x[0] for x in w); names_g = sorted(x[0] for x in regs)
    if names_w != names_g: bad.append("%s: names %s, ExifTool read %s" % (photo, names_w, names_g)); continue
    for name, box in w:
        # our box is inclusive pixels: [x1, x2 + 1) x [y1, y2 + 1)
        ref = [box[0], box[1], box[2] + 1, box[3] + 1]
        errs = [min(max(abs(c - r) for c, r in zip(g[1], ref)), 1e9) for g in regs if g[0] == name]
        e = min(errs); maxerr = max(maxerr, e); n += 1
        if e > 1: bad.append("%s: %s box off by %.2f px" % (photo, name, e))
    for g in regs:
        if g[2] != "Face" or g[3] != "normalized": bad.append("%s: type/unit %s %s" % (photo, g[2], g[3]))
print("regions %d maxerr %.4f" % (n, maxerr))
for b in bad: print("  " + b)
sys.exit(1 if bad else 0)
EOF
}
res=$(compare sidecar) && ok "ExifTool reads back every name and box from the sidecars: $res px" || bad "sidecars: $res"
echo "$res" | head -1 >"$T/sidecar_result"
# the turned photo: its region, cut from the stored pixels and turned, is the face cut from the
# upright original (an independent check of the orientation maths)
$PY - "$P" <<'EOF' && ok "turned photo: the stored-frame region shows the same face as the upright photo's" || bad "turned photo crop differs"
import cv2, json, subprocess, sys, numpy as np
P = sys.argv[1]
def region(f, name):
    r = json.loads(subprocess.check_output(["exiftool", "-j", "-struct", "-RegionInfo", f]))[0]["RegionInfo"]
    return [g["Area"] for g in r["RegionList"] if g["Name"] == name][0]
def crop(im, a):
    h, w = im.shape[:2]
    return im[int((a["Y"] - a["H"] / 2) * h):int((a["Y"] + a["H"] / 2) * h), int((a["X"] - a["W"] / 2) * w):int((a["X"] + a["W"] / 2) * w)]
up = cv2.imread(P + "/kit_with_rose.jpg", cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
st = cv2.imread(P + "/turned.jpg", cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
# each face against: itself from the turned photo (turned back), the other face, and itself turned
# the wrong way; the right one must be far closer than both wrong ones
names, ok = ("Zoë Left", "Rosé Right"), True
def up_crop(n): return cv2.resize(crop(up, region(P + "/kit_with_rose.jpg.xmp", n)), (48, 48)).astype(float)
def st_crop(n, turn): return cv2.resize(cv2.rotate(crop(st, region(P + "/turned.jpg.xmp", n)), turn), (48, 48)).astype(float)
for i, n in enumerate(names):
    same = np.abs(up_crop(n) - st_crop(n, cv2.ROTATE_90_CLOCKWISE)).mean()
    other = np.abs(up_crop(n) - st_crop(names[1 - i], cv2.ROTATE_90_CLOCKWISE)).mean()
    wrong = np.abs(up_crop(n) - st_crop(n, cv2.ROTATE_90_COUNTERCLOCKWISE)).mean()
    print("%s: mean abs difference %.1f (other face %.1f, turned the wrong way %.1f)" % (n, same, other, wrong))
    ok = ok and same < 0.6 * min(other, wrong)
sys.exit(0 if ok else 1)
EOF
md5sum "$P"/*.xmp >"$T/md5"
out=$("$BIN" export-xmp --db "$DB" 2>&1)
echo "$out" | grep -q '"written":0,' && md5sum -c --quiet "$T/md5" && ok "export twice: nothing rewritten, sidecars byte for byte the same" || bad "re-export: $out"

# regions of other programs stay; ours follow a rename
S=$P/Tony_Blair_0001.jpg.xmp
exiftool -q -overwrite_original '-XMP-mwg-rs:RegionList+={Area={X=0.1,Y=0.1,W=0.08,H=0.08,Unit=normalized},Name=Rex,Type=Pet}' \
    '-XMP-mwg-rs:RegionList+={Area={X=0.9,Y=0.9,W=0.08,H=0.08,Unit=normalized},Name=Stranger,Type=Face}' "$S"
"$BIN" rename "$PT" "Tony" --db "$DB" >/dev/null
"$BIN" export-xmp --db "$DB" >/dev/null 2>&1
names=$(exiftool -s3 -sep '|' -XMP-mwg-rs:RegionName "$S")
[ "$names" = "Rex|Stranger|Tony" ] && ok "another program's regions kept, ours renamed: $names" || bad "after rename: $names"
"$BIN" rename "$PT" "Tony Blair" --db "$DB" >/dev/null

# ---- into the photos themselves ---------------------------------------------------------------
out=$("$BIN" export-xmp --db "$DB" --in-file 2>"$T/err") && ok "export-xmp --in-file: $out" || bad "--in-file: $out $(cat "$T/err")"
res=$(compare in-file) && ok "ExifTool reads back every name and box from inside the photos: $res px" || bad "in-file: $res"
allbak=1; for f in "$T"/orig/*.jpg; do b=$(basename "$f"); [ "$b" = obama_and_biden.jpg ] && continue
    cmp -s "$f" "$P/$b.bak" || allbak=0; done
[ "$allbak" = 1 ] && [ ! -e "$P/obama_and_biden.jpg.bak" ] && ok "each rewritten photo has a .bak equal to the original" || bad "backups"
$PY - "$T/orig" "$P" <<'EOF' && ok "pixels unchanged in every rewritten photo" || bad "pixels changed"
import cv2, glob, os, sys, numpy as np
for f in glob.glob(sys.argv[1] + "/*.jpg"):
    a = cv2.imread(f, cv2.IMREAD_UNCHANGED); b = cv2.imread(sys.argv[2] + "/" + os.path.basename(f), cv2.IMREAD_UNCHANGED)
    if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b): sys.exit(1)
EOF
[ "$(exiftool -s3 -n -Orientation "$P/turned.jpg")" = 6 ] && ok "EXIF kept (Orientation 6)" || bad "EXIF orientation lost"
md5sum "$P"/*.jpg "$P"/*.bak >"$T/md5"
out=$("$BIN" export-xmp --db "$DB" --in-file 2>&1)
echo "$out" | grep -q '"written":0,' && md5sum -c --quiet "$T/md5" && ok "--in-file twice: no photo touched" || bad "--in-file again: $out"
chmod a-w "$P/Colin_Powell_0001.jpg"
"$BIN" rename "$PC" "Colin" --db "$DB" >/dev/null
out=$("$BIN" export-xmp --db "$DB" --in-file 2>"$T/err"); rc=$?
[ $rc = 1 ] && grep -q "Colin_Powell_0001.jpg: the photo is read-only" "$T/err" && md5sum -c --quiet <(grep Colin_Powell_0001.jpg "$T/md5") &&
    [ "$(exiftool -s3 -XMP-mwg-rs:RegionName "$P/Colin_Powell_0002.jpg")" = Colin ] &&
    ok "a read-only photo is left alone and reported (exit 1), the others written" || bad "read-only: rc $rc $out $(cat "$T/err")"
"$BIN" export-xmp --db "$DB" --in-file --sidecar >/dev/null 2>&1; [ $? = 2 ] && ok "--in-file with --sidecar: usage error" || bad "both flags accepted"

# ---- import into a fresh library ----------------------------------------------------------------
Q=$T/import; mkdir -p "$Q"
cp "$LFW"/Tony_Blair/Tony_Blair_0005.jpg "$Q/tagged.jpg"; cp "$LFW"/Tony_Blair/Tony_Blair_0006.jpg "$Q/lr.jpg"
cp "$T/orig/kit_with_rose.jpg" "$T/orig/turned.jpg" "$Q/"; cp "$P/kit_with_rose.jpg.xmp" "$P/turned.jpg.xmp" "$Q/"
chmod u+w "$Q"/*
# ExifTool writes a region into the photo itself (a rough box around the face, as a person draws
# it) and one where there is no face
exiftool -q -overwrite_original '-RegionInfo={AppliedToDimensions={W=250,H=250,Unit=pixel},RegionList=[{Area={X=0.5,Y=0.47,W=0.36,H=0.5,Unit=normalized},Name=Anna,Type=Face},{Area={X=0.08,Y=0.9,W=0.1,H=0.1,Unit=normalized},Name=Ghost,Type=Face}]}' "$Q/tagged.jpg"
# and a Lightroom-style sidecar lr.xmp (photo.xmp, not photo.jpg.xmp)
exiftool -q '-RegionInfo={AppliedToDimensions={W=250,H=250,Unit=pixel},RegionList=[{Area={X=0.5,Y=0.47,W=0.4,H=0.5,Unit=normalized},Name=Lars,Type=Face}]}' -o "$Q/lr.xmp" "$Q/lr.jpg"
DB2=$T/b.db
out=$("$BIN" index "$Q" --db "$DB2" --import-xmp 2>"$T/err") || bad "index --import-xmp: $(cat "$T/err")"
imp=$(echo "$out" | grep xmp_import)
echo "$imp" | grep -q '"assigned":6,' && echo "$imp" | grep -q '"unmatched":1,' && echo "$imp" | grep -q '"persons_new":4}' &&
    ok "import: 6 faces named, 4 new persons, the region without face reported: $imp" || bad "import: $imp"
grep -q "no detected face where 'Ghost'" "$T/err" && ok "the region without a face is reported, no face invented" || bad "Ghost not reported: $(cat "$T/err")"
sqlite3 "$DB2" "select p.name || ':' || f.assigned from faces f join persons p on p.id = f.person_id join photos ph on ph.id = f.photo_id where ph.path like '%tagged.jpg'" >"$T/anna"
[ "$(cat "$T/anna")" = "Anna:1" ] && ok "the ExifTool-tagged face is under 'Anna' as a user decision" || bad "tagged face: $(cat "$T/anna")"
[ "$(sqlite3 "$DB2" "select p.name from faces f join persons p on p.id = f.person_id join photos ph on ph.id = f.photo_id where ph.path like '%lr.jpg'")" = Lars ] &&
    ok "a Lightroom-style photo.xmp sidecar is read" || bad "lr.xmp not imported"
# our own sidecars round-trip: the same names on the same (upright) boxes as in library A
"$BIN" persons --db "$DB" --json >"$T/a.json"; "$BIN" persons --db "$DB2" --json >"$T/b.json"
python3 - "$T" <<'EOF' && ok "our sidecars (incl. the turned photo) name the same faces in the new library" || bad "round trip names differ"
import json, os, sys
def named(f):
    return sorted((os.path.basename(x["photo"]), p["name"], tuple(x["box"])) for p in json.load(open(f)) if p["name"]
                  for x in p["faces"] if os.path.basename(x["photo"]) in ("kit_with_rose.jpg", "turned.jpg"))
a, b = named(sys.argv[1] + "/a.json"), named(sys.argv[1] + "/b.json")
print(b)
sys.exit(0 if a == b and len(a) == 4 else 1)
EOF
"$BIN" recluster --db "$DB2" >/dev/null 2>&1
[ "$(sqlite3 "$DB2" "select count(*) from faces f join persons p on p.id = f.person_id where p.name in ('Anna','Lars','Zoë Left','Rosé Right')")" = 6 ] &&
    ok "recluster keeps the imported names (user decisions win)" || bad "recluster moved imported faces"
out=$("$BIN" index "$Q" --db "$DB2" --import-xmp 2>/dev/null | grep xmp_import)
echo "$out" | grep -q '"assigned":0,' && ok "re-import changes nothing: $out" || bad "re-import: $out"

# ---- broken and hostile sidecars ------------------------------------------------------------------
M=$T/hostile; mkdir -p "$M"
for n in garbage nan many bomb; do cp "$LFW"/Colin_Powell/Colin_Powell_0004.jpg "$M/$n.jpg"; done
printf 'not <xml at all' >"$M/garbage.jpg.xmp"
HDR="<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description rdf:about='' xmlns:mwg-rs='http://www.metadataworkinggroup.com/schemas/regions/' xmlns:stArea='http://ns.adobe.com/xmp/sType/Area#'><mwg-rs:Regions rdf:parseType='Resource'><mwg-rs:RegionList><rdf:Bag>"
FTR="</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>"
li() { echo "<rdf:li rdf:parseType='Resource'><mwg-rs:Area rdf:parseType='Resource'><stArea:x>$1</stArea:x><stArea:y>$2</stArea:y><stArea:w>$3</stArea:w><stArea:h>$4</stArea:h><stArea:unit>normalized</stArea:unit></mwg-rs:Area><mwg-rs:Type>Face</mwg-rs:Type><mwg-rs:Name>$5</mwg-rs:Name></rdf:li>"; }
big=$(head -c 100000 /dev/zero | tr '\0' 'x')
{ echo "$HDR"; li NaN 0.5 0.4 0.5 Nan; li 0.5 0.5 1e300 0.5 Huge; li -3 0.5 0.4 0.5 Left; li 0.5 0.47 0.4 0.5 "$big"; echo "$FTR"; } >"$M/nan.jpg.xmp"
{ echo "$HDR"; for i in $(seq 1001); do li 0.5 0.5 0.1 0.1 "P$i"; done; echo "$FTR"; } >"$M/many.jpg.xmp"
printf '%s' "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'><!ENTITY e '&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'><!ENTITY f '&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;'>]><x:xmpmeta xmlns:x='adobe:ns:meta/'>&f;</x:xmpmeta>" >"$M/bomb.jpg.xmp"
chmod u+w "$M"/*
out=$("$BIN" index "$M" --db "$T/c.db" --import-xmp 2>"$T/err"); rc=$?
imp=$(echo "$out" | grep xmp_import)
[ $rc = 0 ] && echo "$imp" | grep -q '"failed":3,' && echo "$imp" | grep -q '"skipped":4,' && echo "$imp" | grep -q '"assigned":0,' &&
    grep -q "garbage.jpg.xmp: not valid XMP" "$T/err" && grep -q "many.jpg.xmp: more than 1000 regions" "$T/err" &&
    ok "broken, hostile and oversized sidecars refused cleanly (exit 0, reported, nothing named): $imp" ||
    bad "hostile sidecars: rc $rc $imp $(cat "$T/err")"
[ "$(sqlite3 "$T/c.db" "select count(*) from persons where name is not null")" = 0 ] && ok "no person made from them" || bad "a person from a hostile sidecar"

echo "measured: $(cat "$T/sidecar_result") (sidecars), $res (in the photos)"
finish
