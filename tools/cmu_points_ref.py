#!/usr/bin/python3
# An independent re-implementation of the CMU+MIT landmark criterion (src/eval/detection.c,
# eval_pts_hit / eval_pts_match, scored as `facehatch eval cmu-mit` does), written from its
# definition in src/eval/eval_det.h, to check the C numbers against.
#
#   build/facehatch detect IMAGE... > dets.jsonl     # the images eval cmu-mit ran on
#   python3 tools/cmu_points_ref.py LANDMARKS dets.jsonl
#
# LANDMARKS: cmu_mit_frontal/ground_truth_landmarks.txt. Faces of images that are not in
# dets.jsonl are left out (the Rotated Test Set, or the images past --quick). Prints one
# JSON line: ap_points, dr_points_at_10/50/167, faces, detections.
# Criterion: the box (inclusive corners) holds both eyes and the mouth centre, and
# sqrt(w*h) is within [1, 4] x max(eye distance, eye midpoint to mouth distance);
# detections in score order over the set (ties: image name order, then detector order),
# each takes the nearest untaken face it is correct for (landmark centre to box centre).
import json
import math
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: cmu_points_ref.py LANDMARKS DETS.jsonl")
    dets = {}
    for line in open(sys.argv[2]):
        d = json.loads(line)
        dets[os.path.basename(d["image"])] = [(f["box"], f["score"]) for f in d["faces"]]
    faces = []  # (image, (lx, ly), (rx, ry), (mx, my))
    for line in open(sys.argv[1]):
        t = line.split()
        if not t or t[0] not in dets:
            continue
        v = [float(x) for x in t[1:13]]
        faces.append((t[0], (v[0], v[1]), (v[2], v[3]), (v[8], v[9])))
    ranked = []  # (score, box, image), images in name order, detector order inside
    for name in sorted(dets):
        ranked += [(s, b, name) for b, s in dets[name]]
    ranked.sort(key=lambda r: -r[0])  # stable

    def hit(b, f):
        x1, y1, x2, y2 = b
        if not all(x1 <= p[0] <= x2 and y1 <= p[1] <= y2 for p in f[1:]):
            return False
        eye = math.dist(f[1], f[2])
        mid = ((f[1][0] + f[2][0]) / 2, (f[1][1] + f[2][1]) / 2)
        s = max(eye, math.dist(mid, f[3]))
        side = math.sqrt((x2 - x1 + 1) * (y2 - y1 + 1))
        return s <= side <= 4 * s

    taken = [False] * len(faces)
    tp = []
    for _, b, name in ranked:
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        best, idx = math.inf, -1
        for g, f in enumerate(faces):
            if f[0] != name or taken[g] or not hit(b, f):
                continue
            fx = (f[1][0] + f[2][0] + f[3][0]) / 3
            fy = (f[1][1] + f[2][1] + f[3][1]) / 3
            d = math.hypot(fx - cx, fy - cy)
            if d < best:
                best, idx = d, g
        tp.append(idx >= 0)
        if idx >= 0:
            taken[idx] = True
    n = len(faces)
    # VOC AP: precision envelope over the ranks, summed where the recall steps
    prec, c = [], 0
    for k, t in enumerate(tp):
        c += t
        prec.append(c / (k + 1))
    for k in range(len(prec) - 2, -1, -1):
        prec[k] = max(prec[k], prec[k + 1])
    ap = sum(prec[k] for k, t in enumerate(tp) if t) / n if n else 0
    # ROC: one point per run of equal scores; the rate at most N false positives allow
    out = {"ap_points": round(ap, 4)}
    for limit in (10, 50, 167):
        rate, t_, f_ = 0.0, 0, 0
        for k, (s, _, _) in enumerate(ranked):
            t_ += tp[k]
            f_ += not tp[k]
            if k + 1 < len(ranked) and ranked[k + 1][0] == s:
                continue
            if f_ > limit:
                break
            rate = t_ / n if n else 0
        out["dr_points_at_%d" % limit] = round(rate, 4)
    out["faces"], out["detections"] = n, len(ranked)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
