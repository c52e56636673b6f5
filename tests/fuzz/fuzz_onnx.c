// SPDX-License-Identifier: MIT
// libFuzzer harness: the ONNX reader (src/nn/import_onnx.c: our protobuf wire reader, the
// NCHW -> NHWC layout mapping, constant folding of shape arithmetic) from memory. Models are
// pinned by sha256 before they are parsed at run time (pipeline), so damaged files never
// reach the reader there; this harness calls nn_net_load_onnx_mem directly to fuzz the
// reader itself. A net that loads is planned and run on a small input (fuzz_net.h).
// The seed is the real ULFD RFB-320 (1.2 MB, fetched and sha256-checked by `make models`).
// fuzz: -max_len=1300000
// seeds: models/ulfd.onnx
#include <stddef.h>
#include <stdint.h>

#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nn_net *net;
    if (nn_net_load_onnx_mem(data, size, NULL, &net)) return 0;
    fuzz_run_net(net);
    return 0;
}
