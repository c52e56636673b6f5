#!/bin/sh
# SPDX-License-Identifier: MIT
# facehatch side by side with peers on the same images (`make bench-peers`; not run by tests):
#   (a) OpenCV's Haar cascade (Debian python3-opencv, /usr/bin/python3)      haar_bench.py
#   (b) TFLite + XNNPACK compiled to WebAssembly (@tensorflow/tfjs-tflite),
#       MTCNN and MobileFaceNet, under Node                                    tflite_bench.js
#   (c) @vladmandic/face-api on @tensorflow/tfjs with the wasm backend        faceapi_bench.js
#   (d) ULFD in ONNX Runtime's native engine (npm onnxruntime-node, the same
#       ONNX file) and FaceBoxes in tfjs-wasm (the same graph model)           detectors_bench.js
#   (e) native peers on facehatch's own MobileFaceNet and P-Net, same inputs, 1 and 2 threads,
#       outputs checked equal to facehatch's before any timing:
#       XNNPACK native (Debian libxnnpack-dev; the same fused graph and weights built with
#       its subgraph API; facehatch timed in the same process)               xnnpack/xnn_bench.c
#       ONNX Runtime native (onnxruntime-node) on ONNX files made from the same weights
#       (xnn_bench --export, then python3-onnx)            onnx_from_facehatch.py, ort_native_bench.js
# and facehatch itself (`facehatch bench` + timed CLI runs)                  facehatch_side.py
# then one table (report.py), printed and saved to bench/peers/last_run.txt.
#
# The npm packages are pinned by the package.json + package-lock.json in tflite/ and
# faceapi/ (two folders: tfjs-tflite pins tfjs-core 4.9, face-api wants tfjs 4.22) and
# installed with `npm ci --ignore-scripts` on first use only (node_modules/ is ignored).
#
# Knobs (environment): RUNS (net-level runs, default 9), E2E_RUNS (face-api end-to-end
# runs per photo, 3), CLI_RUNS (facehatch CLI runs, 5), HAAR_RUNS (Haar passes, 3),
# QUICK=1 (1-3 runs of everything: a smoke test), ONLY=detectors (only (d) and the nets table
# of `facehatch bench --nets`: a few minutes), ONLY=native (only (e) and the nets table of
# `facehatch bench --nets`: a minute or two; table in bench/peers/last_run_native.txt),
# TOL (the native peers' equality check: max |diff| <= TOL * max |facehatch|, 1e-4),
# FACEHATCH (binary, build/facehatch), BUILD (build folder, build), DATA (../shared/data),
# GOLDEN (../shared/golden).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

RUNS=${RUNS:-9}
E2E_RUNS=${E2E_RUNS:-3}
CLI_RUNS=${CLI_RUNS:-5}
HAAR_RUNS=${HAAR_RUNS:-3}
if [ "${QUICK:-0}" = 1 ]; then RUNS=3 E2E_RUNS=1 CLI_RUNS=1 HAAR_RUNS=1; fi
BUILD=${BUILD:-build}
FACEHATCH=${FACEHATCH:-$BUILD/facehatch}
XNN_BENCH=$BUILD/bench/xnn_bench
TOL=${TOL:-1e-4}
DATA=${DATA:-../shared/data}
GOLDEN=${GOLDEN:-../shared/golden}
PY=/usr/bin/python3 # Debian's, with cv2 (a pyenv python3 on PATH may lack it)
CMU=$DATA/cmu_mit_frontal/test_jpg

say() { echo "bench-peers: $*" >&2; }
die() { say "$*"; exit 1; }

command -v node >/dev/null || die "node not found (Node 20 was used)"
command -v npm >/dev/null || die "npm not found"
if [ "${ONLY:-}" != native ] && ! "$PY" -c 'import cv2' 2>/dev/null; then die "$PY with cv2 needed (Debian python3-opencv)"; fi
[ -x "$FACEHATCH" ] || { say "building facehatch"; make -j2 >&2; }
if [ ! -f models/MobileFaceNet.tflite ] || [ ! -f models/samples/sample6.jpg ]; then
    say "fetching models"
    make models >&2
fi
[ -d "$GOLDEN/tflite" ] || die "golden data not found at $GOLDEN"
[ -d "$CMU" ] || { say "no CMU+MIT images at $CMU: Haar rows on them skipped"; CMU=; }

# install the pinned packages of one folder once (reinstall only when its lock changes)
install() {
    d=$here/$1
    stamp=$d/node_modules/.facehatch-lock-sha256
    want=$(sha256sum "$d/package-lock.json" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    say "installing $1 peer packages (npm ci)"
    (cd "$d" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2) || return 1
    echo "$want" >"$stamp"
}
if [ "${ONLY:-}" != native ]; then
    install tflite || die "npm ci failed in bench/peers/tflite"
    install faceapi || die "npm ci failed in bench/peers/faceapi"
fi
# onnxruntime-node, pinned as tools/ulfd_golden.sh pins it (its tarball carries the native
# linux-x64 library; --ignore-scripts: nothing but the npm registry is reached)
ORT_VERSION=1.30.0
ORT_DIR=$BUILD/ort
if ! grep -q "\"version\": \"$ORT_VERSION\"" "$ORT_DIR/node_modules/onnxruntime-node/package.json" 2>/dev/null; then
    say "installing onnxruntime-node@$ORT_VERSION"
    mkdir -p "$ORT_DIR"
    npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$ORT_DIR" "onnxruntime-node@$ORT_VERSION" >&2 ||
        say "npm install onnxruntime-node failed: its rows will say n/a"
fi

BENCH_LOAD_START=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
export BENCH_LOAD_START
t_start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
log=$tmp/log

# run one step; a failing peer leaves its JSON out and the table says n/a
step() {
    name=$1
    shift
    say "$name ..."
    t0=$(date +%s)
    if "$@" >"$tmp/$name.stdout" 2>"$log.$name"; then
        say "$name done in $(($(date +%s) - t0)) s"
    else
        say "$name FAILED (exit $?); last lines of its log:"
        tail -n 5 "$log.$name" >&2
        rm -f "$tmp/$name.json" "$tmp/$name.stdout"
    fi
}

detectors_step() {
    step detectors env NODE_PATH="$root/$ORT_DIR/node_modules:$here/faceapi/node_modules" \
        node "$here/detectors_bench.js" --models models --runs "$RUNS" --out "$tmp/detectors.json"
}
# (e): xnn_bench checks XNNPACK (and facehatch at 2 threads) against facehatch at 1 thread,
# exports the inputs, facehatch's outputs and the fused graphs to $tmp/native, then times;
# the ONNX files are built from that export and ort_native_bench.js checks and times them.
# A mismatch fails its step before any timing, and its rows say n/a.
native_steps() {
    nat=$tmp/native
    mkdir -p "$nat"
    if "${MAKE:-make}" -s BUILD="$BUILD" "$XNN_BENCH" >"$log.make_xnn" 2>&1; then
        step xnn "$XNN_BENCH" --models models --golden "$GOLDEN" --runs "$((RUNS > 101 ? 101 : RUNS))" \
            --tol "$TOL" --export "$nat"
    else
        say "xnn_bench did not build (needs libxnnpack-dev libpthreadpool-dev: tools/install_deps.sh); native rows n/a:"
        tail -n 5 "$log.make_xnn" >&2
    fi
    if [ ! -f "$nat/cases.txt" ]; then
        say "no export from xnn_bench: ONNX Runtime native rows n/a"
    elif ! "$PY" -c 'import onnx' 2>/dev/null; then
        say "$PY without onnx (Debian python3-onnx): ONNX Runtime native rows n/a"
    else
        step onnx "$PY" "$here/onnx_from_facehatch.py" --dir "$nat"
        if [ -f "$nat/mfn.onnx" ] && [ -f "$nat/pnet.onnx" ]; then
            step ort_native env NODE_PATH="$root/$ORT_DIR/node_modules" \
                node "$here/ort_native_bench.js" --dir "$nat" --runs "$RUNS" --tol "$TOL" --out "$tmp/ort_native.json"
        fi
    fi
}
# ONLY=native / ONLY=detectors: facehatch's net rows, then just that part, its own table
case "${ONLY:-}" in
native | detectors)
    step facehatch "$PY" "$here/facehatch_side.py" --bin "$FACEHATCH" --samples models/samples --nets-only \
        --bench-runs "$((RUNS > 64 ? 64 : RUNS))" --out "$tmp/facehatch.json"
    if [ "$ONLY" = native ]; then native_steps; else detectors_step; fi
    ONLY=$ONLY "$PY" "$here/report.py" --dir "$tmp" --out "$here/last_run_$ONLY.txt"
    say "table saved to bench/peers/last_run_$ONLY.txt ($(($(date +%s) - t_start)) s in all)"
    exit 0
    ;;
esac

step haar "$PY" "$here/haar_bench.py" --samples models/samples ${CMU:+--cmu "$CMU"} --runs "$HAAR_RUNS" \
    --dump-rgb "$tmp/rgb" --out "$tmp/haar.json"
rgbargs='' faargs=''
if [ -f "$tmp/rgb/sizes.json" ]; then
    rgbargs="--rgb $tmp/rgb/sample1.rgb --size $("$PY" -c "import json,sys; print('%dx%d' % tuple(json.load(open(sys.argv[1]))['sample1']))" "$tmp/rgb/sizes.json")"
    faargs="--rgb-dir $tmp/rgb"
fi
# shellcheck disable=SC2086 # word splitting of the optional args is wanted
step tflite node "$here/tflite_bench.js" --models models --golden "$GOLDEN" --runs "$RUNS" $rgbargs --out "$tmp/tflite.json"
# shellcheck disable=SC2086
step faceapi node "$here/faceapi_bench.js" --models models --golden "$GOLDEN" --runs "$RUNS" --e2e-runs "$E2E_RUNS" \
    $faargs --out "$tmp/faceapi.json"
step facehatch "$PY" "$here/facehatch_side.py" --bin "$FACEHATCH" --samples models/samples ${CMU:+--cmu "$CMU"} \
    --runs "$CLI_RUNS" --haar-runs "$HAAR_RUNS" --bench-runs "$((RUNS > 64 ? 64 : RUNS))" --out "$tmp/facehatch.json"
detectors_step
native_steps

"$PY" "$here/report.py" --dir "$tmp" --out "$here/last_run.txt"
say "table saved to bench/peers/last_run.txt ($(($(date +%s) - t_start)) s in all)"
