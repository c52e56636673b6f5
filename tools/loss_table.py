#!/usr/bin/env python3
"""The loss table and its curves from tools/loss_table.sh's output (standard library only).

    tools/loss_table.py OUT [--svg-dir DIR]

Reads OUT/ROW.json (`facehatch train --json`: one line per epoch, then the summary) and
OUT/ROW.lfw (`facehatch eval lfw --view 2`, last line JSON) for every row present, prints
the markdown table of docs/TRAINING.md, and with --svg-dir writes DIR/loss_curves.svg
(training loss per epoch, each loss divided by its first epoch's value, as the losses
have different scales), DIR/heldout_curves.svg (held-out pair accuracy per epoch) and
DIR/train_acc_curves.svg (training accuracy per epoch).
"""
import json
import os
import sys

ORDER = ["softmax", "triplet", "triplet-hard", "center-0.001", "center", "center-0.1",
         "sphereface", "cosface", "cosface-s32", "arcface", "arcface-s32", "two-level", "finetune", "finetune-lr0.001"]
LABEL = {"center": "center (λ 0.01)", "center-0.001": "center (λ 0.001)",
         "center-0.1": "center (λ 0.1)", "two-level": "two-level softmax",
         "finetune": "fine-tune: pretrained MobileFaceNet + ArcFace",
         "finetune-lr0.001": "fine-tune, lr 0.001",
         "triplet": "triplet, semi-hard", "triplet-hard": "triplet, hardest negative",
         "sphereface": "A-Softmax (SphereFace)", "cosface": "CosFace", "arcface": "ArcFace",
         "cosface-s32": "CosFace, s 32", "arcface-s32": "ArcFace, s 32",
         "softmax": "softmax"}
COLORS = ["#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8", "#98df8a"]


def last_json(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def load(out):
    rows = []
    for r in ORDER:
        p = os.path.join(out, r + ".json")
        if not os.path.exists(p):
            continue
        summ = last_json(p)
        lfw = os.path.join(out, r + ".lfw")
        rows.append((r, summ, last_json(lfw) if os.path.exists(lfw) else None))
    return rows


def table(out, rows):
    pre = os.path.join(out, "pretrained.lfw")
    print("| loss | epochs | final train loss | train acc | held-out acc (10-fold) | held-out TAR @ FAR 1e-3 "
          "| LFW View 2 acc | LFW TAR @ FAR 1e-3 | classifier weights | train time |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r, s, lfw in rows:
        h = s.get("heldout", {})
        lf = "%.2f %% ± %.2f" % (100 * lfw["accuracy"], 100 * lfw["std_err"]) if lfw else "–"
        lt = "%.2f %%" % (100 * lfw["tar_at_far"]["1e-3"]) if lfw else "–"
        head = "%.0f KB" % (s["head_bytes"] / 1024) if s.get("head_bytes") else "–"
        print("| %s | %d | %.3f | %.3f | %.2f %% ± %.2f | %.2f %% | %s | %s | %s | %.0f s |" % (
            LABEL.get(r, r), s["epochs"], s["final_loss"], s["train_acc"], 100 * h.get("acc", 0),
            100 * h.get("acc_std", 0), 100 * h.get("tar", 0), lf, lt, head, s["train_s"]))
    if os.path.exists(pre):
        p = last_json(pre)
        pp = os.path.join(out, "pretrained.pairs")
        h = last_json(pp)["heldout"] if os.path.exists(pp) else None
        hs = ("%.2f %% ± %.2f | %.2f %%" % (100 * h["acc"], 100 * h["acc_std"], 100 * h["tar"])
              if h else " | ")
        print("| (pretrained MobileFaceNet, no training here) | | | | %s | %.2f %% ± %.2f | %.2f %% | | |" % (
            hs, 100 * p["accuracy"], 100 * p["std_err"], 100 * p["tar_at_far"]["1e-3"]))
    for r, s, _ in rows:
        if "cluster_acc" in s:
            print("\ntwo-level: cluster-head accuracy %.3f, classifier weights %d bytes" % (
                s["cluster_acc"], s["head_bytes"]))


def svg(path, title, ylabel, series, ylo=None, yhi=None):
    W, H, L, R, T, B = 720, 420, 60, 210, 36, 44
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]
    if not xs:
        return
    x0, x1 = 1, max(xs)
    y0 = min(ys) if ylo is None else ylo
    y1 = max(ys) if yhi is None else yhi
    if y1 <= y0:
        y1 = y0 + 1
    X = lambda x: L + (W - L - R) * (x - x0) / max(1, x1 - x0)
    Y = lambda y: H - B - (H - T - B) * (y - y0) / (y1 - y0)
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
         'font-size="12"><rect width="100%%" height="100%%" fill="white"/>' % (W, H),
         '<text x="%d" y="20" font-size="14">%s</text>' % (L, title)]
    for i in range(6):
        yv = y0 + (y1 - y0) * i / 5
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (L, W - R, Y(yv), Y(yv)))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (L - 6, Y(yv) + 4, yv))
    for e in range(1, x1 + 1):
        if e == 1 or e % 5 == 0:
            o.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (X(e), H - B + 16, e))
    o.append('<text x="%d" y="%d" text-anchor="middle">epoch</text>' % ((L + W - R) // 2, H - 8))
    o.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>' % (
        H // 2, H // 2, ylabel))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>' % (
        L, T, W - L - R, H - T - B))
    for i, (name, pts) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        o.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
            c, " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in pts)))
        ly = T + 14 + 18 * i
        o.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (
            W - R + 10, W - R + 30, ly - 4, ly - 4, c))
        o.append('<text x="%d" y="%d">%s</text>' % (W - R + 36, ly, name))
    o.append("</svg>\n")
    with open(path, "w") as f:
        f.write("\n".join(o))


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    out = sys.argv[1]
    svg_dir = sys.argv[sys.argv.index("--svg-dir") + 1] if "--svg-dir" in sys.argv else None
    rows = load(out)
    table(out, rows)
    if svg_dir:
        loss, held, acc = [], [], []
        for r, s, _ in rows:
            hist = s.get("history", [])
            if not hist or r.startswith("finetune"):
                continue
            l0 = hist[0]["loss"] or 1
            loss.append((r, [(e["epoch"], e["loss"] / l0) for e in hist]))
            held.append((r, [(e["epoch"], e["heldout_acc"]) for e in hist if "heldout_acc" in e]))
            acc.append((r, [(e["epoch"], e["acc"]) for e in hist]))
        svg(os.path.join(svg_dir, "loss_curves.svg"),
            "Training loss / first epoch's loss (mfn-s from scratch, celeb 0-159)", "loss / loss at epoch 1",
            loss, ylo=0)
        svg(os.path.join(svg_dir, "heldout_curves.svg"),
            "Held-out pair accuracy (identities 160-199, 10-fold)", "accuracy", held)
        svg(os.path.join(svg_dir, "train_acc_curves.svg"),
            "Training accuracy (classifier argmax without margin; triplet: positive nearer than every negative)", "accuracy", acc,
            ylo=0, yhi=1)


if __name__ == "__main__":
    main()
