#!/usr/bin/python3
# Tunes the fused detector's score calibration offline (issue 9, part 4) on the WIDER
# subset's "tune" events and scores it with our official-protocol evaluator on the "test"
# events and on all of them.
#
#   tools/fuse_tune.py DIR [--fuse-small PX] [--iou T] [--out-results RDIR]
#                          [--no-size2] [--no-vote] [--box-fix] [--no-fb1024]
#
# DIR holds the per-backend detections `eval wider` dumped with FACEHATCH_WIDER_DUMP
# (tab-separated: image kind x1 y1 x2 y2 score face_p), one file per run:
#   mtcnn_low.tsv  eval wider --thresh 0.3,0.4,0.1
#   ulfd640.tsv    eval wider --detector ulfd
#   ulfd1280.tsv   eval wider --detector ulfd --ulfd-width 1280   (its boxes under PX only)
#   fb2048.tsv     eval wider --detector faceboxes --faceboxes-width 2048
#   fb1024.tsv     eval wider --detector faceboxes
# For every candidate box it builds the features detector.c's fuse_features computes
# (per backend: bias, logit of its score, logit of O-Net's probability on the box, log
# size and its square; and per other backend k: the best IoU with k's boxes, weighted by
# k's "agree" weight), fits a logistic regression
# (label: IoU >= 0.5 with any annotated face) on the tune events only, and prints the
# weights as a C table. Then greedy NMS over all backends by the calibrated score,
# results written as official result files and scored by `facehatch eval wider
# --results` on tune, test and all events. Needs numpy only.
import math, os, subprocess, sys
import numpy as np

# box voting IoU (0: off), the fused box = score-weighted mean of the candidates it covers
VOTE = 0 if "--no-vote" in sys.argv else 0.4
FEATS = ["bias", "logit score", "logit O-Net", "log2 size/12", "agree", "(log2 size/12)^2"]
NF = 5 if "--no-size2" in sys.argv else 6
# ulfd2: ULFD at twice the width (small faces); faceboxes: FaceBoxes at the wide width
# (2048), faceboxes1024: FaceBoxes at its default 1024 (fused runs both when
# --faceboxes-width is above 1024). --no-fb1024: the four-backend variant.
KINDS = ["mtcnn", "ulfd", "ulfd2", "faceboxes", "faceboxes1024"]
FILES = {"mtcnn": "mtcnn_low.tsv", "ulfd": "ulfd640.tsv", "ulfd2": "ulfd1280.tsv", "faceboxes": "fb2048.tsv",
         "faceboxes1024": "fb1024.tsv"}
if "--no-fb1024" in sys.argv:
    KINDS.pop()
DATA = os.environ.get("FH_DATA", "../shared/data")
FH = os.environ.get("FACEHATCH", "build/facehatch")


def logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def read_gt():
    gt, order = {}, []
    with open(f"{DATA}/widerface_val/wider_face_val_bbx_gt_subset.txt") as f:
        lines = [l.strip() for l in f]
    i = 0
    while i < len(lines):
        if not lines[i]:
            i += 1
            continue
        name, n = lines[i], int(lines[i + 1])
        boxes = []
        for k in range(max(n, 1)):
            v = [float(x) for x in lines[i + 2 + k].split()[:4]]
            if n:
                boxes.append([v[0], v[1], v[0] + v[2], v[1] + v[3]])
        gt[name] = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        order.append(name)
        i += 2 + max(n, 1)
    return gt, order


def read_dump(path, kind, small):
    out = {}
    with open(path) as f:
        next(f)
        for line in f:
            im, _, x1, y1, x2, y2, s, p = line.rstrip("\n").split("\t")
            b = [float(x1), float(y1), float(x2), float(y2)]
            side = max(b[2] - b[0], b[3] - b[1]) + 1
            if kind == "ulfd2" and side >= small:
                continue
            out.setdefault(im, []).append(b + [float(s), float(p)])
    return {k: np.array(v) for k, v in out.items()}


def iou(a, b):  # a: n x 4, b: m x 4 (inclusive pixel boxes) -> n x m
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda q: (q[:, 2] - q[:, 0]) * (q[:, 3] - q[:, 1])
    return inter / (area(a)[:, None] + area(b)[None, :] - inter + 1e-9)


def features(cands):
    """cands: list of (kind index, n x 6 array) for one image -> boxes, X"""
    boxes = np.concatenate([c[1][:, :4] for c in cands]) if cands else np.zeros((0, 4))
    kind = np.concatenate([np.full(len(c[1]), c[0]) for c in cands]) if cands else np.zeros(0, int)
    s = np.concatenate([c[1][:, 4] for c in cands]) if cands else np.zeros(0)
    p = np.concatenate([c[1][:, 5] for c in cands]) if cands else np.zeros(0)
    n, K = len(boxes), len(KINDS)
    X = np.zeros((n, NF * K))
    ls, lp = logit(s), logit(p)
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) + 1
    for k in range(K):
        m = kind == k
        X[m, k] = 1                      # bias per backend
        X[m, K + k] = ls[m]              # own score
        X[m, 2 * K + k] = lp[m]          # O-Net on the box
        X[m, 3 * K + k] = np.log2(np.maximum(side[m], 1) / 12)  # size
    ov = iou(boxes, boxes)
    for k in range(K):                   # agreement with backend k (0 for itself)
        m = kind == k
        if m.any():
            a = ov[:, m].max(axis=1)
            a[kind == k] = 0
            X[:, 4 * K + k] = a
    if NF > 5:
        for k in range(K):
            m = kind == k
            X[m, 5 * K + k] = X[m, 3 * K + k] ** 2
    return boxes, kind, X


def fit_lr(X, y, l2=1e-3, iters=50):
    w = np.zeros(X.shape[1])
    for _ in range(iters):  # Newton's method
        z = X @ w
        p = 1 / (1 + np.exp(-z))
        g = X.T @ (p - y) / len(y) + l2 * w
        H = (X * (p * (1 - p))[:, None]).T @ X / len(y) + l2 * np.eye(len(w))
        w -= np.linalg.solve(H, g)
    return w


def nms(boxes, score, th):
    order = np.argsort(-score, kind="stable")
    keep = []
    sup = np.zeros(len(boxes), bool)
    ov = iou(boxes, boxes)
    for i in order:
        if sup[i]:
            continue
        keep.append(i)
        sup |= ov[i] > th
    return np.array(keep, int)


def write_results(rdir, per_image):
    for name, (boxes, score) in per_image.items():
        ev, fn = name.split("/")
        os.makedirs(f"{rdir}/{ev}", exist_ok=True)
        with open(f"{rdir}/{ev}/{fn[:-4]}.txt", "w") as f:
            f.write(f"{fn[:-4]}\n{len(boxes)}\n")
            for b, s in zip(boxes, score):
                f.write(f"{b[0]:.1f} {b[1]:.1f} {b[2] - b[0] + 1:.1f} {b[3] - b[1] + 1:.1f} {s:.6f}\n")


def score(rdir, events):
    ev = ["--events", events] if events else []
    out = subprocess.run([FH, "eval", "wider", "--results", rdir] + ev,
                         capture_output=True, text=True, check=True).stdout
    line = out.strip().split("\n")[-1]
    import json
    ap = json.loads(line)["ap"]
    return ap["easy"], ap["medium"], ap["hard"]


def main():
    a = sys.argv[1:]
    d = a[0]
    small = float(a[a.index("--fuse-small") + 1]) if "--fuse-small" in a else 40
    th = float(a[a.index("--iou") + 1]) if "--iou" in a else 0.4
    rdir = a[a.index("--out-results") + 1] if "--out-results" in a else "/tmp/fuse_results"
    use = [k for k in KINDS if os.path.exists(f"{d}/{FILES[k]}")]
    gt, order = read_gt()
    events = sorted({n.split("/")[0] for n in order})
    tune_ev = set(events[0::2])
    dumps = {k: read_dump(f"{d}/{FILES[k]}", k, small) for k in use}
    if "--box-fix" in a:  # per backend: GT box = det box shifted/scaled by the tune median
        fix = {}
        for k in use:
            rel = []
            for name in order:
                if name.split("/")[0] not in tune_ev or name not in dumps[k] or not len(gt[name]):
                    continue
                b = dumps[k][name]
                b = b[b[:, 4] >= np.quantile(b[:, 4], 0.5)] if len(b) > 4 else b
                g = gt[name]
                ov = iou(b[:, :4], g)
                j = ov.argmax(axis=1)
                for i in np.nonzero(ov.max(axis=1) >= 0.4)[0]:
                    bw, bh = b[i, 2] - b[i, 0] + 1, b[i, 3] - b[i, 1] + 1
                    gg = g[j[i]]
                    gw, gh = gg[2] - gg[0], gg[3] - gg[1]
                    rel.append([((gg[0] + gg[2]) / 2 - (b[i, 0] + b[i, 2] + 1) / 2) / bw,
                                ((gg[1] + gg[3]) / 2 - (b[i, 1] + b[i, 3] + 1) / 2) / bh, gw / bw, gh / bh])
            fix[k] = np.median(np.array(rel), axis=0)
            print(f"  box fix {k}: dx {fix[k][0]:+.3f} dy {fix[k][1]:+.3f} w x{fix[k][2]:.3f} h x{fix[k][3]:.3f}")
            for name, b in dumps[k].items():
                bw, bh = b[:, 2] - b[:, 0] + 1, b[:, 3] - b[:, 1] + 1
                cx, cy = (b[:, 0] + b[:, 2] + 1) / 2 + fix[k][0] * bw, (b[:, 1] + b[:, 3] + 1) / 2 + fix[k][1] * bh
                nw, nh = bw * fix[k][2], bh * fix[k][3]
                b[:, 0], b[:, 1], b[:, 2], b[:, 3] = cx - nw / 2, cy - nh / 2, cx + nw / 2 - 1, cy + nh / 2 - 1
    per = {}
    Xs, ys, tune_mask = [], [], []
    for name in order:
        cands = [(KINDS.index(k), dumps[k][name]) for k in use if name in dumps[k]]
        boxes, kind, X = features(cands)
        g = gt[name]
        y = (iou(boxes, g).max(axis=1) >= 0.5).astype(float) if len(g) else np.zeros(len(boxes))
        per[name] = (boxes, kind, X)
        Xs.append(X), ys.append(y)
        tune_mask.append(np.full(len(boxes), name.split("/")[0] in tune_ev))
    X, y, tm = np.concatenate(Xs), np.concatenate(ys), np.concatenate(tune_mask)
    w = fit_lr(X[tm], y[tm])
    print(f"backends {use}; {tm.sum()} tune candidates ({int(y[tm].sum())} faces), {len(y)} in all")
    K = len(KINDS)
    for f in range(NF):
        print(f"  {FEATS[f]:17s}" + "".join(f" {KINDS[k]}={w[f * K + k]:+.4f}" for k in range(K)))
    print("  C (detector.c FUSE_W[feature][backend]):")
    for f in range(NF):
        print("    {" + ", ".join(f"{w[f * K + k]:.6f}f" for k in range(K)) + f"}}, // {FEATS[f]}")
    res = {}
    for name, (boxes, kind, X) in per.items():
        sc = 1 / (1 + np.exp(-(X @ w))) if len(boxes) else np.zeros(0)
        keep = nms(boxes, sc, th) if len(boxes) else np.zeros(0, int)
        kb = boxes[keep].copy()
        if VOTE and len(keep):  # box voting: score-weighted mean of the boxes a kept one covers
            ov = iou(kb, boxes)
            for j in range(len(keep)):
                m = ov[j] >= VOTE
                m[keep[j]] = True
                kb[j] = (boxes[m] * (sc[m, None] + 1e-12)).sum(axis=0) / (sc[m].sum() + 1e-12 * m.sum())
        res[name] = (kb, sc[keep])
    write_results(rdir, res)
    for ev in ("tune", "test", "all"):
        e, m, h = score(rdir, ev if ev != "all" else None)
        print(f"  {ev:5s} easy {e:.4f} medium {m:.4f} hard {h:.4f}")


if __name__ == "__main__":
    main()
