#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# facehatch's side of bench/peers: parses `build/facehatch bench` and times the CLI over
# the same images as the peers (wall time of the whole process: start, model or cascade
# load, JPEG decode (libjpeg-turbo), detection / embedding, JSON output), median of
# --runs runs, at --threads 1 and at the default (all cores).
#
#   /usr/bin/python3 facehatch_side.py --bin build/facehatch --samples DIR --cmu DIR
#                                      [--runs N] [--bench-runs N] [--out FILE]
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import time


def run_bench(binary, runs, nets_only=False):
    """`facehatch bench` table -> {row name: [1 thr ms, all thr ms]}"""
    p = subprocess.run([binary, "bench", "--runs", str(runs)] + (["--nets"] if nets_only else []),
                       capture_output=True, text=True)
    if p.returncode:
        return {"error": (p.stderr or p.stdout).strip()[:300]}, p.stdout
    rows = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^\s*(\S.*?)\s{2,}([\d.]+)\s+([\d.]+)(?:\s+[\d.]+x)?\s*$", line)
        if m:
            rows[m.group(1).strip()] = [float(m.group(2)), float(m.group(3))]
    return rows, p.stdout


def time_cli(argv, runs, warm=1):
    """median wall ms of a CLI run, faces found; or {"error": ...} when it fails"""
    t = []
    faces = 0
    for i in range(runs + warm):  # warm-up runs (page cache) are not counted
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True)
        dt = (time.perf_counter() - t0) * 1e3
        if p.returncode:
            msg = (p.stderr.strip().splitlines() or ["exit status %d" % p.returncode])[-1]
            return {"error": msg[:200], "exit": p.returncode}
        if i >= warm:
            t.append(dt)
        faces = 0
        for line in p.stdout.splitlines():
            try:
                faces += len(json.loads(line).get("faces", []))
            except ValueError:
                pass
    return {"ms": statistics.median(t), "faces": faces, "images": len([a for a in argv if a.endswith(".jpg")])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/facehatch")
    ap.add_argument("--samples", required=True)
    ap.add_argument("--cmu")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--haar-runs", type=int, default=3)
    ap.add_argument("--bench-runs", type=int, default=9)
    ap.add_argument("--nets-only", action="store_true", help="`facehatch bench --nets` only, no CLI timing")
    ap.add_argument("--out")
    a = ap.parse_args()
    samples = [os.path.join(a.samples, "sample%d.jpg" % k) for k in range(1, 7)]
    cmu = sorted(glob.glob(os.path.join(a.cmu, "*.jpg"))) if a.cmu else []
    res = {"bin": a.bin, "runs": a.runs, "haar_runs": a.haar_runs, "bench_runs": a.bench_runs}
    res["bench"], res["bench_stdout"] = run_bench(a.bin, a.bench_runs, a.nets_only)
    cli = {}
    for th_label, th in () if a.nets_only else (("1thr", ["--threads", "1"]), ("all", [])):
        cli["detect_mtcnn40_samples_" + th_label] = time_cli([a.bin, "detect", "--min-face", "40"] + th + samples, a.runs)
        cli["embed_mtcnn40_samples_" + th_label] = time_cli([a.bin, "embed", "--min-face", "40"] + th + samples, a.runs)
        cli["embed_noflip_mtcnn40_samples_" + th_label] = time_cli(
            [a.bin, "embed", "--no-flip", "--min-face", "40"] + th + samples, a.runs)
        # Haar: no warm-up pass (haar_bench.py has just read the same files)
        h = cli["detect_haar_samples_" + th_label] = time_cli(
            [a.bin, "detect", "--detector", "haar"] + th + samples, a.haar_runs, warm=0)
        if cmu:
            cli["detect_haar_cmu_" + th_label] = h if "error" in h else \
                time_cli([a.bin, "detect", "--detector", "haar"] + th + cmu, a.haar_runs, warm=0)
    res["cli"] = cli
    s = json.dumps(res, indent=1)
    if a.out:
        open(a.out, "w").write(s + "\n")
    print(s)


if __name__ == "__main__":
    main()
