// SPDX-License-Identifier: MIT
// libFuzzer harness: image decoding through img_decode_mem, the one entry point every
// photo and upload reaches (JPEG, PNG, HEIF/HEIC/AVIF, WebP are sniffed from the bytes,
// with the real limits of base/limits.h). One harness rather than one per format: the
// sniffing is itself code under test, a mutation may turn one format into another, and
// the seed corpus holds a small file of each format so every backend is reached. The
// codecs themselves (libjpeg-turbo, libpng, libheif, libwebp) are Debian's, not
// instrumented: coverage feedback comes from our wrappers (header and limit checks,
// EXIF orientation, WebP chunk walking), crashes anywhere are still caught.
// libheif has no frame pointers: full unwinding at malloc lets lsan.supp see its frames.
// fuzz: -max_len=65536
// asan: fast_unwind_on_malloc=0
#include <stddef.h>
#include <stdint.h>

#include "img/img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct img im;
    if (img_decode_mem(data, size, &im)) {
        if (im.data) __builtin_trap();   // on failure *out is empty
        return 0;
    }
    // a decoded image must be what the header says: touch the last pixel
    if (im.w < 1 || im.h < 1 || im.c != 3 || im.stride < (size_t)im.w * 3) __builtin_trap();
    volatile uint8_t last = im.data[(size_t)(im.h - 1) * im.stride + (size_t)im.w * 3 - 1];
    (void)last;
    img_free(&im);
    return 0;
}
