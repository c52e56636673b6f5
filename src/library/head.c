// SPDX-License-Identifier: MIT
// library/head: plain-C inference of the stored trained heads (see head.h).
#include <math.h>

#include "base/base.h"
#include "library/head.h"

int lib_head_check(const struct lib_head *h) {
    if (!h) return fh_fail(FH_E_FORMAT, "head: none");
    if (h->version != LIB_HEAD_VERSION) return fh_fail(FH_E_FORMAT, "head: format %d (this build reads %d)", h->version, LIB_HEAD_VERSION);
    if (h->dim < 1 || h->dim > LIB_HEAD_MAX_DIM || h->hidden < 0 || h->hidden > LIB_HEAD_MAX_HIDDEN)
        return fh_fail(FH_E_FORMAT, "head: %d features, %d hidden units", h->dim, h->hidden);
    if (!h->w1 || !h->b1 || (h->hidden && (!h->alpha || !h->w2))) return fh_fail(FH_E_FORMAT, "head: weights missing");
    if (!isfinite(h->threshold) || !isfinite(h->b2)) return fh_fail(FH_E_FORMAT, "head: threshold or bias not finite");
    return FH_OK;
}

float lib_head_logit(const struct lib_head *h, const float *x) {
    int rows = h->hidden ? h->hidden : 1;
    double out = h->hidden ? h->b2 : 0;
    for (int j = 0; j < rows; j++) {
        const float *w = h->w1 + (size_t)j * (size_t)h->dim;
        double a = h->b1[j];
        for (int k = 0; k < h->dim; k++) a += (double)w[k] * x[k];
        if (!h->hidden) return (float)a;
        if (a < 0) a *= h->alpha[j];
        out += (double)h->w2[j] * a;
    }
    return (float)out;
}

int lib_head_positive(const struct lib_head *h, const float *x) { return lib_head_logit(h, x) >= h->threshold; }

// "%.8e" keeps every bit of a float (9 significant digits) and is a valid C literal with "f"
static void write_array(FILE *w, const char *name, const float *v, size_t n) {
    fprintf(w, "static const float %s[%zu] = {\n", name, n);
    for (size_t i = 0; i < n; i++) fprintf(w, "%s%.8ef,%s", i % 6 ? " " : "    ", (double)v[i], i % 6 == 5 || i + 1 == n ? "\n" : "");
    fprintf(w, "};\n");
}

int lib_head_write_calib(FILE *w, const struct lib_head *h) {
    int rc = lib_head_check(h);
    if (rc) return rc;
    size_t rows = h->hidden ? (size_t)h->hidden : 1;
    fprintf(w, "// \"not a face\" head (format %d, library/calib_head.h): %s on the embedding; \"not a face\"\n"
               "// when the logit >= LIB_JUNK_HEAD_THRESHOLD (the sphere above is the fallback)\n",
            LIB_HEAD_VERSION, h->hidden ? "MLP" : "logistic regression");
    fprintf(w, "#define LIB_JUNK_HEAD_VERSION %d\n#define LIB_JUNK_HEAD_HIDDEN %d\n", LIB_HEAD_VERSION, h->hidden);
    fprintf(w, "#define LIB_JUNK_HEAD_THRESHOLD %.8ef\n#define LIB_JUNK_HEAD_B2 %.8ef\n", (double)h->threshold, (double)h->b2);
    write_array(w, "lib_junk_head_w1", h->w1, rows * (size_t)h->dim);
    write_array(w, "lib_junk_head_b1", h->b1, rows);
    if (h->hidden) {
        write_array(w, "lib_junk_head_alpha", h->alpha, rows);
        write_array(w, "lib_junk_head_w2", h->w2, rows);
    }
    fprintf(w, "\n");
    return ferror(w) ? fh_fail(FH_E_IO, "head: writing the calibration failed") : FH_OK;
}
