// SPDX-License-Identifier: MIT
// library/calib_head.h: the "not a face" head stored in calib.h, read at compile time.
// Include after a calib.h. Defines LIB_CALIB_JUNK_HEAD: a const struct lib_head * to the
// stored head, or NULL when the calib.h has none (format 0, written before heads: the
// library then uses the sphere, lib_trash_centre / LIB_TRASH_RADIUS, which every calib.h
// keeps). Format 1 (lib_head_write_calib) is, in calib.h:
//   #define LIB_JUNK_HEAD_VERSION 1
//   #define LIB_JUNK_HEAD_HIDDEN H           (0: logistic regression)
//   #define LIB_JUNK_HEAD_DIM D              (LIB_JUNK_FEATURES; absent: 192, the
//                                             embedding alone, as stored before context)
//   #define LIB_JUNK_HEAD_THRESHOLD t        ("not a face" when the logit >= t)
//   #define LIB_JUNK_HEAD_B2 b2
//   static const float lib_junk_head_w1[], lib_junk_head_b1[] and, when H > 0,
//   lib_junk_head_alpha[], lib_junk_head_w2[]     (layouts: library/head.h)
// and the same for the blur head (LIB_BLUR_HEAD_*, lib_blur_head_*, LIB_BLUR_FEATURES
// inputs) defining LIB_CALIB_BLUR_HEAD (NULL without one: the Laplacian threshold).
#ifndef FH_LIBRARY_CALIB_HEAD_H
#define FH_LIBRARY_CALIB_HEAD_H

#include "library/head.h"
#include "pipeline/facehatch.h"

#ifdef LIB_JUNK_HEAD_VERSION
#if LIB_JUNK_HEAD_VERSION != LIB_HEAD_VERSION
#error "calib.h: junk head format not supported by this build (rerun facehatch calibrate --write)"
#endif
#ifndef LIB_JUNK_HEAD_DIM
#define LIB_JUNK_HEAD_DIM FH_EMB_DIM // stored before context features: the embedding alone
#endif
#if LIB_JUNK_HEAD_DIM != FH_EMB_DIM && LIB_JUNK_HEAD_DIM != LIB_JUNK_FEATURES
#error "calib.h: junk head of an unknown width (rerun facehatch calibrate --write)"
#endif
static const struct lib_head lib_calib_junk_head = {
    LIB_HEAD_VERSION, LIB_JUNK_HEAD_DIM, LIB_JUNK_HEAD_HIDDEN, lib_junk_head_w1, lib_junk_head_b1,
#if LIB_JUNK_HEAD_HIDDEN > 0
    lib_junk_head_alpha, lib_junk_head_w2,
#else
    NULL, NULL,
#endif
    LIB_JUNK_HEAD_B2, LIB_JUNK_HEAD_THRESHOLD};
#define LIB_CALIB_JUNK_HEAD (&lib_calib_junk_head)
#else
#define LIB_CALIB_JUNK_HEAD ((const struct lib_head *)0)
#endif

#ifdef LIB_BLUR_HEAD_VERSION
#if LIB_BLUR_HEAD_VERSION != LIB_HEAD_VERSION
#error "calib.h: blur head format not supported by this build (rerun facehatch calibrate --write)"
#endif
static const struct lib_head lib_calib_blur_head = {
    LIB_HEAD_VERSION, LIB_BLUR_FEATURES, LIB_BLUR_HEAD_HIDDEN, lib_blur_head_w1, lib_blur_head_b1,
#if LIB_BLUR_HEAD_HIDDEN > 0
    lib_blur_head_alpha, lib_blur_head_w2,
#else
    NULL, NULL,
#endif
    LIB_BLUR_HEAD_B2, LIB_BLUR_HEAD_THRESHOLD};
#define LIB_CALIB_BLUR_HEAD (&lib_calib_blur_head)
#else
#define LIB_CALIB_BLUR_HEAD ((const struct lib_head *)0)
#endif

#endif
