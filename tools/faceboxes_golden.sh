#!/usr/bin/env bash
# Writes $OUT (default $BUILD/golden/; `make test` makes it, never committed): faceboxes_golden.bin: the test writes its 320x240 inputs (our JPEG
# decode + bilinear resize of two demo photos), TensorFlow.js runs models/faceboxes on them
# (tools/faceboxes_golden.js: tfjs-core + tfjs-converter + the pure-JavaScript cpu backend,
# pinned, installed with --ignore-scripts into build/tfjs, ignored); nothing but the npm
# registry is reached.
set -euo pipefail
TFJS_VERSION=4.22.0
BUILD=${BUILD:-build}
OUT=${OUT:-$BUILD/golden/faceboxes_golden.bin}
mkdir -p "$(dirname "$OUT")"
make -j2 "$BUILD/tests/golden/test_faceboxes" >/dev/null
if [ ! -f "$BUILD/tfjs/node_modules/@tensorflow/tfjs-core/package.json" ] ||
   ! grep -q "\"version\": \"$TFJS_VERSION\"" "$BUILD/tfjs/node_modules/@tensorflow/tfjs-core/package.json"; then
  mkdir -p "$BUILD/tfjs"
  npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$BUILD/tfjs" \
    "@tensorflow/tfjs-core@$TFJS_VERSION" "@tensorflow/tfjs-converter@$TFJS_VERSION" "@tensorflow/tfjs-backend-cpu@$TFJS_VERSION"
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$BUILD/tests/golden/test_faceboxes" --write-inputs "$tmp"
args=()
for f in "$tmp"/*.rgb; do n=$(basename "$f" .rgb); args+=("$n=$f"); done
NODE_PATH="$BUILD/tfjs/node_modules" node tools/faceboxes_golden.js models/faceboxes "$OUT" 320 240 "${args[@]}" 2>&1 |
  grep -v -e '^=*$' -e 'tfjs-node' -e 'Hi, looks like' -e 'model.execute()'
