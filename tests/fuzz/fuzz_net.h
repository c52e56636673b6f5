// SPDX-License-Identifier: MIT
// For the model-reader harnesses (fuzz_tflite, fuzz_fhm, fuzz_onnx, fuzz_tfjs): a net that loaded is planned at
// batch 1 (input side capped at 16; 8 where the file leaves it open) and run on zeros, so shape inference and the kernels
// see what the reader let through; then freed.
#ifndef FH_FUZZ_NET_H
#define FH_FUZZ_NET_H

#include <string.h>

#include "nn/nn.h"

static inline void fuzz_run_net(struct nn_net *net) {
    int dims[FH_MAX_DIMS], r = nn_net_input_shape(net, 0, dims);
    size_t cnt = 1;
    for (int i = 0; i < r; i++) {
        if (i == 0) dims[i] = 1;
        else if (i < 3 && r == 4 && dims[i] > 16) dims[i] = 16;
        else if (i < 3 && r == 4 && dims[i] < 1) dims[i] = 8; // a size the file leaves open
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
}

#endif
