#!/usr/bin/env bash
# Bad input through the real CLI: each case must print a clear message naming the
# problem on stderr and exit 1 (usage errors: 2), never crash. Run from the repo root.
# FACEHATCH_BIN picks the binary (CI also runs this on the ASan/UBSan build).
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
check() { # name expected_rc grep_pattern -- command...
    local name=$1 want=$2 pat=$3; shift 4
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" = "$want" ] && grep -qiE "$pat" "$T/err"; then
        pass=$((pass+1)); echo "ok   $name (exit $rc: $(head -c 160 "$T/err" | tr '\n' ' '))"
    else
        fail=$((fail+1)); echo "FAIL $name: exit $rc (want $want), stderr: $(head -c 300 "$T/err")"
    fi
}
S=models/samples/sample1.jpg
: >"$T/empty.jpg"
head -c 100000 "$S" >"$T/truncated.jpg"
cp "$S" "$T/corrupt.jpg"
# fixed garbage over the middle of the entropy-coded data (the file is 144,516 bytes)
yes 'garbage!' | head -c 4000 | dd of="$T/corrupt.jpg" bs=1 seek=70000 conv=notrunc status=none
echo "this is not a photo" >"$T/text.jpg"
python3 - "$T" <<'PY'
import struct, sys, zlib
d = sys.argv[1]
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
def png(w, h, rows):
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
           chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
good = png(64, 48, b"".join(b"\x00" + bytes([x % 256, 80, 160]) * 64 for x in range(48)))
open(d + "/good.png", "wb").write(good)
open(d + "/truncated.png", "wb").write(good[:len(good) // 2])
open(d + "/huge.png", "wb").write(png(100000, 100000, b"\x00" * 300))
PY
check "missing file"            1 "no such file|nonexistent" -- "$BIN" detect "$T/nonexistent.jpg"
check "empty file"              1 "empty.jpg"                -- "$BIN" detect "$T/empty.jpg"
check "truncated JPEG"          1 "truncated.jpg"            -- "$BIN" detect "$T/truncated.jpg"
check "corrupt JPEG"            1 "corrupt.jpg"              -- "$BIN" detect "$T/corrupt.jpg"
check "truncated PNG"           1 "truncated.png"            -- "$BIN" detect "$T/truncated.png"
check "PNG claiming 100000^2"   1 "huge.png.*(limit|large|100000)" -- "$BIN" detect "$T/huge.png"
check "text file named .jpg"    1 "text.jpg"                 -- "$BIN" embed "$T/text.jpg"
check "verify, one side bad"    1 "text.jpg"                 -- "$BIN" verify "$S" "$T/text.jpg"
# a good PNG between bad files still gets its line, and the run still fails
"$BIN" detect "$T/text.jpg" "$T/good.png" "$T/empty.jpg" >"$T/out" 2>/dev/null; rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$T/out")" = 1 ] && grep -q '"width":64,"height":48' "$T/out"; then
    pass=$((pass+1)); echo "ok   good image among bad ones is still processed (exit 1)"
else fail=$((fail+1)); echo "FAIL good image among bad ones: exit $rc, $(cat "$T/out")"; fi
# models: tampered and missing
mkdir -p "$T/models"; cp models/*.tflite "$T/models/"
printf '\x42' | dd of="$T/models/MobileFaceNet.tflite" bs=1 seek=300000 count=1 conv=notrunc status=none
check "tampered model file"     1 "MobileFaceNet.tflite.*sha256" -- "$BIN" detect --models "$T/models" "$S"
rm "$T/models/rnet.tflite"
check "missing model file"      1 "rnet.tflite.*make models"   -- "$BIN" detect --models "$T/models" "$S"
# usage errors exit 2
check "no command"              2 "usage"                    -- "$BIN"
check "unknown command"         2 "unknown command"          -- "$BIN" frobnicate
check "unknown option"          2 "unknown option"           -- "$BIN" detect --bogus "$S"
check "bad --min-face"          2 "min-face"                 -- "$BIN" detect --min-face abc "$S"
check "verify needs two images" 2 "two images"               -- "$BIN" verify "$S"
check "detect needs an image"   2 "no image"                 -- "$BIN" detect
echo "$pass passed, $fail failed"
[ $fail = 0 ]
