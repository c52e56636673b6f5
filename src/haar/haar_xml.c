// SPDX-License-Identifier: MIT
// A tiny XML reader for OpenCV's cascade files: one pass over the buffer, elements in a
// flat array linked parent/child/next, names and text as spans of the buffer. Written
// here rather than taken from libxml2 because the format is fixed and small (elements,
// numbers, comments), and a self-contained reader keeps the build free of one more
// system library and lets every error name the line it found.
#include <string.h>

#include "base/base.h"
#include "haar/haar_int.h"

// A cascade file has ~30k elements (frontalface_default: 2913 features, 2913 trees);
// the biggest OpenCV ships (alt_tree, 2.7 MB) ~120k. Nesting is at most 6 deep.
#define XML_MAX_ELEMENTS 4000000
#define XML_MAX_DEPTH 64

static int line_of(const char *buf, int pos) {
    int line = 1;
    for (int i = 0; i < pos && buf[i]; i++) line += buf[i] == '\n';
    return line;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_name(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

static int push(struct haar_xml *x, int parent) {
    if (x->n == x->cap) {
        if (x->cap >= XML_MAX_ELEMENTS) return -1;
        int cap = x->cap ? 2 * x->cap : 1024;
        struct haar_xml_el *e = fh_realloc(x->el, (size_t)cap * sizeof *e);
        if (!e) return -2;
        x->el = e, x->cap = cap;
    }
    int k = x->n++;
    struct haar_xml_el *e = &x->el[k];
    memset(e, 0, sizeof *e);
    e->parent = parent, e->child = e->last = e->next = -1;
    if (parent >= 0) {
        struct haar_xml_el *p = &x->el[parent];
        if (p->last >= 0) x->el[p->last].next = k;
        else p->child = k;
        p->last = k;
    }
    return k;
}

static int fail_free(struct haar_xml *x, int rc) {
    haar_xml_free(x);
    return rc;
}

int haar_xml_parse(struct haar_xml *x, const char *buf, const char *what) {
    memset(x, 0, sizeof *x);
    x->buf = buf;
    int cur = -1, depth = 0, roots = 0;
    int i = 0;
#define XFAIL(code, ...) fail_free(x, fh_fail(code, __VA_ARGS__))   // message first, then free
    while (buf[i]) {
        if (buf[i] != '<') {   // character data: keep the first non-blank run per element
            int s = i;
            while (buf[i] && buf[i] != '<') i++;
            int a = s, b = i;
            while (a < b && is_space(buf[a])) a++;
            while (b > a && is_space(buf[b - 1])) b--;
            if (a < b) {
                if (cur < 0)
                    return XFAIL(FH_E_FORMAT, "haar: %s:%d: text outside the root element", what,
                                 line_of(buf, a));
                if (!x->el[cur].text_len) x->el[cur].text = a, x->el[cur].text_len = b - a;
            }
            continue;
        }
        if (!strncmp(buf + i, "<!--", 4)) {
            const char *e = strstr(buf + i + 4, "-->");
            if (!e) return XFAIL(FH_E_FORMAT, "haar: %s:%d: unterminated comment (truncated file?)",
                                 what, line_of(buf, i));
            i = (int)(e - buf) + 3;
            continue;
        }
        if (!strncmp(buf + i, "<![CDATA[", 9))
            return XFAIL(FH_E_FORMAT, "haar: %s:%d: CDATA is not expected in a cascade", what,
                         line_of(buf, i));
        if (buf[i + 1] == '?' || buf[i + 1] == '!') {   // <?xml ...?>, <!DOCTYPE ...>
            const char *e = strchr(buf + i, '>');
            if (!e) return XFAIL(FH_E_FORMAT, "haar: %s:%d: unterminated declaration", what,
                                 line_of(buf, i));
            i = (int)(e - buf) + 1;
            continue;
        }
        if (buf[i + 1] == '/') {   // end tag
            int s = i + 2, n = 0;
            while (is_name(buf[s + n])) n++;
            int j = s + n;
            while (is_space(buf[j])) j++;
            if (buf[j] != '>')
                return XFAIL(FH_E_FORMAT, "haar: %s:%d: bad end tag (truncated file?)", what,
                             line_of(buf, i));
            if (cur < 0 || x->el[cur].name_len != n || memcmp(buf + x->el[cur].name, buf + s, (size_t)n))
                return XFAIL(FH_E_FORMAT, "haar: %s:%d: end tag </%.*s> does not match its start tag",
                             what, line_of(buf, i), n, buf + s);
            cur = x->el[cur].parent, depth--;
            i = j + 1;
            continue;
        }
        // start tag
        int s = i + 1, n = 0;
        while (is_name(buf[s + n])) n++;
        if (!n) return XFAIL(FH_E_FORMAT, "haar: %s:%d: '<' not followed by a tag name", what,
                             line_of(buf, i));
        const char *gt = strchr(buf + s + n, '>');
        if (!gt) return XFAIL(FH_E_FORMAT, "haar: %s:%d: unterminated tag <%.*s (truncated file?)",
                              what, line_of(buf, i), n, buf + s);
        int end = (int)(gt - buf);
        int selfclose = buf[end - 1] == '/' && end - 1 >= s + n;
        if (cur < 0 && roots++)
            return XFAIL(FH_E_FORMAT, "haar: %s:%d: a second root element <%.*s>", what,
                         line_of(buf, i), n, buf + s);
        if (depth >= XML_MAX_DEPTH)
            return XFAIL(FH_E_LIMIT, "haar: %s:%d: elements nested deeper than %d", what,
                         line_of(buf, i), XML_MAX_DEPTH);
        int k = push(x, cur);
        if (k == -1) return XFAIL(FH_E_LIMIT, "haar: %s: more than %d elements", what, XML_MAX_ELEMENTS);
        if (k == -2) return XFAIL(FH_E_NOMEM, "haar: %s: out of memory", what);
        x->el[k].name = s, x->el[k].name_len = n;
        x->el[k].attr = s + n, x->el[k].attr_len = end - selfclose - (s + n);
        if (!selfclose) cur = k, depth++;
        i = end + 1;
    }
    if (cur >= 0)
        return XFAIL(FH_E_FORMAT, "haar: %s: file ends inside <%.*s> (truncated?)", what,
                     x->el[cur].name_len, buf + x->el[cur].name);
    if (!roots) return XFAIL(FH_E_FORMAT, "haar: %s: no XML element in the file", what);
#undef XFAIL
    return FH_OK;
}

void haar_xml_free(struct haar_xml *x) {
    fh_free(x->el);
    memset(x, 0, sizeof *x);
}

int haar_xml_is(const struct haar_xml *x, int e, const char *name) {
    size_t n = strlen(name);
    return e >= 0 && (size_t)x->el[e].name_len == n && !memcmp(x->buf + x->el[e].name, name, n);
}

int haar_xml_child(const struct haar_xml *x, int e, const char *name) {
    if (e < 0) return -1;
    for (int c = x->el[e].child; c >= 0; c = x->el[c].next)
        if (haar_xml_is(x, c, name)) return c;
    return -1;
}

int haar_xml_count(const struct haar_xml *x, int e) {
    int n = 0;
    if (e >= 0)
        for (int c = x->el[e].child; c >= 0; c = x->el[c].next) n++;
    return n;
}
