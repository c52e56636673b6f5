// SPDX-License-Identifier: MIT
// library/head: plain-C inference of the stored trained heads (see head.h).
#include <math.h>
#include <string.h>

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

int lib_head_write_calib(FILE *w, const char *name, const struct lib_head *h) {
    int rc = lib_head_check(h), blur = name && !strcmp(name, "blur");
    if (rc) return rc;
    if (!blur && !(name && !strcmp(name, "junk"))) return fh_fail(FH_E_ARG, "head: no stored head named %s", name ? name : "(null)");
    const char *M = blur ? "BLUR" : "JUNK";
    char arr[64];
    size_t rows = h->hidden ? (size_t)h->hidden : 1;
    if (blur)
        fprintf(w, "// blur head (format %d, library/calib_head.h): %s on LIB_BLUR_FEATURES features; heavy blur\n"
                   "// when the logit >= LIB_BLUR_HEAD_THRESHOLD (LIB_BLUR_THRESHOLD above is the fallback)\n",
                LIB_HEAD_VERSION, h->hidden ? "MLP" : "logistic regression");
    else
        fprintf(w, "// \"not a face\" head (format %d, library/calib_head.h): %s on the embedding + context; \"not a face\"\n"
                   "// when the logit >= LIB_JUNK_HEAD_THRESHOLD (the sphere above is the fallback)\n",
                LIB_HEAD_VERSION, h->hidden ? "MLP" : "logistic regression");
    fprintf(w, "#define LIB_%s_HEAD_VERSION %d\n#define LIB_%s_HEAD_HIDDEN %d\n#define LIB_%s_HEAD_DIM %d\n", M,
            LIB_HEAD_VERSION, M, h->hidden, M, h->dim);
    fprintf(w, "#define LIB_%s_HEAD_THRESHOLD %.8ef\n#define LIB_%s_HEAD_B2 %.8ef\n", M, (double)h->threshold, M, (double)h->b2);
    snprintf(arr, sizeof arr, "lib_%s_head_w1", name);
    write_array(w, arr, h->w1, rows * (size_t)h->dim);
    snprintf(arr, sizeof arr, "lib_%s_head_b1", name);
    write_array(w, arr, h->b1, rows);
    if (h->hidden) {
        snprintf(arr, sizeof arr, "lib_%s_head_alpha", name);
        write_array(w, arr, h->alpha, rows);
        snprintf(arr, sizeof arr, "lib_%s_head_w2", name);
        write_array(w, arr, h->w2, rows);
    }
    fprintf(w, "\n");
    return ferror(w) ? fh_fail(FH_E_IO, "head: writing the calibration failed") : FH_OK;
}
