// SPDX-License-Identifier: MIT
// align: Umeyama similarity + inverse-mapped bilinear warp, all maths in double.
#include "align/align.h"

#include <math.h>

#include "base/base.h"

const float align_arcface_template[10] = {38.2946f, 51.6963f, 73.5318f, 51.5014f, 56.0252f,
                                          71.7366f, 41.5493f, 92.3655f, 70.7299f, 92.2041f};
// The same template in double: the goldens were made with these decimal values, and the
// float copy above is off by up to 2e-6 px, enough to move a matrix entry past 1e-7.
static const double arcface_d[10] = {38.2946, 51.6963, 73.5318, 51.5014, 56.0252,
                                     71.7366, 41.5493, 92.3655, 70.7299, 92.2041};

// Umeyama (skimage SimilarityTransform.estimate) in closed form for 2-D. With
// A = sum dst_i' src_i'^T over the centred points, skimage's SVD solution
// R = U diag(1, det<0 ? -1 : 1) V^T and scale = trace(S diag(d)) / var(src) reduce to:
// R = rotation by atan2(a21 - a12, a11 + a22), scale = hypot(a11 + a22, a21 - a12) / var.
// (Split A into a rotation-scale part P and a reflection part Q: s1 +- s2 = 2|P| in
// both det signs, and U diag(d) V^T is the rotation of P.) No SVD and never a reflection.
int align_similarity_d(const double *src, const double *dst, int n, double M[6]) {
    if (n < 2) return fh_fail(FH_E_ARG, "align: need >= 2 points, got %d", n);
    double sx = 0, sy = 0, dx = 0, dy = 0;
    for (int i = 0; i < n; i++) sx += src[2 * i], sy += src[2 * i + 1], dx += dst[2 * i], dy += dst[2 * i + 1];
    sx /= n, sy /= n, dx /= n, dy /= n;
    double a11 = 0, a12 = 0, a21 = 0, a22 = 0, var = 0;
    for (int i = 0; i < n; i++) {
        double xs = src[2 * i] - sx, ys = src[2 * i + 1] - sy;
        double xd = dst[2 * i] - dx, yd = dst[2 * i + 1] - dy;
        a11 += xd * xs, a12 += xd * ys, a21 += yd * xs, a22 += yd * ys;
        var += xs * xs + ys * ys;
    }
    double p = a11 + a22, q = a21 - a12, norm = hypot(p, q);
    // var == 0: all source points equal; norm == 0: no rotation+scale explains the
    // points better than collapsing them (e.g. dst is a pure mirror image of src)
    if (!(var > 0) || !(norm > 0) || !isfinite(norm))
        return fh_fail(FH_E_ARG, "align: degenerate points");
    double scale = norm / var, a = scale * p / norm, b = scale * q / norm;
    M[0] = a, M[1] = -b, M[2] = dx - (a * sx - b * sy);
    M[3] = b, M[4] = a, M[5] = dy - (b * sx + a * sy);
    return FH_OK;
}

int align_similarity(const float *src, const float *dst, int n, double M[6]) {
    if (n < 2) return fh_fail(FH_E_ARG, "align: need >= 2 points, got %d", n);
    double *d = fh_malloc(sizeof *d * 4 * (size_t)n);
    if (!d) return fh_fail(FH_E_NOMEM, "align: out of memory");
    for (int i = 0; i < 2 * n; i++) d[i] = src[i], d[2 * n + i] = dst[i];
    int rc = align_similarity_d(d, d + 2 * n, n, M);
    fh_free(d);
    return rc;
}

int align_warp(const struct img *src, const double M[6], struct img *dst) {
    FH_ASSERT(src->c == dst->c);
    double det = M[0] * M[4] - M[1] * M[3];
    if (!isfinite(det) || fabs(det) < 1e-12) return fh_fail(FH_E_ARG, "align: singular matrix");
    // inverse as cv2.invertAffineTransform computes it
    det = 1.0 / det;
    const double i0 = M[4] * det, i1 = -M[1] * det, i3 = -M[3] * det, i4 = M[0] * det;
    const double i2 = -i0 * M[2] - i1 * M[5], i5 = -i3 * M[2] - i4 * M[5];
    const int c = src->c, W = src->w, H = src->h;
    static const uint8_t zero[4];
    for (int y = 0; y < dst->h; y++) {
        uint8_t *out = dst->data + (size_t)y * dst->stride;
        for (int x = 0; x < dst->w; x++) {
            double sx = i0 * x + i1 * y + i2, sy = i3 * x + i4 * y + i5;
            if (!(sx > -1 && sx < W && sy > -1 && sy < H)) {   // all four neighbours outside (or NaN)
                for (int k = 0; k < c; k++) out[x * c + k] = 0;
                continue;
            }
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            double fx = sx - x0, fy = sy - y0;
            const uint8_t *p[4];   // (x0,y0) (x0+1,y0) (x0,y0+1) (x0+1,y0+1); outside reads 0
            for (int j = 0; j < 4; j++) {
                int u = x0 + (j & 1), v = y0 + (j >> 1);
                p[j] = u >= 0 && u < W && v >= 0 && v < H ? src->data + (size_t)v * src->stride + (size_t)u * c : zero;
            }
            for (int k = 0; k < c; k++) {
                double v = (1 - fy) * ((1 - fx) * p[0][k] + fx * p[1][k]) + fy * ((1 - fx) * p[2][k] + fx * p[3][k]);
                out[x * c + k] = (uint8_t)floor(v + 0.5);
            }
        }
    }
    return FH_OK;
}

int align_face_into(const struct img *src, const float lm[10], struct img *dst, double M_out[6]) {
    double src_d[10], M[6];
    for (int i = 0; i < 10; i++) src_d[i] = lm[i];
    int rc = align_similarity_d(src_d, arcface_d, 5, M);
    if (!rc) rc = align_warp(src, M, dst);
    if (!rc && M_out)
        for (int i = 0; i < 6; i++) M_out[i] = M[i];
    return rc;
}

int align_face(const struct img *src, const float lm[10], struct img *out, double M_out[6]) {
    int rc = img_alloc(out, ALIGN_SIZE, ALIGN_SIZE, src->c);
    if (!rc && (rc = align_face_into(src, lm, out, M_out))) img_free(out);
    return rc;
}
