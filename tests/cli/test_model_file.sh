#!/usr/bin/env bash
# Our model file through the CLI: `model convert` the pinned MobileFaceNet.tflite to .fhm,
# then `embed` and `verify` with --embedder out.fhm must print exactly what the TFLite
# file gives; damaged .fhm files give a clear error and exit 1, never a crash.
# Run from the repo root; FACEHATCH_BIN picks the binary.
set -u
BIN=${FACEHATCH_BIN:-build/facehatch}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
MFN=models/MobileFaceNet.tflite
L=../shared/data/lfw/lfw-deepfunneled
if [ ! -f "$MFN" ] || [ ! -d "$L" ]; then echo "FAIL needs models/ (make models) and ../shared/data/lfw"; exit 1; fi
A=$L/Aaron_Peirsol/Aaron_Peirsol_0001.jpg B=$L/Aaron_Peirsol/Aaron_Peirsol_0002.jpg C=$L/AJ_Cook/AJ_Cook_0001.jpg

"$BIN" model convert "$MFN" "$T/mfn.fhm" >"$T/conv" 2>"$T/err" && [ -s "$T/mfn.fhm" ] \
    && ok "convert: $(cat "$T/conv")" || bad "convert: $(cat "$T/err")"
ls "$T" | grep -q tmp && bad "convert left a temporary file" || ok "no temporary file left behind"
"$BIN" model info "$T/mfn.fhm" >"$T/info" 2>"$T/err"
grep -q '"input_mean":"127.5"' "$T/info" && grep -q '"input_scale":"0.0078125"' "$T/info" \
    && grep -q '"embedding_size":"192"' "$T/info" && grep -q '"CONV_2D":35' "$T/info" \
    && ok "info: metadata and ops" || bad "info: $(cat "$T/info" "$T/err")"

# the same embeddings, digit for digit, from the .fhm and from the TFLite file
"$BIN" embed --threads 1 "$A" "$C" >"$T/e_tfl" 2>"$T/err1"
"$BIN" embed --threads 1 --embedder "$T/mfn.fhm" "$A" "$C" >"$T/e_fhm" 2>"$T/err2"
"$BIN" embed --threads 1 --embedder "$MFN" "$A" "$C" >"$T/e_tfl2" 2>"$T/err3"
if [ -s "$T/e_tfl" ] && grep -q embedding "$T/e_tfl" && cmp -s "$T/e_tfl" "$T/e_fhm" && cmp -s "$T/e_tfl" "$T/e_tfl2"; then
    ok "embed --embedder out.fhm / the .tflite: identical output ($(wc -c <"$T/e_tfl") bytes)"
else
    bad "embed outputs differ: $(head -c 300 "$T/err1" "$T/err2" "$T/err3")"
fi
# the preprocessing comes from the file: another scale in the metadata, other numbers
"$BIN" model convert --mean 120 --scale 0.008 "$MFN" "$T/other.fhm" >/dev/null 2>&1
"$BIN" embed --threads 1 --embedder "$T/other.fhm" "$A" "$C" >"$T/e_other" 2>/dev/null
grep -q embedding "$T/e_other" && ! cmp -s "$T/e_tfl" "$T/e_other" \
    && ok "a .fhm with mean 120, scale 0.008 gives other embeddings (metadata drives the input)" \
    || bad "metadata preprocessing not applied"
for pair in "$A $B" "$A $C"; do
    v1=$("$BIN" verify $pair 2>&1); v2=$("$BIN" verify --embedder "$T/mfn.fhm" $pair 2>&1)
    [ "$v1" = "$v2" ] && echo "$v1" | grep -q distance && ok "verify same numbers: $v2" || bad "verify: '$v1' vs '$v2'"
done

# damaged files: exit 1 and a message naming the problem
python3 - "$T" <<'PY'
import hashlib, struct, sys
d = sys.argv[1]
b = bytearray(open(d + "/mfn.fhm", "rb").read())
def fix(x):  # a valid checksum over damaged contents, to reach the field checks
    x = bytearray(x); x[-32:] = hashlib.sha256(bytes(x[:-32])).digest(); return bytes(x)
open(d + "/trunc.fhm", "wb").write(b[:len(b) // 2])
f = bytearray(b); f[len(b) // 2] ^= 0x55; open(d + "/flip.fhm", "wb").write(f)
g = struct.unpack_from("<Q", b, 32)[0]
f = bytearray(b); struct.pack_into("<I", f, g, 0x7fffffff); open(d + "/nvalues.fhm", "wb").write(fix(f))
i = b.index(b"CONV_2D"); f = bytearray(b); f[i:i + 7] = b"CONV_9D"; open(d + "/op.fhm", "wb").write(fix(f))
f = bytearray(b); struct.pack_into("<Q", f, 48, 1 << 40); open(d + "/weights.fhm", "wb").write(fix(f))
f = bytearray(b); f[8] = 9; open(d + "/version.fhm", "wb").write(fix(f))
open(d + "/header.fhm", "wb").write(b[:40])
f = bytearray(b); struct.pack_into("<Q", f, 24, 0); open(d + "/nometa.fhm", "wb").write(fix(f))
PY
check() { # file pattern
    "$BIN" verify --embedder "$T/$1" "$A" "$B" >"$T/out" 2>"$T/err"; local rc=$?
    if [ "$rc" = 1 ] && grep -qiE "$2" "$T/err"; then ok "$1: exit 1, $(head -c 200 "$T/err")"
    else bad "$1: exit $rc, stderr: $(head -c 300 "$T/err")"; fi
}
check trunc.fhm "checksum"
check flip.fhm "checksum"
check nvalues.fhm "values.*out of range"
check op.fhm "CONV_9D.*not supported"
check weights.fhm "weights section"
check version.fhm "version 9"
check header.fhm "shorter than a header"
check nometa.fhm "metadata has no input_mean"
"$BIN" model info "$T/op.fhm" >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -q CONV_9D "$T/err" && ok "model info on a bad file: exit 1" || bad "model info: exit $rc"
"$BIN" model convert "$MFN" /nonexistent/dir/x.fhm >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -qi "nonexistent" "$T/err" && ok "convert to a missing folder: exit 1" || bad "convert to missing folder: exit $rc"
# the library commands take --embedder (tests/cli/test_embedder_library.sh); a damaged one is
# refused before the database is even created
"$BIN" index --db "$T/lib.db" --embedder "$T/trunc.fhm" models/samples >/dev/null 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -q "trunc.fhm" "$T/err" && [ ! -e "$T/lib.db" ] \
    && ok "index --embedder a damaged .fhm: exit 1 naming it, no database created" || bad "index --embedder damaged: exit $rc $(cat "$T/err")"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
