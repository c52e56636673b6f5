#!/usr/bin/python3
# CelebA-LFW identity overlap check (../shared/data/README.md section 8: CelebA's
# authors say CelebFaces+ is identity-disjoint from LFW, which cannot be checked by name).
# Embeds every celeba200 image and every LFW image with the pretrained MobileFaceNet
# (`facehatch embed --no-flip`, largest face), then lists every CelebA-LFW pair closer
# than a distance far below the same-person threshold (1.106), and per CelebA identity
# the nearest LFW identity. Needs numpy (tools only, never at run time).
#   tools/lfw_overlap.py [--bin build/facehatch] [--data ../shared/data] [--max-dist 0.6]
import argparse, json, os, subprocess, sys
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--bin", default="build/facehatch")
ap.add_argument("--data", default="../shared/data")
ap.add_argument("--max-dist", type=float, default=0.6)
ap.add_argument("--threads", default="2")
a = ap.parse_args()


def images(root):
    out = []
    for d in sorted(os.listdir(root)):
        p = os.path.join(root, d)
        if os.path.isdir(p):
            out += [(d, os.path.join(p, f)) for f in sorted(os.listdir(p)) if not f.startswith(".")]
    return out


def embed(items):
    names, vecs = [], []
    for i in range(0, len(items), 400):
        chunk = items[i:i + 400]
        r = subprocess.run([a.bin, "embed", "--no-flip", "--threads", a.threads] + [p for _, p in chunk],
                           capture_output=True, text=True)
        by_path = {}
        for line in r.stdout.splitlines():
            j = json.loads(line)
            if j.get("faces"):
                f = max(j["faces"], key=lambda f: (f["box"][2] - f["box"][0]) * (f["box"][3] - f["box"][1]))
                by_path[j["image"]] = f["embedding"]
        for ident, p in chunk:
            if p in by_path:
                names.append((ident, p)); vecs.append(by_path[p])
        print("\r%d/%d" % (i + len(chunk), len(items)), end="", file=sys.stderr)
    print(file=sys.stderr)
    return names, np.array(vecs, dtype=np.float32)


cel = images(os.path.join(a.data, "celeba200/train")) + images(os.path.join(a.data, "celeba200/test"))
lfw = images(os.path.join(a.data, "lfw/lfw-deepfunneled"))
cn, cv = embed(cel)
ln, lv = embed(lfw)
print("embedded %d CelebA and %d LFW images" % (len(cn), len(ln)))
close = []
for i in range(0, len(cv), 500):
    d2 = np.maximum(2 - 2 * cv[i:i + 500] @ lv.T, 0)
    d = np.sqrt(d2)
    for r, c in zip(*np.nonzero(d < a.max_dist)):
        close.append((float(d[r, c]), cn[i + r], ln[c]))
close.sort()
print("pairs closer than %.2f: %d" % (a.max_dist, len(close)))
for dist, (ci, cp), (li, lp) in close[:50]:
    print("%.3f  %s  %s" % (dist, cp, lp))
# per CelebA identity: the nearest LFW identity by mean embedding distance
ids = sorted(set(c for c, _ in cn))
lids = sorted(set(l for l, _ in ln))
lmean = np.stack([lv[[k for k, (l, _) in enumerate(ln) if l == x]].mean(0) for x in lids])
lmean /= np.linalg.norm(lmean, axis=1, keepdims=True)
nearest = []
for x in ids:
    m = cv[[k for k, (c, _) in enumerate(cn) if c == x]].mean(0)
    m /= np.linalg.norm(m)
    d = np.sqrt(np.maximum(2 - 2 * lmean @ m, 0))
    k = int(d.argmin())
    nearest.append((float(d[k]), x, lids[k]))
nearest.sort()
print("closest CelebA identity / LFW identity (mean embeddings):")
for dist, x, l in nearest[:10]:
    print("%.3f  %s  %s" % (dist, x, l))
