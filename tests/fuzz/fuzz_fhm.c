// SPDX-License-Identifier: MIT
// libFuzzer harness: our model file reader (src/nn/model_file.c) from memory. Each input
// is tried as is, then with its trailing sha256 made valid again, so mutations get past
// the checksum into the header, metadata, graph and weights checks. A net that loads is
// planned and run on a small input (fuzz_net.h), as fuzz_tflite does.
// Seeds: tests/fuzz/corpus/fhm, tiny hand-made nets written by make_fhm_seeds.py (no
// model weights).
// fuzz: -max_len=16384
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_run(struct nn_net *net) {
    const char *k, *v;
    for (int i = 0; nn_net_meta_at(net, i, &k, &v); i++) (void)nn_net_meta(net, k);
    fuzz_run_net(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nn_net *net;
    if (!nn_net_load_mem(data, size, NULL, &net)) try_run(net);
    if (size < 32 || size > (1u << 20)) return 0;
    uint8_t *b = fh_malloc(size);
    if (!b) return 0;
    memcpy(b, data, size);
    fh_sha256(b, size - 32, b + size - 32);
    if (!nn_net_load_mem(b, size, NULL, &net)) try_run(net);
    fh_free(b);
    return 0;
}
