// SPDX-License-Identifier: MIT
// libFuzzer harness: the TensorFlow.js graph-model reader (src/nn/import_tfjs.c: model.json
// through cJSON, the weights manifest, quantised shards, the graph import and its cuts).
// The reader takes a path and reads the shards beside it, so an input is a small container
// of files — records of [u8 name length][name][u32 LE size][bytes], model.json first — that
// is written into a private temporary folder before each load (names limited to
// [A-Za-z0-9._-], at most 8 files; a malformed container is skipped). A net that loads is
// planned and run on a small input (fuzz_net.h). Seeds: tests/fuzz/corpus/tfjs, made by
// tests/fuzz/make_tfjs_seeds.py.
// fuzz: -max_len=65536
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char written[8][40];
static int n_written;

static int name_ok(const char *s, size_t n) {
    if (!n || n > 32 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_tfjs_XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    for (int i = 0; i < n_written; i++) { // the previous input's files
        snprintf(path, sizeof path, "%s/%s", dir, written[i]);
        unlink(path);
    }
    n_written = 0;
    size_t at = 0;
    while (at < size && n_written < 8) {
        size_t nl = data[at++];
        uint32_t len;
        if (at + nl + 4 > size || !name_ok((const char *)data + at, nl)) break;
        char name[40];
        memcpy(name, data + at, nl), name[nl] = 0, at += nl;
        memcpy(&len, data + at, 4), at += 4;
        if (len > size - at) break;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        if (!f) break;
        size_t put = fwrite(data + at, 1, len, f);
        if (fclose(f) || put != len) break;
        memcpy(written[n_written++], name, nl + 1);
        at += len;
    }
    if (!n_written || strcmp(written[0], "model.json")) return 0;
    snprintf(path, sizeof path, "%s/model.json", dir);
    struct nn_net *net;
    if (nn_net_load_tfjs(path, NULL, &net)) return 0;
    fuzz_run_net(net);
    return 0;
}
