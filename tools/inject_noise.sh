#!/usr/bin/env bash
# Makes a noisy COPY of an identity-folder data set (e.g. celeba200/train) with known
# ground truth, to measure `facehatch clean`; and scores clean's --json output against it.
#
#   tools/inject_noise.sh make SRC OUT [--ids N] [--wrong F] [--nonface K] [--unreadable U] [--seed S]
#       Copies the first N identity folders of SRC (sorted; default all) into OUT/data/,
#       then moves a fraction F (default 0.12) of their images, chosen at random, each into
#       another randomly chosen folder (wrong_person); adds K (default 1) non-face images to
#       each folder: crops of WIDER FACE val photos (../shared/data/widerface_val, or
#       $FH_DATA/widerface_val) that overlap no annotated face box (grown by 25 %), resized
#       to the size of the folder's first image (no_face); and U (default 0) files that are
#       not images (unreadable), in random folders. Writes OUT/truth.tsv: one line per file,
#       "identity<TAB>file<TAB>truth" with truth clean|wrong_person|no_face|unreadable.
#       OUT must not exist. SRC is never written.
#   tools/inject_noise.sh score OUT CLEAN_JSONL
#       Reads `facehatch clean OUT/data --json` output and prints one JSON line: overall
#       precision and recall of the flags (a flag is right when the file is noise of any
#       kind), recall per injected kind, and precision per flagged reason.
#
# Needs /usr/bin/python3 with cv2 and numpy (Debian python3-opencv), as tests/cli use.
# Deterministic for a given seed.
set -euo pipefail
PY=${FH_CV2_PYTHON:-/usr/bin/python3}
DATA=${FH_DATA:-$(dirname "$0")/../../shared/data}
[ $# -ge 1 ] || { sed -n '2,22p' "$0"; exit 2; }
exec "$PY" - "$DATA" "$@" <<'EOF'
import json, os, random, shutil, sys

def usage(msg):
    sys.stderr.write("inject_noise: %s\n" % msg)
    sys.exit(2)

def make(data, src, out, ids=None, wrong=0.12, nonface=1, unreadable=0, seed=1):
    import cv2
    rng = random.Random(seed)
    if not os.path.isdir(src):
        usage("%s: not a folder" % src)
    if os.path.exists(out):
        usage("%s: already exists" % out)
    folders = sorted(d for d in os.listdir(src) if not d.startswith('.') and os.path.isdir(os.path.join(src, d)))
    if ids is not None:
        folders = folders[:ids]
    if len(folders) < 2:
        usage("%s: needs at least two identity folders" % src)
    dst = os.path.join(out, "data")
    truth = {}
    for f in folders:
        os.makedirs(os.path.join(dst, f))
        for name in sorted(os.listdir(os.path.join(src, f))):
            if name.startswith('.'):
                continue
            shutil.copyfile(os.path.join(src, f, name), os.path.join(dst, f, name))
            truth[(f, name)] = "clean"
    files = sorted(truth)
    for (f, name) in rng.sample(files, int(round(wrong * len(files)))):
        g = rng.choice([x for x in folders if x != f])
        if os.path.exists(os.path.join(dst, g, name)):
            continue
        os.rename(os.path.join(dst, f, name), os.path.join(dst, g, name))
        del truth[(f, name)]
        truth[(g, name)] = "wrong_person"
    if nonface:
        wider = os.path.join(data, "widerface_val")
        boxes, path, left = {}, None, 0
        with open(os.path.join(wider, "wider_face_val_bbx_gt_subset.txt")) as fh:
            lines = [l.strip() for l in fh]
        i = 0
        while i < len(lines):
            path, n = lines[i], int(lines[i + 1])
            boxes[path] = [list(map(int, l.split()[:4])) for l in lines[i + 2:i + 2 + max(n, 1)]][:n]
            i += 2 + max(n, 1)
        photos = sorted(boxes)
        k = 0
        for f in folders:
            first = sorted(n for (g, n) in truth if g == f)
            ref = cv2.imread(os.path.join(dst, f, first[0])) if first else None
            th, tw = ref.shape[:2] if ref is not None else (218, 178)
            for _ in range(nonface):
                for _attempt in range(1000):
                    p = rng.choice(photos)
                    im = cv2.imread(os.path.join(wider, "WIDER_val", "images", p))
                    H, W = im.shape[:2]
                    w = rng.randint(60, min(400, W // 2))
                    h = int(w * th / tw)
                    if h >= H:
                        continue
                    x, y = rng.randint(0, W - w), rng.randint(0, H - h)
                    def hits(b):
                        gx, gy = b[2] * 0.25, b[3] * 0.25
                        return (x < b[0] + b[2] + gx and b[0] - gx < x + w and
                                y < b[1] + b[3] + gy and b[1] - gy < y + h)
                    if not any(hits(b) for b in boxes[p]):
                        break
                crop = cv2.resize(im[y:y + h, x:x + w], (tw, th), interpolation=cv2.INTER_AREA)
                name = "bg_%05d.jpg" % k
                k += 1
                cv2.imwrite(os.path.join(dst, f, name), crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
                truth[(f, name)] = "no_face"
    for u in range(unreadable):
        f = rng.choice(folders)
        name = "broken_%03d.jpg" % u
        with open(os.path.join(dst, f, name), "wb") as fh:
            fh.write(b"\xff\xd8\xff\xe0 this is not a JPEG" if u % 2 == 0 else b"plain text, no image\n")
        truth[(f, name)] = "unreadable"
    with open(os.path.join(out, "truth.tsv"), "w") as fh:
        for (f, name) in sorted(truth):
            fh.write("%s\t%s\t%s\n" % (f, name, truth[(f, name)]))
    kinds = {}
    for t in truth.values():
        kinds[t] = kinds.get(t, 0) + 1
    print(json.dumps({"folders": len(folders), "images": len(truth), **kinds}))

def score(out, jsonl):
    truth = {}
    with open(os.path.join(out, "truth.tsv")) as fh:
        for line in fh:
            f, name, t = line.rstrip("\n").split("\t")
            truth[(f, name)] = t
    flags, summary = {}, None
    with open(jsonl) as fh:
        for line in fh:
            o = json.loads(line)
            if "file" in o:
                flags[(o["identity"], os.path.basename(o["file"]))] = o["reason"]
            elif "flagged" in o:
                summary = o
    if summary is None:
        usage("%s: no summary line" % jsonl)
    noise = {k for k, t in truth.items() if t != "clean"}
    tp = sum(1 for k in flags if k in noise)
    res = {"images": len(truth), "noise": len(noise), "flagged": len(flags),
           "precision": round(tp / len(flags), 4) if flags else 1.0,
           "recall": round(tp / len(noise), 4) if noise else 1.0,
           "seconds": summary.get("seconds")}
    rec = {}
    for kind in sorted({t for t in truth.values() if t != "clean"}):
        ks = [k for k, t in truth.items() if t == kind]
        rec[kind] = {"n": len(ks), "recall": round(sum(1 for k in ks if k in flags) / len(ks), 4)}
    res["recall_by_truth"] = rec
    prec = {}
    for r in sorted(set(flags.values())):
        ks = [k for k, v in flags.items() if v == r]
        prec[r] = {"n": len(ks), "precision": round(sum(1 for k in ks if k in noise) / len(ks), 4)}
    res["precision_by_reason"] = prec
    res["false_flags"] = sorted("%s/%s:%s" % (k[0], k[1], v) for k, v in flags.items() if k not in noise)[:20]
    print(json.dumps(res))

def main():
    data, argv = sys.argv[1], sys.argv[2:]
    if argv and argv[0] == "score" and len(argv) == 3:
        return score(argv[1], argv[2])
    if not argv or argv[0] != "make" or len(argv) < 3:
        usage("usage: inject_noise.sh make SRC OUT [options] | score OUT CLEAN_JSONL")
    opts = {"--ids": ("ids", int), "--wrong": ("wrong", float), "--nonface": ("nonface", int),
            "--unreadable": ("unreadable", int), "--seed": ("seed", int)}
    kw, rest = {}, argv[3:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            usage("unknown option or missing value: %s" % rest[0])
        key, conv = opts[rest[0]]
        try:
            kw[key] = conv(rest[1])
        except ValueError:
            usage("%s needs a number" % rest[0])
        rest = rest[2:]
    make(data, argv[1], argv[2], **kw)

main()
EOF
