// SPDX-License-Identifier: MIT
// libFuzzer harness: the multipart/form-data parser (src/server/multipart.c). Input
// layout: the first line (up to '\n', at most 255 bytes) is the Content-Type header value
// given to srv_multipart_boundary; the rest is the body given to srv_multipart_parse with
// the upload handler's part limit. Each part's filename then goes through
// srv_sanitize_name and its bytes through srv_sniff_image, as the upload handler does.
// Self-contained on purpose: when the parser is replaced, only this file changes.
// fuzz: -max_len=16384
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    if (!nl) return 0;
    char ct[256];
    size_t cl = (size_t)(nl - data);
    memcpy(ct, data, cl);
    ct[cl] = 0;   // a NUL inside the header just ends it early, as a C string would
    char boundary[80];   // the handler's size
    if (srv_multipart_boundary(ct, boundary, sizeof boundary)) return 0;
    const uint8_t *body = nl + 1;
    size_t n = size - cl - 1;
    struct srv_part *parts;
    int np;
    if (srv_multipart_parse(body, n, boundary, SRV_MAX_FILES_PER_REQUEST, &parts, &np)) return 0;
    volatile size_t sink = 0;
    for (int i = 0; i < np; i++) {
        // views must lie inside the body
        if (parts[i].len > n || parts[i].data < body || parts[i].data + parts[i].len > body + n)
            __builtin_trap();
        char name[SRV_NAME_MAX + 1];
        srv_sanitize_name(parts[i].filename, name, sizeof name);
        sink += strlen(name) + strlen(parts[i].name);
        const char *kind = srv_sniff_image(parts[i].data, parts[i].len);
        sink += kind ? 1 : 0;
    }
    (void)sink;
    fh_free(parts);
    return 0;
}
