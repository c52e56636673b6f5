// SPDX-License-Identifier: MIT
// libFuzzer harness: the Haar cascade XML reader (src/haar: haar_xml.c, haar_load.c).
// haar_load reads a file; this harness does what it does after the read (reject NUL
// bytes, NUL-terminate, parse the XML, build the cascade) on the input in memory, and a
// cascade that loads is run over a small grey image so that a feature or tree the loader
// let through is evaluated too.
// fuzz: -max_len=16384
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "haar/haar.h"
#include "haar/haar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (memchr(data, 0, size)) return 0;   // haar_load: "binary data (a NUL byte)"
    char *text = fh_malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct haar_xml x;
    struct haar_cascade *c = NULL;
    if (!haar_xml_parse(&x, text, "fuzz")) {
        (void)haar_cascade_from_xml(&x, "fuzz", &c);
        haar_xml_free(&x);
    }
    fh_free(text);
    if (!c) return 0;
    struct img im;
    if (!img_alloc(&im, 40, 32, 1)) {
        for (size_t i = 0; i < (size_t)40 * 32; i++) im.data[i] = (uint8_t)(i * 37 + size);
        struct haar_params p = haar_params_default();
        struct haar_det *d;
        int n;
        if (!haar_detect(c, &im, &p, &d, &n)) fh_free(d);
        img_free(&im);
    }
    haar_free(c);
    return 0;
}
