// SPDX-License-Identifier: MIT
// Cascade loading: OpenCV's two XML layouts into one structure. The new layout
// ("opencv-cascade-classifier": stages of weakClassifiers with internalNodes/leafValues
// and a shared feature table) is what haarcascade_frontalface_default.xml uses; the old
// one ("opencv-haar-classifier": trees of nodes with inline features, left_val/left_node)
// is converted the way OpenCV 4.x converts it on load, so both run on the same path.
// Everything that detection later indexes (feature numbers, tree children, rectangles
// against the window) is checked here, so a hostile file is refused, never followed.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "haar/haar_int.h"

// OpenCV subtracts this from every stage threshold when it reads a cascade
// (CascadeClassifierImpl::Data::read, THRESHOLD_EPS), so ties go to "pass".
#define THRESHOLD_EPS 1e-5f

// Growable arrays of the builder.
struct builder {
    struct haar_cascade *c;
    int cap_stages, cap_trees, cap_nodes, cap_leaves, cap_features;
    const struct haar_xml *x;
    const char *what;
};

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = fh_realloc(*p, (size_t)n * elem);
    if (!q) return -1;
    *p = q, *cap = n;
    return 0;
}
#define GROW(b, arr, cap, need)                                                             \
    (grow((void **)&(b)->c->arr, &(b)->cap, (need), sizeof *(b)->c->arr)                    \
         ? fh_fail(FH_E_NOMEM, "haar: %s: out of memory", (b)->what)                        \
         : FH_OK)

// Parses up to max numbers from element e's text. Returns the count, or -1 if the text
// holds something that is not a finite number.
static int numbers(const struct haar_xml *x, int e, double *out, int max) {
    if (e < 0) return -1;
    const char *p = x->buf + x->el[e].text, *end = p + x->el[e].text_len;
    int n = 0;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
        if (p >= end) break;
        char *q;
        double v = strtod(p, &q);
        if (q == p || q > end || !isfinite(v) || n == max) return -1;
        out[n++] = v;
        p = q;
    }
    return n;
}

static int number(const struct haar_xml *x, int e, double *v) { return numbers(x, e, v, 1) == 1 ? 0 : -1; }

static int text_is(const struct haar_xml *x, int e, const char *s) {
    size_t n = strlen(s);
    return e >= 0 && (size_t)x->el[e].text_len == n && !memcmp(x->buf + x->el[e].text, s, n);
}

static int is_int(double v) { return v == floor(v) && fabs(v) < 1e9; }

static int line(const struct haar_xml *x, int e) {
    int l = 1;
    for (int i = 0; i < x->el[e].name; i++) l += x->buf[i] == '\n';
    return l;
}

// One feature from its <rects> (and optional <tilted>) elements.
static int read_feature(struct builder *b, int rects, int tilted, struct haar_feature *f) {
    const struct haar_xml *x = b->x;
    memset(f, 0, sizeof *f);
    if (rects < 0) return fh_fail(FH_E_FORMAT, "haar: %s: a feature has no <rects>", b->what);
    int k = 0;
    for (int r = x->el[rects].child; r >= 0; r = x->el[r].next, k++) {
        double v[5];
        if (k == 3)
            return fh_fail(FH_E_FORMAT, "haar: %s:%d: a feature with more than 3 rectangles", b->what,
                           line(x, r));
        if (numbers(x, r, v, 5) != 5 || !is_int(v[0]) || !is_int(v[1]) || !is_int(v[2]) ||
            !is_int(v[3]))
            return fh_fail(FH_E_FORMAT, "haar: %s:%d: a rectangle is not \"x y w h weight\"",
                           b->what, line(x, r));
        f->r[k].x = (int)v[0], f->r[k].y = (int)v[1], f->r[k].w = (int)v[2], f->r[k].h = (int)v[3];
        f->r[k].weight = (float)v[4];
    }
    if (k == 0) return fh_fail(FH_E_FORMAT, "haar: %s:%d: a feature without rectangles", b->what,
                               line(x, rects));
    double t = 0;
    if (tilted >= 0 && number(x, tilted, &t))
        return fh_fail(FH_E_FORMAT, "haar: %s:%d: <tilted> is not a number", b->what, line(x, tilted));
    f->tilted = t != 0;
    int W = b->c->win_w, H = b->c->win_h;
    for (int i = 0; i < k; i++) {   // the integral reads must stay inside the window
        int rx = f->r[i].x, ry = f->r[i].y, rw = f->r[i].w, rh = f->r[i].h;
        int ok = rw >= 0 && rh >= 0 &&
                 (f->tilted ? rx - rh >= 0 && rx + rw <= W && ry >= 0 && ry + rw + rh <= H
                            : rx >= 0 && ry >= 0 && rx + rw <= W && ry + rh <= H);
        if (!ok)
            return fh_fail(FH_E_FORMAT, "haar: %s:%d: rectangle %d %d %d %d lies outside the %dx%d window",
                           b->what, line(x, rects), rx, ry, rw, rh, W, H);
    }
    b->c->tilted |= f->tilted;
    return FH_OK;
}

// Checks a tree's children: each points forward to a node of the same tree or to one of
// its leaves, so evaluation always ends.
static int check_tree(struct builder *b, const struct haar_tree *t, int nleaves, int e) {
    for (int i = 0; i < t->nnodes; i++) {
        const struct haar_node *n = &b->c->nodes[t->node0 + i];
        int ch[2] = {n->left, n->right};
        for (int k = 0; k < 2; k++)
            if (ch[k] > 0 ? ch[k] <= i || ch[k] >= t->nnodes : -ch[k] >= nleaves)
                return fh_fail(FH_E_FORMAT, "haar: %s:%d: tree node %d has a bad child %d", b->what,
                               line(b->x, e), i, ch[k]);
    }
    if (nleaves != t->nnodes + 1)
        return fh_fail(FH_E_FORMAT, "haar: %s:%d: a tree with %d nodes has %d leaves, not %d",
                       b->what, line(b->x, e), t->nnodes, nleaves, t->nnodes + 1);
    return FH_OK;
}

static int win_size(struct builder *b, double w, double h, int e) {
    if (!is_int(w) || !is_int(h) || w < 1 || h < 1 || w > HAAR_MAX_WINDOW || h > HAAR_MAX_WINDOW)
        return fh_fail(FH_E_FORMAT, "haar: %s:%d: window size %gx%g is not 1..%d", b->what,
                       line(b->x, e), w, h, HAAR_MAX_WINDOW);
    b->c->win_w = (int)w, b->c->win_h = (int)h;
    return FH_OK;
}

// "opencv-cascade-classifier": <stageType>BOOST <featureType>HAAR <width> <height>
// <featureParams><maxCatCount>0 <stages>(<_><stageThreshold><weakClassifiers>(<_>
// <internalNodes>left right feature threshold ... <leafValues>...)) <features>(<_><rects>..)
static int load_new(struct builder *b, int root) {
    const struct haar_xml *x = b->x;
    struct haar_cascade *c = b->c;
    int rc, e;
    e = haar_xml_child(x, root, "stageType");
    if (!text_is(x, e, "BOOST"))
        return fh_fail(e < 0 ? FH_E_FORMAT : FH_E_UNSUPPORTED,
                       "haar: %s: <stageType> is %s, only BOOST cascades exist", b->what,
                       e < 0 ? "missing" : "not BOOST");
    e = haar_xml_child(x, root, "featureType");
    if (!text_is(x, e, "HAAR"))
        return fh_fail(e < 0 ? FH_E_FORMAT : FH_E_UNSUPPORTED,
                       "haar: %s: <featureType> is %s; only HAAR features are supported (not LBP/HOG)",
                       b->what, e < 0 ? "missing" : "not HAAR");
    double w, h, cat = 0;
    int ew = haar_xml_child(x, root, "width"), eh = haar_xml_child(x, root, "height");
    if (number(x, ew, &w) || number(x, eh, &h))
        return fh_fail(FH_E_FORMAT, "haar: %s: <width>/<height> missing or not numbers", b->what);
    if ((rc = win_size(b, w, h, ew))) return rc;
    e = haar_xml_child(x, haar_xml_child(x, root, "featureParams"), "maxCatCount");
    if (e >= 0 && number(x, e, &cat))
        return fh_fail(FH_E_FORMAT, "haar: %s: <maxCatCount> is not a number", b->what);
    if (cat != 0)
        return fh_fail(FH_E_UNSUPPORTED, "haar: %s: categorical (LBP-style) nodes are not supported",
                       b->what);

    int features = haar_xml_child(x, root, "features");
    int stages = haar_xml_child(x, root, "stages");
    if (features < 0 || stages < 0)
        return fh_fail(FH_E_FORMAT, "haar: %s: <stages> or <features> missing (truncated file?)",
                       b->what);
    int nf = haar_xml_count(x, features);
    if (nf < 1 || nf > HAAR_MAX_FEATURES)
        return fh_fail(nf < 1 ? FH_E_FORMAT : FH_E_LIMIT, "haar: %s: %d features (1..%d allowed)",
                       b->what, nf, HAAR_MAX_FEATURES);
    if ((rc = GROW(b, features, cap_features, nf))) return rc;
    for (int f = x->el[features].child; f >= 0; f = x->el[f].next) {
        if ((rc = read_feature(b, haar_xml_child(x, f, "rects"), haar_xml_child(x, f, "tilted"),
                               &c->features[c->nfeatures])))
            return rc;
        c->nfeatures++;
    }

    double *v = fh_malloc((4 * HAAR_MAX_TREE_NODES + 2) * sizeof *v);
    if (!v) return fh_fail(FH_E_NOMEM, "haar: %s: out of memory", b->what);
    rc = FH_OK;
    for (int s = x->el[stages].child; s >= 0 && !rc; s = x->el[s].next) {
        double thr;
        int weak = haar_xml_child(x, s, "weakClassifiers");
        if (number(x, haar_xml_child(x, s, "stageThreshold"), &thr) || weak < 0) {
            rc = fh_fail(FH_E_FORMAT, "haar: %s:%d: a stage without <stageThreshold> or <weakClassifiers>",
                         b->what, line(x, s));
            break;
        }
        if (c->nstages == HAAR_MAX_STAGES) {
            rc = fh_fail(FH_E_LIMIT, "haar: %s: more than %d stages", b->what, HAAR_MAX_STAGES);
            break;
        }
        if ((rc = GROW(b, stages, cap_stages, c->nstages + 1))) break;
        struct haar_stage *st = &c->stages[c->nstages++];
        st->tree0 = c->ntrees, st->ntrees = 0, st->threshold = (float)thr - THRESHOLD_EPS;
        for (int t = x->el[weak].child; t >= 0 && !rc; t = x->el[t].next) {
            int in = haar_xml_child(x, t, "internalNodes"), lv = haar_xml_child(x, t, "leafValues");
            int nn = numbers(x, in, v, 4 * HAAR_MAX_TREE_NODES);
            if (nn < 4 || nn % 4) {
                rc = fh_fail(FH_E_FORMAT, "haar: %s:%d: <internalNodes> is not groups of \"left right "
                             "feature threshold\" (at most %d nodes)", b->what, line(x, t),
                             HAAR_MAX_TREE_NODES);
                break;
            }
            nn /= 4;
            if (c->ntrees >= HAAR_MAX_TREES) {
                rc = fh_fail(FH_E_LIMIT, "haar: %s: more than %d trees", b->what, HAAR_MAX_TREES);
                break;
            }
            if ((rc = GROW(b, trees, cap_trees, c->ntrees + 1)) ||
                (rc = GROW(b, nodes, cap_nodes, c->nnodes + nn)) ||
                (rc = GROW(b, leaves, cap_leaves, c->nleaves + nn + 1)))
                break;
            struct haar_tree *tr = &c->trees[c->ntrees];
            tr->node0 = c->nnodes, tr->nnodes = nn, tr->leaf0 = c->nleaves;
            for (int i = 0; i < nn; i++) {
                const double *q = v + 4 * i;
                if (!is_int(q[0]) || !is_int(q[1]) || !is_int(q[2]) || q[2] < 0 || q[2] >= nf) {
                    rc = fh_fail(FH_E_FORMAT, "haar: %s:%d: node %d names feature %g of %d", b->what,
                                 line(x, t), i, q[2], nf);
                    break;
                }
                c->nodes[c->nnodes + i] = (struct haar_node){(int)q[2], (float)q[3], (int)q[0], (int)q[1]};
            }
            if (rc) break;
            int nl = numbers(x, lv, v, 4 * HAAR_MAX_TREE_NODES);
            if (nl < 0) {
                rc = fh_fail(FH_E_FORMAT, "haar: %s:%d: <leafValues> missing or not numbers", b->what,
                             line(x, t));
                break;
            }
            if ((rc = check_tree(b, tr, nl, t))) break;
            for (int i = 0; i < nl; i++) c->leaves[c->nleaves + i] = (float)v[i];
            c->nnodes += nn, c->nleaves += nl, c->ntrees++, st->ntrees++;
        }
        if (!rc && st->ntrees == 0)
            rc = fh_fail(FH_E_FORMAT, "haar: %s:%d: a stage with no weak classifiers", b->what, line(x, s));
    }
    fh_free(v);
    return rc;
}

// "opencv-haar-classifier": <size>W H</size> <stages>(<_><trees>(<_>(<_><feature>
// <rects>..<tilted>..</feature><threshold><left_val>|<left_node><right_val>|<right_node>))
// <stage_threshold><parent><next>). Only linear cascades (parent = previous stage).
static int load_old(struct builder *b, int root) {
    const struct haar_xml *x = b->x;
    struct haar_cascade *c = b->c;
    int rc, e = haar_xml_child(x, root, "size");
    double wh[2];
    if (numbers(x, e, wh, 2) != 2)
        return fh_fail(FH_E_FORMAT, "haar: %s: <size> is missing or not \"width height\"", b->what);
    if ((rc = win_size(b, wh[0], wh[1], e))) return rc;
    int stages = haar_xml_child(x, root, "stages");
    if (stages < 0) return fh_fail(FH_E_FORMAT, "haar: %s: <stages> missing (truncated file?)", b->what);
    int si = 0;
    for (int s = x->el[stages].child; s >= 0; s = x->el[s].next, si++) {
        double thr, parent = si - 1, next = -1;
        int trees = haar_xml_child(x, s, "trees");
        if (number(x, haar_xml_child(x, s, "stage_threshold"), &thr) || trees < 0)
            return fh_fail(FH_E_FORMAT, "haar: %s:%d: a stage without <stage_threshold> or <trees>",
                           b->what, line(x, s));
        e = haar_xml_child(x, s, "parent");
        if (e >= 0) number(x, e, &parent);
        e = haar_xml_child(x, s, "next");
        if (e >= 0) number(x, e, &next);
        if (parent != si - 1 || next != -1)
            return fh_fail(FH_E_UNSUPPORTED, "haar: %s:%d: tree-shaped cascades (parent/next) are not "
                           "supported", b->what, line(x, s));
        if (si == HAAR_MAX_STAGES)
            return fh_fail(FH_E_LIMIT, "haar: %s: more than %d stages", b->what, HAAR_MAX_STAGES);
        if ((rc = GROW(b, stages, cap_stages, c->nstages + 1))) return rc;
        struct haar_stage *st = &c->stages[c->nstages++];
        st->tree0 = c->ntrees, st->ntrees = 0, st->threshold = (float)thr - THRESHOLD_EPS;
        for (int t = x->el[trees].child; t >= 0; t = x->el[t].next) {
            int nn = haar_xml_count(x, t);
            if (nn < 1 || nn > HAAR_MAX_TREE_NODES)
                return fh_fail(FH_E_FORMAT, "haar: %s:%d: a tree with %d nodes (1..%d)", b->what,
                               line(x, t), nn, HAAR_MAX_TREE_NODES);
            if (c->ntrees >= HAAR_MAX_TREES || c->nfeatures + nn > HAAR_MAX_FEATURES)
                return fh_fail(FH_E_LIMIT, "haar: %s: more than %d trees or %d features", b->what,
                               HAAR_MAX_TREES, HAAR_MAX_FEATURES);
            if ((rc = GROW(b, trees, cap_trees, c->ntrees + 1)) ||
                (rc = GROW(b, nodes, cap_nodes, c->nnodes + nn)) ||
                (rc = GROW(b, leaves, cap_leaves, c->nleaves + 2 * nn)) ||
                (rc = GROW(b, features, cap_features, c->nfeatures + nn)))
                return rc;
            struct haar_tree *tr = &c->trees[c->ntrees];
            tr->node0 = c->nnodes, tr->nnodes = nn, tr->leaf0 = c->nleaves;
            int i = 0, nl = 0;
            for (int n = x->el[t].child; n >= 0; n = x->el[n].next, i++) {
                int fe = haar_xml_child(x, n, "feature");
                double th;
                if (fe < 0 || number(x, haar_xml_child(x, n, "threshold"), &th))
                    return fh_fail(FH_E_FORMAT, "haar: %s:%d: a node without <feature> or <threshold>",
                                   b->what, line(x, n));
                if ((rc = read_feature(b, haar_xml_child(x, fe, "rects"), haar_xml_child(x, fe, "tilted"),
                                       &c->features[c->nfeatures])))
                    return rc;
                int child[2];
                static const char *const tag[2][2] = {{"left_val", "left_node"}, {"right_val", "right_node"}};
                for (int k = 0; k < 2; k++) {
                    double val;
                    int ev = haar_xml_child(x, n, tag[k][0]), en = haar_xml_child(x, n, tag[k][1]);
                    if (ev >= 0 && !number(x, ev, &val)) {
                        c->leaves[c->nleaves + nl] = (float)val;
                        child[k] = -nl++;
                    } else if (en >= 0 && !number(x, en, &val) && is_int(val) && val > 0 && val < nn) {
                        child[k] = (int)val;
                    } else {
                        return fh_fail(FH_E_FORMAT, "haar: %s:%d: a node without a valid <%s> or <%s>",
                                       b->what, line(x, n), tag[k][0], tag[k][1]);
                    }
                }
                c->nodes[c->nnodes + i] = (struct haar_node){c->nfeatures++, (float)th, child[0], child[1]};
            }
            if ((rc = check_tree(b, tr, nl, t))) return rc;
            c->nnodes += nn, c->nleaves += nl, c->ntrees++, st->ntrees++;
        }
        if (st->ntrees == 0)
            return fh_fail(FH_E_FORMAT, "haar: %s:%d: a stage with no trees", b->what, line(x, s));
    }
    return FH_OK;
}

int haar_cascade_from_xml(const struct haar_xml *x, const char *what, struct haar_cascade **out) {
    *out = NULL;
    if (!haar_xml_is(x, 0, "opencv_storage"))
        return fh_fail(FH_E_FORMAT, "haar: %s: root element is <%.*s>, not <opencv_storage>", what,
                       x->el[0].name_len, x->buf + x->el[0].name);
    int root = x->el[0].child;
    if (root < 0) return fh_fail(FH_E_FORMAT, "haar: %s: <opencv_storage> is empty", what);
    struct builder b = {.x = x, .what = what};
    if (!(b.c = fh_calloc(1, sizeof *b.c))) return fh_fail(FH_E_NOMEM, "haar: %s: out of memory", what);
    const char *a = x->buf + x->el[root].attr;
    int old = x->el[root].attr_len > 0 &&
              memmem(a, (size_t)x->el[root].attr_len, "opencv-haar-classifier", 22) != NULL;
    int rc = old ? load_old(&b, root) : load_new(&b, root);
    if (!rc && b.c->nstages == 0) rc = fh_fail(FH_E_FORMAT, "haar: %s: the cascade has no stages", what);
    if (rc) {
        haar_free(b.c);
        return rc;
    }
    b.c->stumps = 1;
    for (int t = 0; t < b.c->ntrees; t++) b.c->stumps &= b.c->trees[t].nnodes == 1;
    *out = b.c;
    return FH_OK;
}

int haar_load(const char *xml_path, struct haar_cascade **out) {
    if (!out) return fh_fail(FH_E_ARG, "haar_load: out is NULL");
    *out = NULL;
    if (!xml_path) return fh_fail(FH_E_ARG, "haar_load: path is NULL");
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(xml_path, HAAR_MAX_XML_BYTES, &buf, &n);
    if (rc) {   // keep fh_read_file's reason (errno text, size limit) in our message
        char why[256];
        snprintf(why, sizeof why, "%s", fh_errmsg());
        return fh_fail(rc, "haar: cannot read cascade: %s%s", why,
                       rc == FH_E_IO ? " (Debian: apt-get install opencv-data)" : "");
    }
    char *text = (char *)buf;   // fh_read_file NUL-terminates
    if (strlen(text) != n) {
        fh_free(buf);
        return fh_fail(FH_E_FORMAT, "haar: %s: binary data (a NUL byte) in an XML file", xml_path);
    }
    struct haar_xml x;
    if (!(rc = haar_xml_parse(&x, text, xml_path))) {
        rc = haar_cascade_from_xml(&x, xml_path, out);
        haar_xml_free(&x);
    }
    fh_free(buf);
    return rc;
}

void haar_free(struct haar_cascade *c) {
    if (!c) return;
    fh_free(c->stages);
    fh_free(c->trees);
    fh_free(c->nodes);
    fh_free(c->leaves);
    fh_free(c->features);
    fh_free(c);
}
