#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Merges the JSON of facehatch_side.py, tflite_bench.js, faceapi_bench.js, haar_bench.py,
# detectors_bench.js and ort_native_bench.js, and the record lines of xnn_bench (xnn.stdout),
# into one table: task | facehatch ms | peer | peer ms | ratio (peer / facehatch; above 1
# means facehatch is faster). All numbers are medians (see each script for what is timed).
#
#   /usr/bin/python3 report.py --dir RESULTS_DIR   (facehatch.json tflite.json faceapi.json haar.json
#                                                   detectors.json xnn.stdout ort_native.json)
import argparse
import datetime
import json
import os
import platform
import subprocess


def load(d, name):
    try:
        with open(os.path.join(d, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": "%s: %s" % (name, e)}


def load_records(d, name):
    """xnn_bench's stdout: `type key=value ...` per line -> list of dicts (type under "type")"""
    recs = []
    try:
        with open(os.path.join(d, name)) as f:
            for line in f:
                t = line.split()
                if not t or t[0].startswith("#"):
                    continue
                r = {"type": t[0]}
                for kv in t[1:]:
                    k, _, v = kv.partition("=")
                    r[k] = v
                recs.append(r)
    except OSError:
        pass
    return recs


def deb_version(pkg):
    try:
        v = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True).stdout.strip()
    except OSError:
        v = ""
    return v or "?"


def machine():
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        node = "?"
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    start = os.environ.get("BENCH_LOAD_START", "?")
    return "%s, %d cores, %s %s, Node %s; 1-min load average %s at the start, %.2f at the end" % (
        cpu, os.cpu_count(), platform.system(), platform.release(), node, start, load1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    fh, tfl, fa, hr, dt, on = (load(a.dir, n) for n in ("facehatch.json", "tflite.json", "faceapi.json", "haar.json",
                                                        "detectors.json", "ort_native.json"))
    xr = load_records(a.dir, "xnn.stdout")
    bench = fh.get("bench", {}) if isinstance(fh.get("bench"), dict) else {}
    cli = fh.get("cli", {})
    tms, fms, dms = tfl.get("ms", {}), fa.get("ms", {}), dt.get("ms", {})
    hsets = hr.get("sets", {})
    notes = []

    def b(row, col=0, per=1.0):
        v = bench.get(row)
        return None if not v or "error" in bench else v[col] / per

    def c(key, per=1.0):
        v = cli.get(key)
        return v["ms"] / per if v and "ms" in v else None

    TFL = "TFLite+XNNPACK wasm"
    FA = "face-api tfjs-wasm"
    CV = "OpenCV Haar"
    rows = []  # (task, fh ms, peer, peer ms)

    def row(task, f, peer, p):
        rows.append((task, f, peer, p))

    def haar_opencv(s, thr):
        st = hsets.get(s)
        if not st:
            return None
        return hr["cascade_load_ms"] + st["decode_grey_ms"] + st["detect_ms_" + thr]

    # --- nets, single thread ---
    row("MobileFaceNet, ms/face, 1 thread (peer: its batch of 2)", b("MobileFaceNet batch 1 (ms/face)"), TFL, tms.get("mfn_per_face_batch2"))
    if "mfn_per_face_batch4" in tms:  # only when the interpreter accepts the patched batch
        row("MobileFaceNet, ms/face, batch 4, 1 thread", b("MobileFaceNet batch 4 (ms/face)"), TFL, tms["mfn_per_face_batch4"])
    row("R-Net crop, ms/crop, 1 thread (fh batch 32, peer batch 1)", b("R-Net batch 32 (24x24)", 0, 32), TFL, tms.get("rnet_per_crop_batch1"))
    row("R-Net crop, ms/crop, batch 32, 1 thread", b("R-Net batch 32 (24x24)", 0, 32), TFL, tms.get("rnet_per_crop_batch32"))
    row("O-Net crop, ms/crop, 1 thread (fh batch 16, peer batch 1)", b("O-Net batch 16 (48x48)", 0, 16), TFL, tms.get("onet_per_crop_batch1"))
    row("O-Net crop, ms/crop, batch 16, 1 thread", b("O-Net batch 16 (48x48)", 0, 16), TFL, tms.get("onet_per_crop_batch16"))
    row("P-Net 576x384, 1 thread", b("P-Net 576x384 (sample1 level 0, min face 40)"), TFL, tms.get("pnet_576x384"))
    row("P-Net 320x240, 1 thread", b("P-Net 320x240"), TFL, tms.get("pnet_320x240"))
    row("P-Net 100x100, 1 thread", b("P-Net 100x100"), TFL, tms.get("pnet_100x100"))
    row("MTCNN sample1 min face 40, 1 thread (peer: MTCNN.kt in JS)", b("MTCNN only, sample1 (1920x1280, min face 40)"), TFL, tms.get("mtcnn_sample1_minface40"))
    # --- the second detectors' nets (issue 9): same files, their reference runtimes ---
    ORT, TFW = "ONNX Runtime native", "tfjs-wasm"
    row("ULFD net 320x240, 1 thread", b("ULFD 320x240 (the ONNX file's own input)"), ORT, dms.get("ulfd_320x240_ort_1thr"))
    row("ULFD net 320x240, 2 threads", b("ULFD 320x240 (the ONNX file's own input)", 1), ORT, dms.get("ulfd_320x240_ort_2thr"))
    row("FaceBoxes net 1024x683 (padded 1024x768), 1 thread", b("FaceBoxes 1024x768 (sample1 at 1024, padded)"), TFW,
        dms.get("faceboxes_1024x683_tfjs_wasm_1thr"))
    # --- native peers on facehatch's own nets (same inputs and threads; facehatch timed beside
    # XNNPACK in xnn_bench's process, its outputs the reference both peers were checked against) ---
    XNN, ORTN = "XNNPACK native", "ONNX Runtime native"
    xt = {(r["case"], int(r["threads"])): r for r in xr if r["type"] == "time"}
    ons = on.get("ms", {})
    for case, label in (("mfn_b1", "MobileFaceNet batch 1 (golden faces), ms/face"),
                        ("mfn_b16", "MobileFaceNet batch 16 (golden faces), ms/face"),
                        ("pnet_576x384", "P-Net 576x384 (sample1, pyramid level 0)"),
                        ("pnet_320x240", "P-Net 320x240 (sample1)")):
        for th in (1, 2):
            t = xt.get((case, th))
            per = float(t["per"]) if t else ons.get(case + "_per", 1)
            f = float(t["facehatch_ms"]) / per if t else None
            task = "%s, %d thread%s" % (label, th, "s" if th > 1 else "")
            row(task, f, XNN, float(t["xnnpack_ms"]) / per if t else None)
            o = ons.get("%s_%dthr" % (case, th))
            row(task, f, ORTN, o / per if o is not None else None)
            t8 = xt.get((case + "_int8", th))
            if t8:  # facehatch --precision int8 against the same f32 XNNPACK runtime
                row(task.replace(", ms/face", ", facehatch int8, ms/face"), float(t8["facehatch_ms"]) / per,
                    XNN + " (f32)", float(t8["xnnpack_ms"]) / per)
    # --- face-api ---
    row("face-api descriptor (dlib ResNet 150x150) vs MobileFaceNet, ms/face, 1 thr",
        b("MobileFaceNet batch 1 (ms/face)"), FA, fms.get("descriptor_per_face"))
    row("detector only, sample1, 1 thr: MTCNN vs SSD MobileNet v1", b("MTCNN only, sample1 (1920x1280, min face 40)"), FA, fms.get("ssd_detect_sample1"))
    row("detector only, sample1, 1 thr: MTCNN vs tiny face detector 416", b("MTCNN only, sample1 (1920x1280, min face 40)"), FA, fms.get("tiny_detect_sample1"))
    row("end to end per photo, 1 thr, decode excluded (peer: SSD+68lm+descr.)", b("per photo"), FA, fms.get("e2e_ssd_per_photo"))
    row("end to end per photo, 1 thr, decode excluded (peer: tiny+68lm+descr.)", b("per photo"), FA, fms.get("e2e_tiny_per_photo"))
    row("end to end per photo, fh all thr, decode excl. (peer: SSD, 1 thr)", b("per photo", 1), FA, fms.get("e2e_ssd_per_photo"))
    dec = fms.get("jpegjs_decode_per_photo")
    e2e_dec = fms["e2e_ssd_per_photo"] + dec if dec and fms.get("e2e_ssd_per_photo") else None
    det_dec = fms["ssd_detect_per_photo"] + dec if dec and fms.get("ssd_detect_per_photo") else None
    row("CLI detect --min-face 40, per photo, 1 thr, with decode (peer: SSD)", c("detect_mtcnn40_samples_1thr", 6), FA, det_dec)
    row("CLI detect --min-face 40, per photo, fh all thr, with decode (peer: SSD)", c("detect_mtcnn40_samples_all", 6), FA, det_dec)
    row("CLI embed (flip), per photo, 1 thr, with decode (peer: SSD e2e)", c("embed_mtcnn40_samples_1thr", 6), FA, e2e_dec)
    row("CLI embed --no-flip, per photo, 1 thr, with decode (peer: SSD e2e)", c("embed_noflip_mtcnn40_samples_1thr", 6), FA, e2e_dec)
    row("CLI embed (flip), per photo, fh all thr, with decode (peer: SSD e2e)", c("embed_mtcnn40_samples_all", 6), FA, e2e_dec)
    # --- Haar ---
    row("Haar, 6 demo photos, 1 thread, with load+decode", c("detect_haar_samples_1thr"), CV, haar_opencv("samples", "1thr"))
    row("Haar, 6 demo photos, all threads, with load+decode", c("detect_haar_samples_all"), CV, haar_opencv("samples", "default"))
    row("Haar, CMU+MIT 130 images, 1 thread, with load+decode", c("detect_haar_cmu_1thr"), CV, haar_opencv("cmu_mit", "1thr"))
    row("Haar, CMU+MIT 130 images, all threads, with load+decode", c("detect_haar_cmu_all"), CV, haar_opencv("cmu_mit", "default"))
    for s, label in (("samples", "6 demo photos"), ("cmu_mit", "CMU+MIT 130 images")):
        if s in hsets:
            row("Haar, %s, detectMultiScale only, 1 thread" % label, None, CV, hsets[s]["detect_ms_1thr"])

    # --- notes ---
    for name, d in (("facehatch", fh), ("tflite", tfl), ("face-api", fa), ("haar", hr), ("detectors", dt),
                    ("ONNX Runtime native", on)):
        if "error" in d and not (os.environ.get("ONLY") and "No such file" in d["error"]):
            notes.append("%s peer: %s" % (name, d["error"]))
    if "error" in bench:
        notes.append("facehatch bench failed: %s" % bench["error"])
    herr = cli.get("detect_haar_samples_1thr", {}).get("error")
    if herr:
        notes.append("facehatch Haar rows n/a: `facehatch detect --detector haar` failed: %s" % herr)
    if tfl.get("mtcnn_sample1"):
        m = tfl["mtcnn_sample1"]
        notes.append("TFLite JS MTCNN on sample1: %d levels, boxes after P/R/O-Net %s (golden %s), decoder %s" % (
            m["levels"], m["counts_after_stage"], m["golden_counts"], m["decoder"]))
        notes.append("TFLite MTCNN stages (ms, JS resize/crop glue included): P-Net %.1f, R-Net %.1f, O-Net %.1f" % (
            tms.get("mtcnn_sample1_stage_pnet", 0), tms.get("mtcnn_sample1_stage_rnet", 0), tms.get("mtcnn_sample1_stage_onet", 0)))
    if "mfn_max_abs_diff_vs_golden" in tfl:
        notes.append("TFLite MobileFaceNet vs golden embeddings: max abs diff %.2g" % tfl["mfn_max_abs_diff_vs_golden"])
    for n in tfl.get("notes", []) + fa.get("notes", []) + dt.get("notes", []):
        notes.append(n)
    if "descriptor_max_abs_diff_vs_golden" in fa:
        notes.append("face-api descriptors vs golden: max abs diff %.2g; faces per photo SSD %s, tiny %s" % (
            fa["descriptor_max_abs_diff_vs_golden"], fa.get("e2e_ssd_faces"), fa.get("e2e_tiny_faces")))
    # native peers: how equal the outputs were, and facehatch's own bench rows as a cross-check
    checks = [r for r in xr if r["type"] == "check"]
    if checks:
        worst = {}
        for r in checks:
            e = r["engine"]
            if float(r["rel"]) >= worst.get(e, (-1,))[0]:
                worst[e] = (float(r["rel"]), r)
        label = {"xnnpack": "XNNPACK native (1 and 2 thr)", "facehatch": "facehatch (own sessions, 1 and 2 thr)"}
        for e, (rel, r) in sorted(worst.items()):
            notes.append("%s vs facehatch 1 thread, worst of %d outputs: max |diff| %s (%s, out %s, %s thr), relative %.2g"
                         % (label.get(e, e), sum(1 for c in checks if c["engine"] == e), r["max_abs"], r["case"],
                            r["out"], r["threads"], rel))
        cmin = min(float(r["cos_min"]) for r in checks if r["case"].startswith("mfn"))
        notes.append("MobileFaceNet embeddings, lowest cosine to facehatch 1 thread's (XNNPACK, facehatch 2 thr): %.9f" % cmin)
    elif not (os.environ.get("ONLY") and os.environ.get("ONLY") != "native"):
        notes.append("XNNPACK native rows n/a: xnn_bench did not run or failed (see the run's log)")
    for r in xr:
        if r["type"] == "golden":
            notes.append("vs golden embeddings (TFLite wasm), %s %s: max |diff| %s, lowest cosine %s" % (
                r["case"], r["engine"], r["max_abs"], r["cos_min"]))
    if on.get("checks"):
        w = max(on["checks"], key=lambda c: c["rel"])
        notes.append("ONNX Runtime native vs facehatch 1 thread, worst of %d outputs: max |diff| %.3g (%s, out %d, %d thr), "
                     "relative %.2g; lowest cosine %.9f" % (len(on["checks"]), w["max_abs"], w["case"], w["out"],
                                                           w["threads"], w["rel"], min(c.get("cos_min", 1.0) for c in on["checks"])))
    if xt:
        notes.append("native rows: facehatch = nn_session_run timed in xnn_bench beside xnn_invoke_runtime (1 thread: "
                     "interleaved run by run; 2 threads: one engine's runs after the other's); ONNX Runtime = "
                     "session.run from Node, another process, NCHW")
        cross = []
        for name, case in (("MobileFaceNet batch 1", "mfn_b1"), ("MobileFaceNet batch 16", "mfn_b16"),
                           ("P-Net 576x384", "pnet_576x384"), ("P-Net 320x240", "pnet_320x240")):
            key = next((k for k in bench if k.startswith(name)), None)
            t1, t2 = xt.get((case, 1)), xt.get((case, 2))
            if key and t1 and t2 and "error" not in bench:
                per = float(t1["per"])
                cross.append("%s %.3g / %.3g (here %.3g / %.3g)" % (name, bench[key][0], bench[key][1],
                                                                   float(t1["facehatch_ms"]) / per, float(t2["facehatch_ms"]) / per))
        if cross:
            notes.append("facehatch bench --nets (pattern input, 1 / all thr, ms per face for MobileFaceNet): " + "; ".join(cross))
    notes.append("facehatch 'end to end' = detect + align + MobileFaceNet with the flipped face too "
                 "(2 nets per face; --no-flip: 1), face-api's = detect + 68 landmarks + 1 descriptor per face")
    if dec:
        notes.append("face-api 'with decode' rows add jpeg-js decoding (%.0f ms/photo); its model load is not timed, "
                     "facehatch CLI rows are whole-process wall time (start, model load, libjpeg decode, JSON out)" % dec)
    if hsets:
        notes.append("OpenCV Haar detections: demo photos %s, CMU+MIT %s; default threads = %s; cascade load %.1f ms" % (
            hsets.get("samples", {}).get("detections"), hsets.get("cmu_mit", {}).get("detections"),
            hr.get("default_threads"), hr.get("cascade_load_ms", 0)))
    for k in ("detect_haar_samples_1thr", "detect_haar_cmu_1thr"):
        v = cli.get(k, {})
        if "faces" in v:
            notes.append("facehatch Haar detections (%s): %d" % (k, v["faces"]))

    runtimes = []
    for d in (tfl, fa, hr):
        if "runtime" in d:
            runtimes.append("%s: %s" % (d["peer"], d["runtime"]))
    for k in ("runtime_ort", "runtime_tfjs"):
        if k in dt:
            runtimes.append("detectors: %s" % dt[k])
    if xr:
        kern = next((r.get("kernels") for r in xr if r["type"] == "net"), "?")
        runtimes.append("XNNPACK native: Debian libxnnpack0 %s (subgraph API, f32, pthreadpool); facehatch kernels %s" % (
            deb_version("libxnnpack0"), kern))
    if "runtime" in on:
        runtimes.append("ONNX Runtime native: %s" % on["runtime"])

    def fmt(v, w):
        return ("n/a" if v is None else "%.3f" % v if v < 10 else "%.1f" % v).rjust(w)

    out = []
    out.append("facehatch vs peers, %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    out.append("machine: %s" % machine())
    out.append("runs: facehatch bench --runs %s; CLI %s runs (Haar %s); TFLite %s; face-api %s (end to end %s); OpenCV %s; "
               "native (xnn_bench / ONNX Runtime) %s / %s" % (
        fh.get("bench_runs"), fh.get("runs"), fh.get("haar_runs"), tfl.get("runs"), fa.get("runs"), fa.get("e2e_runs"), hr.get("runs"),
        next((r.get("runs") for r in xr if r["type"] == "time"), None), on.get("runs")))
    for r in runtimes:
        out.append("  " + r)
    out.append("ratio = peer ms / facehatch ms (above 1: facehatch faster); all medians")
    out.append("")
    W = max(len(r[0]) for r in rows)
    out.append("%-*s %12s  %-20s %12s %8s" % (W, "task", "facehatch ms", "peer", "peer ms", "ratio"))
    out.append("-" * (W + 59))
    for task, f, peer, p in rows:
        if p is None and os.environ.get("ONLY"):  # a partial run: only the peers it ran
            continue
        ratio = "n/a" if f is None or p is None or f <= 0 else "%.2fx" % (p / f)
        out.append("%-*s %s  %-20s %s %8s" % (W, task, fmt(f, 12), peer, fmt(p, 12), ratio))
    out.append("")
    out.append("notes:")
    for n in notes:
        out.append("  - " + n)
    text = "\n".join(out) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
