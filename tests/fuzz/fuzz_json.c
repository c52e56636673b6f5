// SPDX-License-Identifier: MIT
// libFuzzer harness: the JSON body reader (src/server/json.c, srv_json_parse), which the
// HTTP handlers run on every JSON request body. The input is the body as received (not
// NUL-terminated); a parsed document is queried the way the handlers query it and freed.
// Self-contained on purpose: when the reader is replaced, only this file changes.
// fuzz: -max_len=4096
#include <stddef.h>
#include <stdint.h>

#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct srv_jdoc d;
    if (srv_json_parse((const char *)data, size, &d)) return 0;
    static const char *const keys[] = {"name", "hidden", "person_id", "face_id", "", "x"};
    volatile double sink = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const struct srv_jmember *m = srv_json_get(&d, keys[i]);
        if (m && m->type == SRV_J_STR && m->str) sink += (double)m->str[0];
        if (m && m->type == SRV_J_NUM) sink += m->num;
    }
    (void)sink;
    srv_json_free(&d);
    return 0;
}
