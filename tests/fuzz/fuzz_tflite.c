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

#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nn_net *net;
    if (nn_net_load_tflite_mem(data, size, NULL, &net)) return 0;
    fuzz_run_net(net);
    return 0;
}
