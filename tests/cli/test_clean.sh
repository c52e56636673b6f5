#!/usr/bin/env bash
# facehatch clean on a small noisy copy of celeba200/train (tools/inject_noise.sh: 8
# identities, 12 % of images moved to a wrong folder, one non-face crop per folder, two
# files that are not images): precision and recall floors a little below what this seed
# measures (docs/TRAINING.md has the full-set numbers); the --json line format; that
# nothing moves without --move-to; --move-to moves exactly the flagged files and never
# overwrites; bad input. Needs /usr/bin/python3 with cv2 (python3-opencv), as
# inject_noise.sh does; fails (does not skip) without it. About 10 s on 2 cores.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
PY=${FH_CV2_PYTHON:-/usr/bin/python3}
export FH_DATA=${FH_DATA:-../shared/data}
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok   $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
floor() { # name value min
    if [ -n "$2" ] && awk -v a="$2" -v b="$3" 'BEGIN { exit !(a >= b) }'; then ok "$1 = $2 >= $3"
    else bad "$1 = '$2' < $3"; fi
}
num() { echo "$1" | sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p" | head -n 1; }
listing() { (cd "$1" && find . -type f | sort | xargs -d '\n' md5sum); }

if ! tools/inject_noise.sh make "$FH_DATA/celeba200/train" "$tmp/n" --ids 8 --seed 3 --unreadable 2 >"$tmp/made"; then
    bad "inject_noise.sh could not make the noisy set"; echo "$pass passed, $fail failed"; exit 1
fi
cat "$tmp/made"
D=$tmp/n/data
before=$(listing "$D")

# ---- accuracy and the JSON format ----
"$BIN" clean "$D" --json --threads 2 >"$tmp/out.jsonl" 2>"$tmp/err"; rc=$?
check "clean --json exits 0 (rc $rc)" '[ $rc = 0 ]'
check "without --move-to nothing moves" '[ "$(listing "$D")" = "$before" ]'
s=$(tools/inject_noise.sh score "$tmp/n" "$tmp/out.jsonl") || s=""
echo "$s"
floor "precision of the flags" "$(num "$s" precision)" 0.85
floor "recall of the flags" "$(num "$s" recall)" 0.93
floor "recall of wrong persons" "$(echo "$s" | sed -n 's/.*"wrong_person": {"n": [0-9]*, "recall": \([0-9.]*\).*/\1/p')" 0.90
floor "recall of non-face crops" "$(echo "$s" | sed -n 's/.*"no_face": {"n": [0-9]*, "recall": \([0-9.]*\).*/\1/p')" 1.0
"$PY" - "$tmp/out.jsonl" "$D" <<'EOF' >"$tmp/fmt" 2>&1; rc=$?
import json, os, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
flags = [o for o in objs if "file" in o]
summ = objs[-1]
assert set(summ) >= {"folders", "images", "flagged"}, summ
assert summ["folders"] == 8, summ
n = sum(len(fs) for _, _, fs in os.walk(sys.argv[2]))
assert summ["images"] == n, (summ, n)
assert summ["flagged"] == len(flags), (summ, len(flags))
reasons = {"wrong_person", "no_face", "several_faces", "unreadable", "junk"}
for o in flags:
    assert list(o)[:3] == ["file", "identity", "reason"], o
    assert o["reason"] in reasons, o
    assert os.path.isfile(o["file"]) and os.path.basename(os.path.dirname(o["file"])) == o["identity"], o
unread = sorted(os.path.basename(o["file"]) for o in flags if o["reason"] == "unreadable")
assert unread == ["broken_000.jpg", "broken_001.jpg"], unread
print("format ok:", len(flags), "flag lines, summary", summ)
EOF
check "--json: one line per flagged file, the summary last, unreadable files named ($(tail -n 1 "$tmp/fmt"))" '[ $rc = 0 ]'

# ---- --move-to: moves the flagged files, never overwrites ----
cp -a "$D" "$tmp/m"
first=$("$PY" -c 'import json,sys; o=[json.loads(l) for l in open(sys.argv[1])]; o=[x for x in o if "file" in x][0]; print(o["identity"] + "/" + o["file"].rsplit("/", 1)[1])' "$tmp/out.jsonl")
mkdir -p "$tmp/moved/${first%/*}"
echo "already here" >"$tmp/moved/$first"
"$BIN" clean "$tmp/m" --json --threads 2 --move-to "$tmp/moved" >"$tmp/mv.jsonl" 2>"$tmp/mv.err"; rc=$?
check "--move-to with a name taken in the target: exit 1 (rc $rc)" '[ $rc = 1 ]'
check "the taken name is reported" 'grep -q "already there" "$tmp/mv.err"'
check "the file there is not overwritten" '[ "$(cat "$tmp/moved/$first")" = "already here" ]'
check "the file not moved stays in place" '[ -f "$tmp/m/$first" ]'
nflag=$(grep -c '"file"' "$tmp/out.jsonl")
nmoved=$(find "$tmp/moved" -type f | wc -l)
check "every other flagged file moved ($nmoved = $nflag flagged, 1 of them pre-existing)" '[ "$nmoved" = "$nflag" ]'
left=$(find "$tmp/m" -type f | wc -l); all=$(find "$D" -type f | wc -l)
check "the kept files stay ($left = $all - $nflag + 1)" '[ "$left" = $((all - nflag + 1)) ]'
miss=0
while read -r f; do
    id=$(basename "$(dirname "$f")"); b=$(basename "$f")
    [ "$id/$b" = "$first" ] && continue
    { [ -f "$tmp/moved/$id/$b" ] && [ ! -e "$tmp/m/$id/$b" ] && cmp -s "$D/$id/$b" "$tmp/moved/$id/$b"; } || miss=$((miss+1))
done < <("$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if "file" in o: print(o["file"])' "$tmp/out.jsonl")
check "each flagged file is in MOVE/<identity>/, byte for byte ($miss wrong)" '[ $miss = 0 ]'

# ---- small folders, bad input ----
mkdir -p "$tmp/small/a" "$tmp/small/b"
ls "$D/celeb_0" | head -n 2 | while read -r f; do cp "$D/celeb_0/$f" "$tmp/small/a/"; done
ls "$D/celeb_1" | grep -v bg_ | head -n 6 | while read -r f; do cp "$D/celeb_1/$f" "$tmp/small/b/"; done
out=$("$BIN" clean "$tmp/small" --json --threads 2 2>&1); rc=$?
check "a folder of 2 images is reported, not judged (rc $rc)" '[ $rc = 0 ] && echo "$out" | grep -q "\"identity\":\"a\",\"judged\":false"'
check "nothing in it is flagged" '! echo "$out" | grep -q "\"identity\":\"a\",\"reason\""'
out=$("$BIN" clean "$tmp/small" --threads 2 2>&1); rc=$?
check "the readable table (rc $rc)" '[ $rc = 0 ] && echo "$out" | grep -q "2 folders, 8 images" && echo "$out" | grep -q "not judged"'
out=$("$BIN" clean "$tmp/nonexistent" 2>&1); rc=$?
check "missing folder: exit 1 and says so (rc $rc)" '[ $rc = 1 ] && echo "$out" | grep -q "nonexistent"'
mkdir "$tmp/empty"
out=$("$BIN" clean "$tmp/empty" 2>&1); rc=$?
check "empty folder: exit 1, no identity folders (rc $rc)" '[ $rc = 1 ] && echo "$out" | grep -q "no identity folders"'
out=$("$BIN" clean "$tmp/made" 2>&1); rc=$?
check "a file, not a folder: exit 1 (rc $rc)" '[ $rc = 1 ] && echo "$out" | grep -q "not a folder"'
"$BIN" clean >/dev/null 2>&1; rc=$?
check "no folder: usage, exit 2 (rc $rc)" '[ $rc = 2 ]'
"$BIN" clean "$D" --threshold 3 >/dev/null 2>&1; rc=$?
check "--threshold 3: usage, exit 2 (rc $rc)" '[ $rc = 2 ]'
"$BIN" clean "$D" --threshold abc >/dev/null 2>&1; rc=$?
check "--threshold abc: usage, exit 2 (rc $rc)" '[ $rc = 2 ]'
"$BIN" clean "$D" --move-to >/dev/null 2>&1; rc=$?
check "--move-to without a folder: usage, exit 2 (rc $rc)" '[ $rc = 2 ]'
check "after all that the noisy set is untouched" '[ "$(listing "$D")" = "$before" ]'
echo "$pass passed, $fail failed"
[ $fail = 0 ]
