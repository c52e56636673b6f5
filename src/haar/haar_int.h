// SPDX-License-Identifier: MIT
// haar-private: the loaded cascade, the tiny XML reader that feeds it, and the pieces
// of detection that the unit tests reach one by one (SQLite xInt.h style).
#ifndef FH_HAAR_INT_H
#define FH_HAAR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "haar/haar.h"

// ---- the cascade, as OpenCV's CascadeClassifierImpl::Data holds it --------------------
// A feature is up to 3 weighted rectangles in window coordinates; a tilted one uses the
// 45-degree integral (x, y is the top corner, w runs down-right, h down-left).
struct haar_feature {
    struct { int x, y, w, h; float weight; } r[3];   // unused rects have weight 0
    int tilted;
};

// A node of a weak tree: goes left when feature * norm < threshold. A child > 0 is a
// node index relative to the tree's first node; a child <= 0 is leaf number -child of
// the tree (OpenCV's layout). Stump cascades have one node and two leaves per tree.
struct haar_node {
    int feature;
    float threshold;
    int left, right;
};

struct haar_tree {
    int node0, nnodes;   // nodes[node0 .. node0+nnodes)
    int leaf0;           // leaves[leaf0 .. leaf0+nnodes]
};

struct haar_stage {
    int tree0, ntrees;   // trees[tree0 .. tree0+ntrees)
    float threshold;     // the file's threshold minus OpenCV's THRESHOLD_EPS (1e-5f)
};

struct haar_cascade {
    int win_w, win_h;           // window size the cascade was trained at (24 x 24)
    int nstages, ntrees, nnodes, nleaves, nfeatures;
    struct haar_stage *stages;
    struct haar_tree *trees;
    struct haar_node *nodes;
    float *leaves;
    struct haar_feature *features;
    int stumps;                 // every tree is a single node: the fast path
    int tilted;                 // some feature is tilted: a third integral is needed
};

// ---- tiny XML reader (haar_xml.c) -------------------------------------------------------
// Enough XML for OpenCV's FileStorage output: elements, attributes (kept raw), text,
// comments, <?...?> and <!DOCTYPE ...>. No entities, no CDATA (refused). Elements live
// in one array; text and names are spans of the caller's NUL-terminated buffer.
struct haar_xml_el {
    int name, name_len;     // span of the buffer
    int attr, attr_len;     // raw attribute text after the name
    int text, text_len;     // first non-blank character data directly inside (0 len: none)
    int parent, child, last, next;   // element indices, -1 = none
};
struct haar_xml {
    const char *buf;
    struct haar_xml_el *el;
    int n, cap;
};
// Parses buf (NUL-terminated, borrowed for the life of x). FH_E_FORMAT (with the line of
// the problem), FH_E_LIMIT, FH_E_NOMEM. `what` names the file in messages.
int haar_xml_parse(struct haar_xml *x, const char *buf, const char *what);
void haar_xml_free(struct haar_xml *x);
// First child of element e named `name`, or -1.
int haar_xml_child(const struct haar_xml *x, int e, const char *name);
// Number of child elements of e.
int haar_xml_count(const struct haar_xml *x, int e);
// Whether element e's name is `name`.
int haar_xml_is(const struct haar_xml *x, int e, const char *name);

// ---- cascade construction (haar_load.c) -------------------------------------------------
// Builds a cascade from a parsed document. FH_E_FORMAT / FH_E_UNSUPPORTED / FH_E_LIMIT /
// FH_E_NOMEM; `what` names the file in messages.
int haar_cascade_from_xml(const struct haar_xml *x, const char *what, struct haar_cascade **out);

// ---- image pieces (haar_resize.c, haar.c) ------------------------------------------------
// OpenCV 4.6 cv::resize(INTER_LINEAR_EXACT) of an 8-bit grey image, bit for bit (the
// pyramid CascadeClassifier builds; formula in haar_resize.c). Equal sizes copy.
// dst is dw x dh with row stride dw. FH_OK or FH_E_NOMEM.
int haar_resize(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst, int dw, int dh);

// Integral images of an 8-bit w x h image g (row stride `stride`) into (h+1) x (w+1)
// planes with row step istride (>= w+1): sum and sqsum (mod 2^32, as OpenCV's CV_32S),
// and, if tilted is not NULL, OpenCV's 45-degree integral: tilted(X, Y) = sum of g(x, y)
// over y < Y, |x - X + 1| <= Y - 1 - y; then scratch holds 4*(w+1) values.
void haar_integral(const uint8_t *g, int w, int h, size_t stride, size_t istride, uint32_t *sum,
                   uint32_t *sqsum, uint32_t *tilted, uint32_t *scratch);

// OpenCV's cvtColor(BGR2GRAY) on our RGB(A) or grey img: Y = (4899 R + 9617 G + 1868 B
// + 8192) >> 14. dst is w x h, stride w.
void haar_grey(const struct img *im, uint8_t *dst);

#endif
