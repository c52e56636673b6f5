#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Peer (a): OpenCV's Haar cascade (Debian python3-opencv; run with /usr/bin/python3, the
# pyenv python3 on PATH has no cv2). Same setup as tools/haar_opencv_ref.py:
# haarcascade_frontalface_default.xml, IMREAD_COLOR + COLOR_BGR2GRAY, detectMultiScale
# (scaleFactor 1.1, minNeighbors 3, default min size), OpenCL off.
#
# For each image set (the six demo photos; the 130 CMU+MIT frontal test images) and for
# cv2.setNumThreads(1) and OpenCV's default thread count: median over --runs passes of the
# pass total of detectMultiScale (grey image ready), of imread + cvtColor, and the cascade
# load time. Also writes each set's decoded RGB (--dump-rgb DIR: sampleK.rgb + sizes.json)
# for the Node peers, so that every peer sees libjpeg-turbo's pixels.
#
#   /usr/bin/python3 haar_bench.py --samples DIR --cmu DIR [--runs N] [--dump-rgb DIR] [--out FILE]
import argparse
import glob
import json
import os
import statistics
import sys
import time

import cv2


def now_ms():
    return time.perf_counter() * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cascade", default="/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
    ap.add_argument("--samples", required=True, help="folder with sample1..6.jpg")
    ap.add_argument("--cmu", help="CMU+MIT test_jpg folder")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dump-rgb", help="write sampleK.rgb and sizes.json here, then go on")
    ap.add_argument("--out")
    a = ap.parse_args()
    cv2.ocl.setUseOpenCL(False)
    default_threads = cv2.getNumThreads()

    t0 = now_ms()
    casc = cv2.CascadeClassifier(a.cascade)
    load_ms = now_ms() - t0
    if casc.empty():
        sys.exit("haar_bench: cannot load %s" % a.cascade)

    sets = {"samples": [os.path.join(a.samples, "sample%d.jpg" % k) for k in range(1, 7)]}
    if a.cmu:
        sets["cmu_mit"] = sorted(glob.glob(os.path.join(a.cmu, "*.jpg")))
    if a.dump_rgb:
        os.makedirs(a.dump_rgb, exist_ok=True)
        sizes = {}
        for k, p in enumerate(sets["samples"], 1):
            im = cv2.imread(p, cv2.IMREAD_COLOR)
            open(os.path.join(a.dump_rgb, "sample%d.rgb" % k), "wb").write(im[:, :, ::-1].tobytes())
            sizes["sample%d" % k] = [im.shape[1], im.shape[0]]
        json.dump(sizes, open(os.path.join(a.dump_rgb, "sizes.json"), "w"))

    res = {"peer": "OpenCV Haar", "runtime": "OpenCV %s (Debian python3-opencv), %s" % (cv2.__version__, os.path.basename(a.cascade)),
           "params": "scaleFactor 1.1, minNeighbors 3, default min size (24x24), grey via COLOR_BGR2GRAY, OpenCL off",
           "runs": a.runs, "default_threads": default_threads, "cascade_load_ms": load_ms, "sets": {}}
    for name, files in sets.items():
        # decode + grey, timed per pass
        dec = []
        for _ in range(a.runs):
            t0 = now_ms()
            greys = []
            for p in files:
                im = cv2.imread(p, cv2.IMREAD_COLOR)
                greys.append(cv2.cvtColor(im, cv2.COLOR_BGR2GRAY))
            dec.append(now_ms() - t0)
        out = {"images": len(files), "pixels": sum(g.size for g in greys), "decode_grey_ms": statistics.median(dec)}
        for label, th in (("1thr", 1), ("default", default_threads)):
            cv2.setNumThreads(th)
            casc.detectMultiScale(greys[0], scaleFactor=1.1, minNeighbors=3)  # warm-up
            tot = []
            for _ in range(a.runs):
                n = 0
                t0 = now_ms()
                for g in greys:
                    n += len(casc.detectMultiScale(g, scaleFactor=1.1, minNeighbors=3))
                tot.append(now_ms() - t0)
            out["detect_ms_%s" % label] = statistics.median(tot)
            out["detections"] = n
        cv2.setNumThreads(default_threads)
        res["sets"][name] = out
    s = json.dumps(res, indent=1)
    if a.out:
        open(a.out, "w").write(s + "\n")
    print(s)


if __name__ == "__main__":
    main()
