#!/usr/bin/env bash
# What cleaning buys (issue 8, part 4): train the same model on a noisy copy of
# celeba200/train and on that copy after `facehatch clean --move-to`, then score both on
# the held-out identities 160-199 (clean train + test images, all pairs) and LFW View 2.
#
#   tools/clean_table.sh OUT [LOSS]
#     LOSS: arcface (default) or any `train --loss`. Makes OUT/src (links to celeb_0..159
#     of celeba200/train), OUT/noisy (tools/inject_noise.sh make, seed 2: 12 % of images
#     moved to a wrong identity + one non-face crop per folder), OUT/cleaned (a copy,
#     cleaned in place; flagged files moved to OUT/flagged), then for each of noisy,
#     cleaned: OUT/ROW.fhm, OUT/ROW.json (train --json), OUT/ROW.pairs (eval pairs --json),
#     OUT/ROW.lfw (eval lfw --view 2). Steps whose output exists are skipped.
#   Environment: EPOCHS (20), THREADS (2), FACEHATCH (build/facehatch), FH_DATA.
set -euo pipefail
cd "$(dirname "$0")/.."
FH=${FACEHATCH:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
D=$(cd "$DATA/celeba200" && pwd)
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
OUT=$1 LOSS=${2:-arcface}
EPOCHS=${EPOCHS:-20} THREADS=${THREADS:-2}
mkdir -p "$OUT"
if [ ! -d "$OUT/src" ]; then
    mkdir "$OUT/src.tmp"
    for i in $(seq 0 159); do ln -s "$D/train/celeb_$i" "$OUT/src.tmp/celeb_$i"; done
    mv "$OUT/src.tmp" "$OUT/src"
fi
[ -d "$OUT/noisy" ] || tools/inject_noise.sh make "$OUT/src" "$OUT/noisy" --seed 2 >&2
if [ ! -s "$OUT/clean.jsonl" ]; then
    rm -rf "$OUT/cleaned" "$OUT/flagged"
    cp -a "$OUT/noisy/data" "$OUT/cleaned"
    "$FH" clean "$OUT/cleaned" --json --threads "$THREADS" --move-to "$OUT/flagged" > "$OUT/clean.tmp"
    mv "$OUT/clean.tmp" "$OUT/clean.jsonl"
fi
# score the flags against the injected truth (paths as in the noisy copy)
sed "s#$OUT/cleaned/#$OUT/noisy/data/#g" "$OUT/clean.jsonl" > "$OUT/clean.noisy.jsonl"
tools/inject_noise.sh score "$OUT/noisy" "$OUT/clean.noisy.jsonl" > "$OUT/clean.score"
cat "$OUT/clean.score" >&2
for row in noisy cleaned; do
    dir=$OUT/cleaned
    [ $row = noisy ] && dir=$OUT/noisy/data
    if [ ! -s "$OUT/$row.json" ]; then
        echo "== $row: $(date -u +%H:%M:%S)" >&2
        rm -f "$OUT/$row.fhm.ckpt"
        "$FH" train --data "$dir" --ids 0-159 --loss "$LOSS" --arch mfn-s --epochs "$EPOCHS" --batch 64 \
            --seed 1 --threads "$THREADS" --out "$OUT/$row.fhm" --json > "$OUT/$row.tmp" 2> "$OUT/$row.log"
        mv "$OUT/$row.tmp" "$OUT/$row.json"
    fi
    if [ ! -s "$OUT/$row.pairs" ]; then
        "$FH" eval pairs --data "$D/train" --data "$D/test" --ids 160-199 --embedder "$OUT/$row.fhm" \
            --threads "$THREADS" --json > "$OUT/$row.tmp"
        mv "$OUT/$row.tmp" "$OUT/$row.pairs"
    fi
    if [ ! -s "$OUT/$row.lfw" ]; then
        "$FH" eval lfw --view 2 --threads "$THREADS" --embedder "$OUT/$row.fhm" > "$OUT/$row.tmp"
        mv "$OUT/$row.tmp" "$OUT/$row.lfw"
    fi
    echo "   $row: $(tail -n 1 "$OUT/$row.pairs")" >&2
done
