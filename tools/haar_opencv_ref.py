#!/usr/bin/python3
# OpenCV's own Haar detections, the reference that src/haar is compared against.
# Run with Debian's interpreter (/usr/bin/python3, python3-opencv 4.6), not a pyenv one.
#
#   /usr/bin/python3 tools/haar_opencv_ref.py [--min-neighbors N] [--cascade XML] IMAGE... > ref.txt
#
# Writes one line per detection, "name x y w h" (name = the file's base name; with
# --neighbors a sixth column, the group's hit count), in the order cv2 returns them. Images are read as cv2 reads them (IMREAD_COLOR, BGR) and
# turned grey with COLOR_BGR2GRAY, as a typical cv2 user does; OpenCL is switched off so
# the CPU path (the one src/haar reproduces) is the one measured.
import argparse
import os
import sys

import cv2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cascade", default="/usr/share/opencv4/haarcascades/"
                    "haarcascade_frontalface_default.xml")
    ap.add_argument("--scale-factor", type=float, default=1.1)
    ap.add_argument("--min-neighbors", type=int, default=3)
    ap.add_argument("--neighbors", action="store_true",
                    help="append each detection's neighbour count (detectMultiScale2)")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    cv2.ocl.setUseOpenCL(False)
    c = cv2.CascadeClassifier(a.cascade)
    if c.empty():
        sys.exit("haar_opencv_ref: cannot load %s" % a.cascade)
    out = []
    for path in a.images:
        im = cv2.imread(path, cv2.IMREAD_COLOR)
        if im is None:
            sys.exit("haar_opencv_ref: cannot read %s" % path)
        grey = cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)
        dets, counts = c.detectMultiScale2(grey, scaleFactor=a.scale_factor,
                                           minNeighbors=a.min_neighbors)
        name = os.path.basename(path)
        for (x, y, w, h), n in zip(dets, counts):
            out.append("%s %d %d %d %d" % (name, x, y, w, h) + (" %d" % n if a.neighbors else ""))
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))


if __name__ == "__main__":
    main()
