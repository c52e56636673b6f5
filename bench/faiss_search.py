#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The Faiss peer of bench_search (`make bench-scale`): Debian's python3-faiss 1.7.3 (its
# libfaiss-dev ships the C API headers but not the compiled C API, so the peer is the
# Python binding over the same library), on vectors generated the same way as
# bench/bench_search.c (20 noisy faces per random identity, 192-D, unit length; numpy's
# generator, so not the same values). One query per call, as "who is this" asks; median ms
# of Q queries at 1 and 2 OpenMP threads; recall@1 against IndexFlatIP (exact float).
#   /usr/bin/python3 bench/faiss_search.py [max_n] [queries]
import sys
import time

import faiss
import numpy as np

D, PER_ID = 192, 20


def faces(rng, ids, n):
    idx = np.arange(n) // PER_ID
    x = ids[idx] + (0.9 / np.sqrt(D)) * rng.standard_normal((n, D), dtype=np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def timed(index, q, threads):
    faiss.omp_set_num_threads(threads)
    t, top = [], []
    for i in range(len(q)):
        t0 = time.perf_counter()
        _, I = index.search(q[i:i + 1], 10)
        t.append((time.perf_counter() - t0) * 1e3)
        top.append(I[0])
    return float(np.median(t)), np.array(top)


def main():
    max_n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    nq = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rng = np.random.default_rng(1)
    ids = rng.standard_normal(((max_n + PER_ID - 1) // PER_ID, D), dtype=np.float32)
    ids /= np.linalg.norm(ids, axis=1, keepdims=True)
    x = faces(rng, ids, max_n)
    print("faiss %s (python3-faiss, Debian), %d-D, %d queries, median ms per query" % (faiss.__version__, D, nq))
    print("%10s  %-34s %9s %10s %10s %9s" % ("vectors", "index", "MB", "ms 1 thr", "ms 2 thr", "recall@1"))
    n = 10000
    while n <= max_n:
        xi = x[:n]
        qi = rng.integers(0, n // PER_ID, nq)
        q = ids[qi] + (0.9 / np.sqrt(D)) * rng.standard_normal((nq, D), dtype=np.float32)
        q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
        flat = faiss.IndexFlatIP(D)
        flat.add(xi)
        t1, exact = timed(flat, q, 1)
        t2, _ = timed(flat, q, 2)
        print("%10d  %-34s %9.1f %10.3f %10.3f %9.3f" % (n, "IndexFlatIP (float32, exact)", n * D * 4 / 1e6, t1, t2, 1.0))
        sq = faiss.IndexScalarQuantizer(D, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        sq.train(xi[: min(n, 100000)])
        sq.add(xi)
        t1, top = timed(sq, q, 1)
        t2, _ = timed(sq, q, 2)
        r1 = float(np.mean(top[:, 0] == exact[:, 0]))
        print("%10d  %-34s %9.1f %10.3f %10.3f %9.3f" % (n, "IndexScalarQuantizer 8-bit (exact)", n * D / 1e6, t1, t2, r1))
        del flat, sq
        n *= 10


if __name__ == "__main__":
    main()
