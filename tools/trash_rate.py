#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# How many faces of a library the "not a face" gates flag: the sphere and the junk head of a
# calib.h, recomputed in Python from the stored embeddings (an independent check of the
# library's plain-C head: it must agree with the faces.trash column the library wrote).
# A head on the embedding + context (LIB_JUNK_HEAD_DIM 196) also reads the sharpness of the
# crop halved, which the library does not store: then the trash column is reported as it is,
# beside the sphere, without the recomputation.
#   python3 tools/trash_rate.py LIB.db [src/library/calib.h]
import math, re, sqlite3, struct, sys

db_path = sys.argv[1]
src = open(sys.argv[2] if len(sys.argv) > 2 else 'src/library/calib.h').read()


def arr(name):
    m = re.search(r'%s\[\d+\] = \{(.*?)\};' % name, src, re.S)
    return [float(x.rstrip('f')) for x in re.findall(r'[-0-9.e+]+f', m.group(1))] if m else None


def mac(name):
    m = re.search(r'#define %s ([-0-9.e+]+)f?' % name, src)
    return float(m.group(1)) if m else None


centre, radius = arr('lib_trash_centre'), mac('LIB_TRASH_RADIUS')
w1, b1 = arr('lib_junk_head_w1'), arr('lib_junk_head_b1')
alpha, w2 = arr('lib_junk_head_alpha'), arr('lib_junk_head_w2')
b2, thr = mac('LIB_JUNK_HEAD_B2'), mac('LIB_JUNK_HEAD_THRESHOLD')
dim = int(mac('LIB_JUNK_HEAD_DIM') or 192)
recompute = w1 is not None and dim == 192


def head(e):
    if alpha is None:  # logistic regression
        return b1[0] + sum(w * x for w, x in zip(w1, e)) >= thr
    z = b2
    for j in range(len(b1)):
        a = b1[j] + sum(w1[j * 192 + k] * e[k] for k in range(192))
        z += w2[j] * (a if a >= 0 else a * alpha[j])
    return z >= thr


n = sph = hd = both = agree = 0
for emb, trash in sqlite3.connect(db_path).execute('SELECT embedding, trash FROM faces WHERE embedding IS NOT NULL'):
    e = struct.unpack('<192f', emb)
    s = math.dist(e, centre) < radius
    h = head(e) if recompute else (bool(trash) if w1 else s)
    n, sph, hd, both = n + 1, sph + s, hd + h, both + (s and h)
    agree += h == bool(trash)
print(f'faces {n}: sphere flags {sph} ({100 * sph / max(n, 1):.2f} %), head flags {hd} ({100 * hd / max(n, 1):.2f} %), '
      f'both {both}; ' + (f'the library\'s trash column agrees with the head on {agree} of {n}' if recompute else
                          'head flags = the library\'s trash column (a context head: not recomputed here)'))
sys.exit(0 if agree == n else 1)
