#!/usr/bin/env bash
# The loss table of docs/TRAINING.md (issue 8, part 3): every loss trained from scratch
# with the same architecture (mfn-s, batch norm), data (celeba200 train + test, identities
# 0-159), epochs, batch, augmentation and seed; scored on the held-out identities 160-199
# after every epoch (all same/different pairs: 10-fold accuracy, TAR at FAR 1e-3) and on
# LFW View 2 at the end. Plus center loss with other lambdas, and the fine-tune row
# (pretrained MobileFaceNet + ArcFace, LFW before/after).
#
#   tools/loss_table.sh OUT [ROW...]
#     ROW: a loss (softmax triplet triplet-hard center sphereface cosface arcface two-level),
#     center-LAMBDA, LOSS-sSCALE (cosface-s32: another scale s), finetune, finetune-lrLR
#     (another learning rate), or pretrained (LFW View 2 and the held-out pairs of the
#     pretrained model: the "before").
#     Default: all of them. A row whose OUT/ROW.json exists is skipped (rerun = resume).
#     Writes OUT/ROW.fhm (model), OUT/ROW.json (per-epoch history + summary, from
#     `train --json`), OUT/ROW.log (stderr), OUT/ROW.lfw (eval lfw output, last line JSON).
#   Environment: EPOCHS (20), FT_EPOCHS (5), THREADS (2), FACEHATCH (build/facehatch),
#     FH_DATA (../shared/data).
# Run it alone: 2 cores, about 100 minutes for every row. tools/loss_table.py OUT turns
# the results into the markdown table and the SVG curves. The committed record of these
# runs is docs/loss_table/ (ROW.json, ROW.lfw, ROW.log; no models): copy it into OUT to
# resume a partial rerun there.
set -euo pipefail
cd "$(dirname "$0")/.."
FH=${FACEHATCH:-build/facehatch}
DATA=${FH_DATA:-../shared/data}
D=$DATA/celeba200
[ $# -ge 1 ] || { sed -n '2,19p' "$0"; exit 2; }
OUT=$1; shift
ROWS=${*:-pretrained softmax triplet triplet-hard center center-0.001 center-0.1 sphereface cosface arcface two-level finetune}
EPOCHS=${EPOCHS:-20} FT_EPOCHS=${FT_EPOCHS:-5} THREADS=${THREADS:-2}
mkdir -p "$OUT"
for r in $ROWS; do
    if [ "$r" = pretrained ]; then
        [ -s "$OUT/pretrained.lfw" ] || "$FH" eval lfw --view 2 --threads "$THREADS" > "$OUT/pretrained.lfw"
        [ -s "$OUT/pretrained.pairs" ] || "$FH" eval pairs --data "$D/train" --data "$D/test" \
            --ids 160-199 --threads "$THREADS" > "$OUT/pretrained.pairs"
        continue
    fi
    if [ ! -s "$OUT/$r.json" ]; then
        case $r in
            center-*) args=(--loss center --lambda "${r#center-}" --arch mfn-s --epochs "$EPOCHS") ;;
            *-s[0-9]*) args=(--loss "${r%-s*}" --s "${r##*-s}" --arch mfn-s --epochs "$EPOCHS") ;;
            finetune) args=(--loss arcface --init models/MobileFaceNet.tflite --lr 0.01 --epochs "$FT_EPOCHS") ;;
            finetune-lr*) args=(--loss arcface --init models/MobileFaceNet.tflite --lr "${r#finetune-lr}" --epochs "$FT_EPOCHS") ;;
            *) args=(--loss "$r" --arch mfn-s --epochs "$EPOCHS") ;;
        esac
        echo "== $r: $(date -u +%H:%M:%S)" >&2
        rm -f "$OUT/$r.fhm.ckpt"
        "$FH" train --data "$D/train" --data "$D/test" --ids 0-159 --eval-ids 160-199 \
            --eval-every-epoch --batch 64 --seed 1 --threads "$THREADS" "${args[@]}" \
            --out "$OUT/$r.fhm" --json > "$OUT/$r.json.tmp" 2> "$OUT/$r.log"
        mv "$OUT/$r.json.tmp" "$OUT/$r.json"
    fi
    if [ ! -s "$OUT/$r.lfw" ]; then
        "$FH" eval lfw --view 2 --threads "$THREADS" --embedder "$OUT/$r.fhm" > "$OUT/$r.lfw.tmp"
        mv "$OUT/$r.lfw.tmp" "$OUT/$r.lfw"
    fi
    echo "   $r: $(tail -n 1 "$OUT/$r.json" | cut -c1-300)" >&2
done
