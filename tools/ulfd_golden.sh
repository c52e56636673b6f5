#!/usr/bin/env bash
# Writes $OUT (default $BUILD/golden/; `make test` makes it, never committed): ulfd_golden.bin: the test writes its 320x240 inputs (our JPEG
# decode + bilinear resize of two demo photos), ONNX Runtime runs models/ulfd.onnx on them
# (tools/ulfd_golden.js). onnxruntime-node is pinned and installed with --ignore-scripts into
# build/ort (ignored); its npm tarball carries the linux-x64 native library, so nothing but
# the npm registry is reached.
set -euo pipefail
ORT_VERSION=1.30.0
BUILD=${BUILD:-build}
OUT=${OUT:-$BUILD/golden/ulfd_golden.bin}
mkdir -p "$(dirname "$OUT")"
make -j2 "$BUILD/tests/golden/test_ulfd" >/dev/null
if [ ! -f "$BUILD/ort/node_modules/onnxruntime-node/package.json" ] ||
   ! grep -q "\"version\": \"$ORT_VERSION\"" "$BUILD/ort/node_modules/onnxruntime-node/package.json"; then
  mkdir -p "$BUILD/ort"
  npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$BUILD/ort" "onnxruntime-node@$ORT_VERSION"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BUILD/tests/golden/test_ulfd" --write-inputs "$tmp"
args=()
for f in "$tmp"/*.rgb; do n=$(basename "$f" .rgb); args+=("$n=$f"); done
NODE_PATH="$BUILD/ort/node_modules" node tools/ulfd_golden.js models/ulfd.onnx "$OUT" "${args[@]}"
