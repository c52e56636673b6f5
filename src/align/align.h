// SPDX-License-Identifier: MIT
// align: 5-point similarity alignment of a face to the ArcFace 112x112 template.
// Umeyama least-squares similarity (rotation + uniform scale + translation, no
// reflection) from the MTCNN landmarks to the template, then an inverse-mapped
// bilinear warp (pixel centres at integer coordinates, like cv2.warpAffine INTER_LINEAR,
// neighbours outside the image count as 0, value floor(v+0.5)). Knows nothing about
// networks.
//
//   double M[6];
//   struct img crop;                       // filled by align_face (112x112x3)
//   align_face(&photo, landmarks, &crop, M);
#ifndef FH_ALIGN_H
#define FH_ALIGN_H

#include "img/img.h"

#define ALIGN_SIZE 112
// ArcFace template (insightface arcface_src), order: left eye, right eye, nose,
// left mouth corner, right mouth corner; x then y, in 112x112 pixel coordinates.
extern const float align_arcface_template[10];

// Least-squares similarity transform mapping src[i] -> dst[i] for n points
// (src, dst: n (x,y) pairs, interleaved). Writes the forward 2x3 matrix
// M = [a -b tx; b a ty] row-major: x' = M[0]x + M[1]y + M[2], y' = M[3]x + M[4]y + M[5].
// n >= 2. Returns FH_OK or FH_E_ARG for degenerate input (all points equal).
int align_similarity(const float *src, const float *dst, int n, double M[6]);
// The same with double points (align_face uses it with a double copy of the template,
// which is what the golden align_matrix values were computed from).
int align_similarity_d(const double *src, const double *dst, int n, double M[6]);

// Warps src through the forward matrix M into dst (caller-allocated, any size, same c):
// dst(x, y) = bilinear src(M^-1 (x, y)). Returns FH_OK or FH_E_ARG (singular M).
int align_warp(const struct img *src, const double M[6], struct img *dst);

// Aligns one face: lm = 5 landmarks (x, y interleaved, image pixels) as MTCNN gives
// them. Allocates out as 112x112 RGB (caller frees with img_free). M_out (may be NULL)
// receives the forward matrix. Returns FH_OK, FH_E_ARG, FH_E_LIMIT, FH_E_NOMEM.
int align_face(const struct img *src, const float lm[10], struct img *out, double M_out[6]);

// As align_face, into a caller-allocated dst (any size, usually 112x112, same c).
int align_face_into(const struct img *src, const float lm[10], struct img *dst, double M_out[6]);

#endif
