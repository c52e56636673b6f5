// SPDX-License-Identifier: MIT
// libFuzzer harness: the TFLite flatbuffer reader (src/nn/import_tflite.c) from memory.
// At run time models are pinned by sha256 before they are parsed (pipeline), so damaged
// files never reach the reader there; this harness calls nn_net_load_tflite_mem directly
// to fuzz the parser itself. A net that loads is also planned and run on a small input
// (input side capped at 16) as the unit test does, so shape inference and the kernels
// see what the reader let through.
// The seed is the real P-Net (32 KB, fetched and sha256-checked by `make models`), not a
// copy in tests/fuzz/corpus: run.sh adds the files a "// seeds:" line names.
// fuzz: -max_len=65536
// seeds: models/pnet.tflite
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nn/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nn_net *net;
    if (nn_net_load_tflite_mem(data, size, NULL, &net)) return 0;
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    size_t cnt = 1;
    for (int i = 0; i < r; i++) {
        if (i == 0) dims[i] = 1;
        else if (i < 3 && r == 4 && dims[i] > 16) dims[i] = 16;
        if (dims[i] < 1 || dims[i] > 1024) cnt = 0;
        cnt *= (size_t)(dims[i] > 0 ? dims[i] : 0);
    }
    struct nn_session *s;
    if (r >= 1 && cnt > 0 && cnt <= (1u << 16) && !nn_session_new(net, NULL, &s)) {
        if (!nn_session_reshape(s, dims, r)) {
            memset(nn_session_input(s, 0), 0, cnt * sizeof(float));
            (void)nn_session_run(s);
        }
        nn_session_free(s);
    }
    nn_net_free(net);
    return 0;
}
