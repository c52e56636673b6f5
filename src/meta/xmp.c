// SPDX-License-Identifier: MIT
// MWG face regions in XMP through Exempi (meta/xmp.h). Exempi's types stay in this file.
#include "meta/xmp.h"

#include <errno.h>
#include <exempi/xmp.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

#define NS_MWG_RS "http://www.metadataworkinggroup.com/schemas/regions/"
#define NS_ST_DIM "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
#define NS_ST_AREA "http://ns.adobe.com/xmp/sType/Area#"
#define LIST "Regions/mwg-rs:RegionList"
#define DIMS "Regions/mwg-rs:AppliedToDimensions"
#define MARK "mwg-rs:Extensions/facehatch:Source"

// ---- Exempi set-up and small helpers -----------------------------------------------------------
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int ready;

static void init_once(void) {
    if (!xmp_init()) return;
    XmpStringPtr s = xmp_string_new();
    if (!s) return;
    ready = xmp_register_namespace(NS_MWG_RS, "mwg-rs", s) && xmp_register_namespace(NS_ST_DIM, "stDim", s) &&
            xmp_register_namespace(NS_ST_AREA, "stArea", s) &&
            xmp_register_namespace(META_NS_FACEHATCH, "facehatch", s);
    xmp_string_free(s);
}

static int start(void) {
    pthread_once(&once, init_once);
    return ready ? FH_OK : fh_fail(FH_E_UNSUPPORTED, "xmp: Exempi could not be initialised");
}

// the simple (not struct, not array) property at path, copied into buf; 0 when absent, not
// simple or longer than cap - 1 bytes (*too_long set then)
static int get_str(XmpPtr x, XmpStringPtr s, const char *path, char *buf, size_t cap, int *too_long) {
    uint32_t bits = 0;
    if (!xmp_get_property(x, NS_MWG_RS, path, s, &bits) || !XMP_IS_PROP_SIMPLE(bits)) return 0;
    const char *v = xmp_string_cstr(s);
    size_t len = strlen(v);
    if (len >= cap) {
        if (too_long) *too_long = 1;
        return 0;
    }
    memcpy(buf, v, len + 1);
    return 1;
}

// a finite number (surrounding blanks allowed, nothing else)
static int get_num(XmpPtr x, XmpStringPtr s, const char *path, double *out) {
    char buf[64], *end;
    if (!get_str(x, s, path, buf, sizeof buf, NULL)) return 0;
    errno = 0;
    double v = strtod(buf, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (end == buf || *end || errno || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

static int item_has(XmpPtr x, int i, const char *field) {
    char path[160];
    snprintf(path, sizeof path, LIST "[%d]%s%s", i, field ? "/" : "", field ? field : "");
    return xmp_has_property(x, NS_MWG_RS, path);
}

int meta_name_ok(const char *s) {
    size_t n = strlen(s);
    if (n > META_NAME_MAX) return 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {   // UTF-8 (no overlongs, surrogates or > U+10FFFF), no controls
        unsigned c = p[i];
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) { i++; continue; }
        int k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (!k || c > 0xf4 || i + (size_t)k >= n) return 0;
        unsigned cp = c & (0x3f >> k);
        for (int j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        if (cp >= 0x80 && cp < 0xa0) return 0;   // C1 controls
        i += (size_t)k + 1;
    }
    return 1;
}

// items in the region list (an array), at most FH_MAX_XMP_REGIONS + 1 counted
static int count_items(XmpPtr x) {
    int n = 0;
    while (n <= FH_MAX_XMP_REGIONS && item_has(x, n + 1, NULL)) n++;
    return n;
}

// region i (1-based) of x; 0 when unusable
static int read_region(XmpPtr x, XmpStringPtr s, int i, struct meta_region *r) {
    char path[160], unit[32];
    memset(r, 0, sizeof *r);
    double v[4];
    static const char *const f[4] = {"x", "y", "w", "h"};
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Area/stArea:%s", i, f[k]);
        if (!get_num(x, s, path, &v[k])) return 0;
    }
    snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Area/stArea:unit", i);
    if (get_str(x, s, path, unit, sizeof unit, NULL) && strcmp(unit, "normalized")) return 0;
    // the centre inside the image, a positive size of at most the image; then clipped
    if (v[0] < 0 || v[0] > 1 || v[1] < 0 || v[1] > 1 || !(v[2] > 0) || !(v[3] > 0) || v[2] > 1.0001 || v[3] > 1.0001)
        return 0;
    double x0 = fmax(0, v[0] - v[2] / 2), x1 = fmin(1, v[0] + v[2] / 2);
    double y0 = fmax(0, v[1] - v[3] / 2), y1 = fmin(1, v[1] + v[3] / 2);
    if (x1 - x0 < 1e-6 || y1 - y0 < 1e-6) return 0;
    r->x = (x0 + x1) / 2, r->y = (y0 + y1) / 2, r->w = x1 - x0, r->h = y1 - y0;
    char type[32];
    snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Type", i);
    r->face = !get_str(x, s, path, type, sizeof type, NULL) ? !item_has(x, i, "mwg-rs:Type") : !strcmp(type, "Face");
    int too_long = 0;
    snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Name", i);
    if (!get_str(x, s, path, r->name, sizeof r->name, &too_long)) r->name[0] = 0;
    if (too_long || !meta_name_ok(r->name)) return 0;
    r->ours = item_has(x, i, MARK);
    return 1;
}

static int regions_from_xmp(XmpPtr x, struct meta_regions *out) {
    XmpStringPtr s = xmp_string_new();
    if (!s) return fh_fail(FH_E_NOMEM, "xmp: out of memory");
    double w, h;
    char unit[32];
    int unit_ok = !get_str(x, s, DIMS "/stDim:unit", unit, sizeof unit, NULL) || !strcmp(unit, "pixel");
    if (unit_ok && get_num(x, s, DIMS "/stDim:w", &w) && get_num(x, s, DIMS "/stDim:h", &h) && w >= 1 && h >= 1 &&
        w <= FH_MAX_IMAGE_SIDE * 10.0 && h <= FH_MAX_IMAGE_SIDE * 10.0)
        out->dim_w = (int)lround(w), out->dim_h = (int)lround(h);
    int count = count_items(x), rc = FH_OK;
    if (count > FH_MAX_XMP_REGIONS) rc = fh_fail(FH_E_LIMIT, "more than %d regions", FH_MAX_XMP_REGIONS);
    else if (count && !(out->v = fh_calloc((size_t)count, sizeof *out->v))) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
    for (int i = 1; !rc && i <= count; i++) {
        if (read_region(x, s, i, &out->v[out->n])) out->n++;
        else out->skipped++;
    }
    xmp_string_free(s);
    return rc;
}

void meta_regions_free(struct meta_regions *r) {
    if (!r) return;
    fh_free(r->v);
    memset(r, 0, sizeof *r);
}

// parses text into a new XmpPtr; what names the source in messages
static int parse(const char *packet, size_t n, const char *what, XmpPtr *out) {
    *out = NULL;
    if (n > FH_MAX_XMP_BYTES) return fh_fail(FH_E_LIMIT, "%s: XMP larger than %u bytes", what, FH_MAX_XMP_BYTES);
    XmpPtr x = xmp_new_empty();
    if (!x) return fh_fail(FH_E_NOMEM, "%s: out of memory", what);
    if (n && !xmp_parse(x, packet, n)) {
        int e = xmp_get_error();
        xmp_free(x);
        return fh_fail(FH_E_FORMAT, "%s: not valid XMP (Exempi error %d)", what, e);
    }
    *out = x;
    return FH_OK;
}

static int regions_of(XmpPtr x, const char *what, struct meta_regions *out) {
    int rc = regions_from_xmp(x, out);
    if (rc) {
        char m[256];
        snprintf(m, sizeof m, "%s", fh_errmsg());
        meta_regions_free(out);
        fh_fail(rc, "%s: %s", what, m);
    }
    return rc;
}

int meta_regions_parse(const char *packet, size_t n, struct meta_regions *out) {
    memset(out, 0, sizeof *out);
    XmpPtr x;
    int rc = start();
    if (!rc) rc = parse(packet, n, "xmp", &x);
    if (rc) return rc;
    rc = regions_of(x, "xmp", out);
    xmp_free(x);
    return rc;
}

// reads a sidecar into a new XmpPtr; FH_E_NOTFOUND when there is none
static int load_sidecar(const char *path, XmpPtr *out) {
    struct stat st;
    *out = NULL;
    if (stat(path, &st)) {
        if (errno == ENOENT) return fh_fail(FH_E_NOTFOUND, "%s: no such sidecar", path);
        return fh_fail(FH_E_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return fh_fail(FH_E_IO, "%s: not a regular file", path);
    uint8_t *buf;
    size_t n;
    int rc = fh_read_file(path, FH_MAX_XMP_BYTES, &buf, &n);
    if (rc) return rc;
    rc = parse((const char *)buf, n, path, out);
    fh_free(buf);
    return rc;
}

// the regions of what load reads from path
static int read_with(int (*load)(const char *path, XmpPtr *x), const char *path, struct meta_regions *out) {
    memset(out, 0, sizeof *out);
    XmpPtr x;
    int rc = start();
    if (!rc) rc = load(path, &x);
    if (rc) return rc;
    rc = regions_of(x, path, out);
    xmp_free(x);
    return rc;
}

int meta_regions_read_sidecar(const char *xmp_path, struct meta_regions *out) {
    return read_with(load_sidecar, xmp_path, out);
}

// the photo's own XMP (an empty packet when it has none)
static int load_embedded(const char *path, XmpPtr *out) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st)) return fh_fail(FH_E_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fh_fail(FH_E_IO, "%s: not a regular file", path);
    XmpFilePtr f = xmp_files_open_new(path, XMP_OPEN_READ | XMP_OPEN_ONLYXMP);
    if (!f) return fh_fail(FH_E_FORMAT, "%s: Exempi cannot read this file (error %d)", path, xmp_get_error());
    XmpPtr x = xmp_files_get_new_xmp(f);
    xmp_files_close(f, XMP_CLOSE_NOOPTION);
    xmp_files_free(f);
    if (!x && !(x = xmp_new_empty())) return fh_fail(FH_E_NOMEM, "%s: out of memory", path);
    *out = x;
    return FH_OK;
}

int meta_regions_read_embedded(const char *photo_path, struct meta_regions *out) {
    return read_with(load_embedded, photo_path, out);
}

int meta_sidecar_path(const char *photo_path, int with_ext, char *out, size_t n) {
    size_t len = strlen(photo_path);
    if (!with_ext) {
        const char *dot = strrchr(photo_path, '.'), *slash = strrchr(photo_path, '/');
        if (dot && (!slash || dot > slash + 1)) len = (size_t)(dot - photo_path);
    }
    if (len + 5 > n) return fh_fail(FH_E_LIMIT, "%s: sidecar path too long", photo_path);
    memcpy(out, photo_path, len);
    memcpy(out + len, ".xmp", 5);
    return FH_OK;
}

// ---- geometry ----------------------------------------------------------------------------------
// EXIF orientation -> (transpose, mirror x, mirror y) of the upright image's pixel (x, y) into the
// stored one (u, v): u = tr ? y : x, v = tr ? x : y, then mirrored (img/decode.c's table)
static const struct { unsigned char tr, fx, fy; } orient[9] = {
    {0, 0, 0}, {0, 0, 0}, {0, 1, 0}, {0, 1, 1}, {0, 0, 1}, {1, 0, 0}, {1, 0, 1}, {1, 1, 1}, {1, 1, 0},
};

void meta_area_from_box(int orientation, int up_w, int up_h, const int box[4], struct meta_region *r) {
    int o = orientation >= 1 && orientation <= 8 ? orientation : 1, tr = orient[o].tr;
    double sw = tr ? up_h : up_w, sh = tr ? up_w : up_h;
    double X0 = box[0], Y0 = box[1], X1 = box[2] + 1.0, Y1 = box[3] + 1.0;   // inclusive -> [x1, x2 + 1)
    double u0 = tr ? Y0 : X0, u1 = tr ? Y1 : X1, v0 = tr ? X0 : Y0, v1 = tr ? X1 : Y1, t;
    if (orient[o].fx) t = sw - u1, u1 = sw - u0, u0 = t;
    if (orient[o].fy) t = sh - v1, v1 = sh - v0, v0 = t;
    r->x = (u0 + u1) / 2 / sw, r->w = (u1 - u0) / sw;
    r->y = (v0 + v1) / 2 / sh, r->h = (v1 - v0) / sh;
}

void meta_area_to_box(int orientation, int up_w, int up_h, const struct meta_region *r, double box[4]) {
    int o = orientation >= 1 && orientation <= 8 ? orientation : 1, tr = orient[o].tr;
    double sw = tr ? up_h : up_w, sh = tr ? up_w : up_h, t;
    double u0 = (r->x - r->w / 2) * sw, u1 = (r->x + r->w / 2) * sw;
    double v0 = (r->y - r->h / 2) * sh, v1 = (r->y + r->h / 2) * sh;
    if (orient[o].fx) t = sw - u1, u1 = sw - u0, u0 = t;
    if (orient[o].fy) t = sh - v1, v1 = sh - v0, v0 = t;
    box[0] = tr ? v0 : u0, box[2] = tr ? v1 : u1;
    box[1] = tr ? u0 : v0, box[3] = tr ? u1 : v1;
}

static double iou(const struct meta_region *a, const struct meta_region *b) {
    double ix = fmin(a->x + a->w / 2, b->x + b->w / 2) - fmax(a->x - a->w / 2, b->x - b->w / 2);
    double iy = fmin(a->y + a->h / 2, b->y + b->h / 2) - fmax(a->y - a->h / 2, b->y - b->h / 2);
    if (ix <= 0 || iy <= 0) return 0;
    double in = ix * iy;
    return in / (a->w * a->h + b->w * b->h - in);
}

// ---- writing -----------------------------------------------------------------------------------
static int set(XmpPtr x, const char *path, const char *value) {
    return xmp_set_property(x, NS_MWG_RS, path, value, 0)
               ? FH_OK
               : fh_fail(FH_E_FORMAT, "cannot set %s (Exempi error %d)", path, xmp_get_error());
}

// 1 when the mwg-rs:Regions struct holds nothing any more
static int regions_empty(XmpPtr x) {
    XmpIteratorPtr it = xmp_iterator_new(x, NS_MWG_RS, "Regions", XMP_ITER_JUSTCHILDREN);
    if (!it) return 0;
    XmpStringPtr a = xmp_string_new(), b = xmp_string_new(), c = xmp_string_new();
    int empty = 1;
    // the first item an iterator gives is the node itself, then its children
    for (int k = 0; a && b && c && xmp_iterator_next(it, a, b, c, NULL); k++)
        if (strcmp(xmp_string_cstr(b), "mwg-rs:Regions")) empty = 0;
    xmp_string_free(a), xmp_string_free(b), xmp_string_free(c);
    xmp_iterator_free(it);
    return empty;
}

// our regions of x replaced by ours (see the header); x is changed in place
static int merge(XmpPtr x, int dim_w, int dim_h, const struct meta_region *ours, int n) {
    if (dim_w < 1 || dim_h < 1 || n < 0 || n > FH_MAX_XMP_REGIONS || (n && !ours))
        return fh_fail(FH_E_ARG, "xmp: bad regions to write (%dx%d, %d)", dim_w, dim_h, n);
    for (int i = 0; i < n; i++)
        if (!meta_name_ok(ours[i].name))
            return fh_fail(FH_E_ARG, "xmp: a region name is longer than %d bytes or not printable UTF-8", META_NAME_MAX);
    XmpStringPtr s = xmp_string_new();
    if (!s) return fh_fail(FH_E_NOMEM, "xmp: out of memory");
    int count = count_items(x), rc = FH_OK, kept = 0, gone = 0;
    if (count > FH_MAX_XMP_REGIONS) rc = fh_fail(FH_E_LIMIT, "more than %d regions", FH_MAX_XMP_REGIONS);
    char *drop = count ? fh_calloc((size_t)count + 1, 1) : NULL;
    if (!rc && count && !drop) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
    for (int i = 1; !rc && i <= count; i++) {
        struct meta_region r;
        if (item_has(x, i, MARK)) drop[i] = 1;
        else if (read_region(x, s, i, &r) && r.face)
            for (int j = 0; j < n && !drop[i]; j++) drop[i] = iou(&r, &ours[j]) >= META_SAME_IOU;
        kept += !drop[i], gone += drop[i];
    }
    double ew, eh;
    if (!rc && kept && n && get_num(x, s, DIMS "/stDim:w", &ew) && get_num(x, s, DIMS "/stDim:h", &eh) && ew > 0 &&
        eh > 0 && fabs(ew * dim_h - eh * dim_w) > 0.01 * ew * dim_h)
        rc = fh_fail(FH_E_FORMAT, "its regions apply to a %.0fx%.0f image, this one is %dx%d (cropped or turned since?)",
                     ew, eh, dim_w, dim_h);
    for (int i = count; !rc && i >= 1; i--) {
        char path[64];
        snprintf(path, sizeof path, LIST "[%d]", i);
        if (drop[i] && !xmp_delete_property(x, NS_MWG_RS, path))
            rc = fh_fail(FH_E_FORMAT, "cannot delete a region (Exempi error %d)", xmp_get_error());
    }
    fh_free(drop);
    if (!rc && !kept && !n && gone) {   // nothing left: no empty shells either
        xmp_delete_property(x, NS_MWG_RS, LIST);
        xmp_delete_property(x, NS_MWG_RS, DIMS);
        if (regions_empty(x)) xmp_delete_property(x, NS_MWG_RS, "Regions");
    }
    char num[32], path[160];
    if (!rc && n) {
        snprintf(num, sizeof num, "%d", dim_w);
        rc = set(x, DIMS "/stDim:w", num);
        snprintf(num, sizeof num, "%d", dim_h);
        if (!rc) rc = set(x, DIMS "/stDim:h", num);
        if (!rc) rc = set(x, DIMS "/stDim:unit", "pixel");
    }
    for (int j = 0; !rc && j < n; j++) {
        if (!xmp_append_array_item(x, NS_MWG_RS, LIST, XMP_PROP_VALUE_IS_ARRAY, NULL, XMP_PROP_VALUE_IS_STRUCT)) {
            rc = fh_fail(FH_E_FORMAT, "its mwg-rs:RegionList is not a list (Exempi error %d)", xmp_get_error());
            break;
        }
        int i = kept + j + 1;
        double x0 = fmax(0, ours[j].x - ours[j].w / 2), x1 = fmin(1, ours[j].x + ours[j].w / 2);
        double y0 = fmax(0, ours[j].y - ours[j].h / 2), y1 = fmin(1, ours[j].y + ours[j].h / 2);
        const double v[4] = {(x0 + x1) / 2, (y0 + y1) / 2, fmax(0, x1 - x0), fmax(0, y1 - y0)};
        static const char *const f[4] = {"x", "y", "w", "h"};
        for (int k = 0; !rc && k < 4; k++) {
            snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Area/stArea:%s", i, f[k]);
            snprintf(num, sizeof num, "%.6f", v[k]);
            rc = set(x, path, num);
        }
        snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Area/stArea:unit", i);
        if (!rc) rc = set(x, path, "normalized");
        snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Type", i);
        if (!rc) rc = set(x, path, ours[j].face ? "Face" : "Focus");
        snprintf(path, sizeof path, LIST "[%d]/mwg-rs:Name", i);
        if (!rc && ours[j].name[0]) rc = set(x, path, ours[j].name);
        snprintf(path, sizeof path, LIST "[%d]/" MARK, i);
        if (!rc) rc = set(x, path, "facehatch");
    }
    xmp_string_free(s);
    return rc;
}

// x serialised without packet wrapper (a sidecar's form), flags: more XMP_SERIAL_*; *out
// fh_malloc'd, NUL-terminated
static int serialize_as(XmpPtr x, uint32_t flags, char **out, size_t *n) {
    XmpStringPtr s = xmp_string_new();
    if (!s) return fh_fail(FH_E_NOMEM, "xmp: out of memory");
    int rc = FH_OK;
    if (!xmp_serialize(x, s, XMP_SERIAL_OMITPACKETWRAPPER | flags, 0)) {
        rc = fh_fail(FH_E_FORMAT, "cannot serialise the XMP (Exempi error %d)", xmp_get_error());
    } else {
        const char *c = xmp_string_cstr(s);
        *n = strlen(c);
        if (!(*out = fh_malloc(*n + 1))) rc = fh_fail(FH_E_NOMEM, "xmp: out of memory");
        else memcpy(*out, c, *n + 1);
    }
    xmp_string_free(s);
    return rc;
}

static int serialize(XmpPtr x, char **out, size_t *n) { return serialize_as(x, 0, out, n); }

// x in a canonical text: serialised compact (a struct's simple fields as attributes, which is how
// JPEG packets are written and read back), parsed and serialised compact again
static int canonical(XmpPtr x, char **out, size_t *n) {
    char *text;
    size_t len;
    XmpPtr y;
    int rc = serialize_as(x, XMP_SERIAL_USECOMPACTFORMAT, &text, &len);
    if (rc) return rc;
    rc = parse(text, len, "xmp", &y);
    fh_free(text);
    if (rc) return rc;
    rc = serialize_as(y, XMP_SERIAL_USECOMPACTFORMAT, out, n);
    xmp_free(y);
    return rc;
}

// merges, then says whether anything changed (canonical text before == after)
static int merge_changed(XmpPtr x, int dim_w, int dim_h, const struct meta_region *ours, int n, int *changed) {
    char *before = NULL, *after = NULL;
    size_t nb, na;
    int rc = canonical(x, &before, &nb);
    if (!rc) rc = merge(x, dim_w, dim_h, ours, n);
    if (!rc) rc = canonical(x, &after, &na);
    if (!rc) *changed = nb != na || memcmp(before, after, nb) != 0;
    fh_free(before), fh_free(after);
    return rc;
}

static int fsync_dir_of(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= sizeof dir) return fh_fail(FH_E_LIMIT, "%s: path too long", path);
    if (slash) memcpy(dir, path, len), dir[len] = 0;
    else strcpy(dir, ".");
    if (!len && slash) strcpy(dir, "/");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return fh_fail(FH_E_IO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd) && errno != EINVAL ? fh_fail(FH_E_IO, "%s: fsync: %s", dir, strerror(errno)) : FH_OK;
    close(fd);
    return rc;
}

// a new file next to path, named ".<name>.fhtmp-XXXXXX<ext>" (the same extension, so Exempi picks
// the format's handler); *fd open for writing
static int temp_beside(const char *path, int keep_ext, char *tmp, size_t cap, int *fd) {
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    const char *dot = keep_ext ? strrchr(base, '.') : NULL;
    const char *ext = dot && dot != base ? dot : "";
    int m = snprintf(tmp, cap, "%.*s.%s.fhtmp-XXXXXX%s", (int)(base - path), path, base, ext);
    if (m < 0 || (size_t)m >= cap) return fh_fail(FH_E_LIMIT, "%s: path too long", path);
    if ((*fd = mkstemps(tmp, (int)strlen(ext))) < 0) return fh_fail(FH_E_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    return FH_OK;
}

static int write_all(int fd, const void *p, size_t n, const char *path) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return fh_fail(FH_E_IO, "%s: write: %s", path, strerror(errno));
        c += w, n -= (size_t)w;
    }
    return FH_OK;
}

static int copy_fd(int in, int out, const char *path) {
    char buf[1 << 16];
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return fh_fail(FH_E_IO, "%s: read: %s", path, strerror(errno));
        if (!r) return FH_OK;
        int rc = write_all(out, buf, (size_t)r, path);
        if (rc) return rc;
    }
}

int meta_regions_write_sidecar(const char *xmp_path, int dim_w, int dim_h, const struct meta_region *ours, int n,
                               int *changed) {
    *changed = 0;
    XmpPtr x = NULL;
    int rc = start();
    if (rc) return rc;
    rc = load_sidecar(xmp_path, &x);
    if (rc == FH_E_NOTFOUND) {
        if (!n) return FH_OK;   // nothing to say and nothing to take back
        if (!(x = xmp_new_empty())) return fh_fail(FH_E_NOMEM, "xmp: out of memory");
        rc = FH_OK;
    }
    if (rc) return rc;
    char *text = NULL, tmp[4200];
    size_t len;
    int fd = -1, ch = 0;
    rc = merge_changed(x, dim_w, dim_h, ours, n, &ch);
    if (!rc && ch) rc = serialize(x, &text, &len);
    xmp_free(x);
    if (rc || !ch) goto done;
    if ((rc = temp_beside(xmp_path, 0, tmp, sizeof tmp, &fd))) goto done;
    struct stat st;
    mode_t mode = stat(xmp_path, &st) ? 0644 : st.st_mode & 07777;
    rc = write_all(fd, text, len, tmp);
    if (!rc && fchmod(fd, mode)) rc = fh_fail(FH_E_IO, "%s: chmod: %s", tmp, strerror(errno));
    if (!rc && fsync(fd)) rc = fh_fail(FH_E_IO, "%s: fsync: %s", tmp, strerror(errno));
    if (close(fd) && !rc) rc = fh_fail(FH_E_IO, "%s: close: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, xmp_path)) rc = fh_fail(FH_E_IO, "%s: %s", xmp_path, strerror(errno));
    if (rc) unlink(tmp);
    else rc = fsync_dir_of(xmp_path), *changed = 1;
done:
    fh_free(text);
    if (rc) {
        char m[512];
        snprintf(m, sizeof m, "%s", fh_errmsg());
        if (!strstr(m, xmp_path)) fh_fail(rc, "%s: %s", xmp_path, m);
    }
    return rc;
}

// the original kept at backup (never overwritten): a hard link, else a copy
static int keep_backup(const char *photo, const char *backup) {
    struct stat st;
    if (!lstat(backup, &st)) return FH_OK;
    if (errno != ENOENT) return fh_fail(FH_E_IO, "%s: %s", backup, strerror(errno));
    if (!link(photo, backup)) return fsync_dir_of(backup);
    int in = open(photo, O_RDONLY), out = in < 0 ? -1 : open(backup, O_WRONLY | O_CREAT | O_EXCL, 0644);
    int rc = in < 0 || out < 0 ? fh_fail(FH_E_IO, "%s: %s", in < 0 ? photo : backup, strerror(errno)) : FH_OK;
    if (!rc) rc = copy_fd(in, out, backup);
    if (!rc && fstat(in, &st) == 0 && fchmod(out, st.st_mode & 07777)) rc = fh_fail(FH_E_IO, "%s: chmod: %s", backup, strerror(errno));
    if (!rc && fsync(out)) rc = fh_fail(FH_E_IO, "%s: fsync: %s", backup, strerror(errno));
    if (in >= 0) close(in);
    if (out >= 0 && close(out) && !rc) rc = fh_fail(FH_E_IO, "%s: close: %s", backup, strerror(errno));
    if (rc && out >= 0) unlink(backup);
    return rc ? rc : fsync_dir_of(backup);
}

// puts x into the file at tmp (a copy of the photo)
static int put_into(const char *tmp, XmpPtr x) {
    XmpFilePtr f = xmp_files_open_new(tmp, XMP_OPEN_FORUPDATE | XMP_OPEN_ONLYXMP);
    if (!f) return fh_fail(FH_E_UNSUPPORTED, "Exempi cannot write XMP into this file (error %d)", xmp_get_error());
    int rc = FH_OK;
    if (!xmp_files_can_put_xmp(f, x)) rc = fh_fail(FH_E_UNSUPPORTED, "Exempi cannot write XMP into this format");
    else if (!xmp_files_put_xmp(f, x)) rc = fh_fail(FH_E_IO, "writing the XMP failed (Exempi error %d)", xmp_get_error());
    if (!xmp_files_close(f, XMP_CLOSE_NOOPTION) && !rc)
        rc = fh_fail(FH_E_IO, "writing the XMP failed (Exempi error %d)", xmp_get_error());
    xmp_files_free(f);
    return rc;
}

int meta_regions_write_embedded(const char *photo_path, const char *backup_path, int dim_w, int dim_h,
                                const struct meta_region *ours, int n, int *changed) {
    *changed = 0;
    XmpPtr x = NULL;
    int rc = start(), ch = 0, in = -1, fd = -1;
    char tmp[4200] = "";
    struct stat st;
    if (!rc) rc = load_embedded(photo_path, &x);
    if (!rc) rc = merge_changed(x, dim_w, dim_h, ours, n, &ch);
    if (rc || !ch) goto done;
    if (stat(photo_path, &st) || access(photo_path, W_OK)) {
        rc = fh_fail(FH_E_IO, "%s", strerror(errno));
        goto done;
    }
    if (!(st.st_mode & 0222)) {   // read-only (no w bit: root's access() would say yes): left alone
        rc = fh_fail(FH_E_IO, "the photo is read-only");
        goto done;
    }
    if ((in = open(photo_path, O_RDONLY)) < 0) {
        rc = fh_fail(FH_E_IO, "%s", strerror(errno));
        goto done;
    }
    if ((rc = temp_beside(photo_path, 1, tmp, sizeof tmp, &fd))) goto done;
    rc = copy_fd(in, fd, tmp);
    if (close(fd) && !rc) rc = fh_fail(FH_E_IO, "%s: close: %s", tmp, strerror(errno));
    fd = -1;
    if (!rc) rc = put_into(tmp, x);
    if (!rc) {   // the XMP handler wrote through its own descriptor: the photo's mode, durable bytes
        int f = open(tmp, O_RDONLY);
        if (f < 0 || fchmod(f, st.st_mode & 07777) || fsync(f)) rc = fh_fail(FH_E_IO, "%s: %s", tmp, strerror(errno));
        if (f >= 0) close(f);
    }
    if (!rc && backup_path) rc = keep_backup(photo_path, backup_path);
    if (!rc && rename(tmp, photo_path)) rc = fh_fail(FH_E_IO, "rename: %s", strerror(errno));
    if (!rc) tmp[0] = 0, *changed = 1, rc = fsync_dir_of(photo_path);
done:
    if (in >= 0) close(in);
    if (fd >= 0) close(fd);
    if (tmp[0]) unlink(tmp);
    if (x) xmp_free(x);
    if (rc) {
        char m[512];
        snprintf(m, sizeof m, "%s", fh_errmsg());
        if (!strstr(m, photo_path)) fh_fail(rc, "%s: %s", photo_path, m);
    }
    return rc;
}
