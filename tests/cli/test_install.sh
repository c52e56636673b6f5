#!/usr/bin/env bash
# `make install DESTDIR=...` and the installed binary run from another folder: the models
# are found through $FACEHATCH_MODELS and the XDG data dirs, an explicit --models is never
# second-guessed, nothing found lists every place tried (exit 1), --version prints the
# version and each model's pinned and found checksum, `make uninstall` removes it all.
# Run from the repo root after `make` and `make models` (make install then compiles nothing:
# it is given the prefix the binary was built with).
set -u
BUILD=${BUILD:-build}
BIN=$BUILD/facehatch
ROOT=$(pwd)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; [ -f "$T/err" ] && sed 's/^/     /' "$T/err" | head -20; }
[ -x "$BIN" ] || { echo "FAIL $BIN missing (run make)"; exit 1; }
[ -f models/pnet.tflite ] || { echo "FAIL models/ missing (run make models)"; exit 1; }
SAMPLE=$ROOT/models/samples/sample1.jpg

# the version and prefix the binary was built with, so that make install rebuilds nothing
prefix=$("$BIN" --version | sed -n 's/^install prefix: //p')
version=$("$BIN" --version | sed -n '1s/^facehatch //p')
[ -n "$prefix" ] && [ -n "$version" ] && ok "the binary names its version ($version) and install prefix ($prefix)" ||
    bad "no version or 'install prefix:' line in --version"
if make -s --no-print-directory install DESTDIR="$T/root" PREFIX="$prefix" VERSION="$version" BUILD="$BUILD" >"$T/err" 2>&1; then
    ok "make install DESTDIR=$T/root PREFIX=$prefix"
else
    bad "make install failed"; echo "$pass passed, $fail failed"; exit 1
fi
IB=$T/root$prefix/bin/facehatch
M=$T/root$prefix/share/facehatch/models
MAN=$T/root$prefix/share/man/man1/facehatch.1
cmp -s "$IB" "$BIN" && ok "installed binary is $BIN" || bad "installed binary differs from $BIN"
n=$(ls "$M"/*.tflite 2>/dev/null | wc -l)
[ "$n" = 4 ] && [ -f "$M/SHA256SUMS" ] && [ -f "$M/samples/sample1.jpg" ] && ok "models installed in $M" || bad "models not installed in $M ($n .tflite)"
[ -f "$MAN" ] && ok "man page installed" || bad "no man page at $MAN"
if command -v groff >/dev/null; then
    groff -man -ww -z "$MAN" 2>"$T/err" && [ ! -s "$T/err" ] && ok "man page renders without warnings" || bad "groff warnings"
fi
if command -v mandoc >/dev/null; then
    mandoc -T lint -W warning "$MAN" >"$T/err" 2>&1 && ok "mandoc -T lint: no warnings" || bad "mandoc lint warnings"
fi

# run from a folder with no models/, with a HOME and XDG dirs of our own
mkdir -p "$T/elsewhere" "$T/home"
cd "$T/elsewhere"
run() { env -u FACEHATCH_MODELS -u XDG_DATA_HOME HOME="$T/home" XDG_DATA_DIRS="$T/none1:$T/none2" "$@" >"$T/out" 2>"$T/err"; }
found_in() { sed -n 's/^models: //p' "$T/out"; }

# (a) $FACEHATCH_MODELS
run env FACEHATCH_MODELS="$M" "$IB" detect "$SAMPLE"
[ $? = 0 ] && grep -q '"faces":\[{"box"' "$T/out" && ok "FACEHATCH_MODELS: detect from another folder" || bad "FACEHATCH_MODELS: detect"

# (b) the XDG data dirs: $XDG_DATA_HOME, its default under $HOME, each of $XDG_DATA_DIRS
mkdir -p "$T/xdg/facehatch" "$T/home/.local/share/facehatch" "$T/none2/facehatch"
ln -s "$M" "$T/xdg/facehatch/models"
run env XDG_DATA_HOME="$T/xdg" "$IB" detect "$SAMPLE"
[ $? = 0 ] && grep -q '"faces":\[{"box"' "$T/out" && ok "XDG_DATA_HOME: detect from another folder" || bad "XDG_DATA_HOME: detect"
run env XDG_DATA_HOME="$T/xdg" "$IB" --version
[ "$(found_in)" = "$M" ] && ok "XDG_DATA_HOME: --version shows the folder found" || bad "XDG_DATA_HOME: --version says '$(found_in)'"
ln -s "$M" "$T/none2/facehatch/models"
run "$IB" --version
[ "$(found_in)" = "$M" ] && ok "XDG_DATA_DIRS: second entry found" || bad "XDG_DATA_DIRS: --version says '$(found_in)'"
mkdir -p "$T/other"; cp "$M"/*.tflite "$T/other/"
ln -s "$T/other" "$T/home/.local/share/facehatch/models"
run "$IB" --version
[ "$(found_in)" = "$T/other" ] && ok "~/.local/share before XDG_DATA_DIRS" || bad "HOME default: --version says '$(found_in)'"
run env FACEHATCH_MODELS="$M" "$IB" --version
[ "$(found_in)" = "$M" ] && ok "FACEHATCH_MODELS before the XDG dirs" || bad "order: --version says '$(found_in)'"
run env FACEHATCH_MODELS="$T/nothing-here" "$IB" --version
[ "$(found_in)" = "$T/other" ] && ok "a wrong FACEHATCH_MODELS falls through to the next place" || bad "fall through: '$(found_in)'"
rm "$T/home/.local/share/facehatch/models" "$T/none2/facehatch/models"

# (c) nothing found: every place tried, how to fetch, exit 1
run env FACEHATCH_MODELS="$T/nothing-here" "$IB" detect "$SAMPLE"; rc=$?
if [ -f "$prefix/share/facehatch/models/pnet.tflite" ]; then
    echo "note: $prefix/share/facehatch/models holds models on this machine; (c) expects them found there"
    [ $rc = 0 ] && ok "nothing else found: the compiled-in prefix is used" || bad "prefix models not used (exit $rc)"
else
    miss=""
    for p in "$T/nothing-here" "$T/home/.local/share/facehatch/models" "$T/none1/facehatch/models" \
             "$T/none2/facehatch/models" "$prefix/share/facehatch/models" "./models"; do
        grep -qF "  $p  (" "$T/err" || miss="$miss $p"
    done
    [ $rc = 1 ] && [ -z "$miss" ] && grep -q "make models" "$T/err" && grep -q "fetch_models.sh" "$T/err" &&
        [ ! -s "$T/out" ] && ok "nothing found: exit 1, all 6 places listed" || bad "nothing found: exit $rc, not listed:$miss"
fi

# (d) an explicit --models is the only place tried, even when another would do
run env FACEHATCH_MODELS="$M" "$IB" detect --models /nonexistent "$SAMPLE"; rc=$?
[ $rc = 1 ] && grep -q -- "--models /nonexistent" "$T/err" && ! grep -qF "$M" "$T/err" &&
    ok "--models /nonexistent: exit 1, names it, no fallback" || bad "--models /nonexistent: exit $rc"
run "$IB" detect --models "$M" "$SAMPLE"
[ $? = 0 ] && ok "--models DIR works" || bad "--models $M"

# (e) --version: version line and the 4 models with their pinned sha256, "ok"
run env FACEHATCH_MODELS="$M" "$IB" --version; rc=$?
v=$(sed -n '1s/^facehatch //p' "$T/out")
good=0
for f in pnet rnet onet MobileFaceNet; do
    sum=$(awk -v f="$f.tflite" '$2 == f {print $1}' "$ROOT/models/SHA256SUMS")
    grep -qE "^  $f\.tflite +sha256 $sum  ok$" "$T/out" && good=$((good+1))
done
[ $rc = 0 ] && [ -n "$v" ] && [ "$good" = 4 ] && [ "$(grep -c '  ok$' "$T/out")" = 4 ] &&
    ok "--version: facehatch $v, 4 models ok" || bad "--version: exit $rc, version '$v', $good of 4 models ok"
run env FACEHATCH_MODELS="$M" "$IB" version
[ $? = 0 ] && [ "$(grep -c '  ok$' "$T/out")" = 4 ] && ok "'version' is --version" || bad "'version' command"
# an altered file: --version says so (exit 0), detect refuses it (checksums stay pinned)
cp "$M"/*.tflite "$T/other/" && printf 'x' | dd of="$T/other/rnet.tflite" bs=1 seek=1000 conv=notrunc status=none
run env FACEHATCH_MODELS="$T/other" "$IB" --version; rc=$?
[ $rc = 0 ] && grep -qE "^  rnet\.tflite .*ALTERED" "$T/out" && [ "$(grep -c '  ok$' "$T/out")" = 3 ] &&
    ok "--version flags an altered model" || bad "--version with an altered rnet: exit $rc"
run env FACEHATCH_MODELS="$T/other" "$IB" detect "$SAMPLE"; rc=$?
[ $rc = 1 ] && grep -q "sha256" "$T/err" && ok "detect refuses the altered model" || bad "altered model: exit $rc"

# make uninstall leaves nothing of ours
cd "$ROOT"
make -s --no-print-directory uninstall DESTDIR="$T/root" PREFIX="$prefix" VERSION="$version" BUILD="$BUILD" >"$T/err" 2>&1
left=$(find "$T/root" -name '*facehatch*' -o -name '*.tflite' | head -3)
[ -z "$left" ] && ok "make uninstall removes binary, models, man page" || bad "make uninstall left: $left"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
