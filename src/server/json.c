// SPDX-License-Identifier: MIT
// A growable byte buffer, a tiny JSON writer over it (escaping strings, placing commas)
// and a small validating JSON reader for request bodies, which are flat objects like
// {"name":"Anna"} or {"person":12}: it checks the whole document and keeps the top-level
// scalar members. Not a general JSON library: nested values are validated and skipped.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "server/server_int.h"

// ---- buffer -----------------------------------------------------------------------------------
static int buf_reserve(struct srv_buf *b, size_t extra) {
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < b->len + extra + 1) nc *= 2;
    char *p = fh_realloc(b->data, nc);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->data = p, b->cap = nc;
    return 1;
}

void srv_buf_put(struct srv_buf *b, const void *p, size_t n) {
    if (!buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void srv_buf_puts(struct srv_buf *b, const char *s) { srv_buf_put(b, s, strlen(s)); }

void srv_buf_printf(struct srv_buf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof tmp) {
        srv_buf_put(b, tmp, (size_t)k);
        return;
    }
    if (!buf_reserve(b, (size_t)k)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)k;
}

void srv_buf_free(struct srv_buf *b) {
    fh_free(b->data);
    memset(b, 0, sizeof *b);
}

char *srv_buf_take(struct srv_buf *b, size_t *n) {
    char *p = b->data;
    *n = b->len;
    memset(b, 0, sizeof *b);
    return p;
}

// ---- writer -------------------------------------------------------------------------------------
void jw_init(struct srv_json *w, struct srv_buf *b) {
    memset(w, 0, sizeof *w);
    w->b = b;
    w->first[0] = 1;
}

// a value or key is about to be written at the current depth
static void sep(struct srv_json *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (!w->first[w->depth]) srv_buf_put(w->b, ",", 1);
    w->first[w->depth] = 0;
}

static void open_(struct srv_json *w, char c) {
    sep(w);
    srv_buf_put(w->b, &c, 1);
    FH_ASSERT(w->depth + 1 < SRV_JSON_DEPTH);
    w->first[++w->depth] = 1;
}

static void close_(struct srv_json *w, char c) {
    FH_ASSERT(w->depth > 0);
    w->depth--;
    srv_buf_put(w->b, &c, 1);
}

void jw_obj(struct srv_json *w) { open_(w, '{'); }
void jw_obj_end(struct srv_json *w) { close_(w, '}'); }
void jw_arr(struct srv_json *w) { open_(w, '['); }
void jw_arr_end(struct srv_json *w) { close_(w, ']'); }

// length of the valid UTF-8 sequence at s (1..4), 0 if invalid or longer than the avail
// bytes there (avail >= 1; a NUL-terminated string may pass SIZE_MAX: NUL ends a sequence)
static int utf8_len(const unsigned char *s, size_t avail) {
    if (s[0] < 0x80) return 1;
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if ((size_t)n > avail) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0) return 0;  // overlong
    if (n == 3 && s[0] == 0xed && s[1] >= 0xa0) return 0; // surrogates
    if (n == 4 && s[0] == 0xf0 && s[1] < 0x90) return 0;  // overlong
    if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90) return 0; // > U+10FFFF
    return n;
}

static void put_string(struct srv_buf *b, const char *s) {
    srv_buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x20 || *p == '"' || *p == '\\' || *p == 0x7f) {
            if (*p == '"') srv_buf_puts(b, "\\\"");
            else if (*p == '\\') srv_buf_puts(b, "\\\\");
            else if (*p == '\n') srv_buf_puts(b, "\\n");
            else if (*p == '\t') srv_buf_puts(b, "\\t");
            else if (*p == '\r') srv_buf_puts(b, "\\r");
            else srv_buf_printf(b, "\\u%04x", *p);
            p++;
            continue;
        }
        int k = utf8_len(p, SIZE_MAX);
        if (!k) { // invalid byte: U+FFFD, so the output stays valid JSON
            srv_buf_puts(b, "\\ufffd");
            p++;
            continue;
        }
        // U+2028/2029 are valid JSON but break JavaScript string literals
        if (k == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            srv_buf_printf(b, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
        else srv_buf_put(b, p, (size_t)k);
        p += k;
    }
    srv_buf_put(b, "\"", 1);
}

void jw_key(struct srv_json *w, const char *k) {
    sep(w);
    put_string(w->b, k);
    srv_buf_put(w->b, ":", 1);
    w->after_key = 1;
}

void jw_str(struct srv_json *w, const char *s) {
    sep(w);
    if (s) put_string(w->b, s);
    else srv_buf_puts(w->b, "null");
}

void jw_int(struct srv_json *w, int64_t v) {
    sep(w);
    srv_buf_printf(w->b, "%lld", (long long)v);
}

void jw_num(struct srv_json *w, double v) {
    sep(w);
    if (isfinite(v)) srv_buf_printf(w->b, "%.6g", v);
    else srv_buf_puts(w->b, "null");
}

void jw_bool(struct srv_json *w, int v) {
    sep(w);
    srv_buf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct srv_json *w) {
    sep(w);
    srv_buf_puts(w->b, "null");
}

void jw_id(struct srv_json *w, int64_t id) {
    if (id) jw_int(w, id);
    else jw_null(w);
}

// ---- reader ------------------------------------------------------------------------------------
struct rd {
    const char *p, *end, *start;
};

static int rd_fail(const struct rd *r, const char *what) {
    return fh_fail(FH_E_FORMAT, "bad JSON at byte %zu: %s", (size_t)(r->p - r->start), what);
}

static void ws(struct rd *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int hex4(const char *p, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = (unsigned char)p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        *v = *v * 16 + (unsigned)d;
    }
    return 1;
}

static void put_utf8(struct srv_buf *b, unsigned c) {
    unsigned char u[4];
    size_t n;
    if (c < 0x80) u[0] = (unsigned char)c, n = 1;
    else if (c < 0x800) u[0] = (unsigned char)(0xc0 | c >> 6), u[1] = (unsigned char)(0x80 | (c & 63)), n = 2;
    else if (c < 0x10000)
        u[0] = (unsigned char)(0xe0 | c >> 12), u[1] = (unsigned char)(0x80 | (c >> 6 & 63)),
        u[2] = (unsigned char)(0x80 | (c & 63)), n = 3;
    else
        u[0] = (unsigned char)(0xf0 | c >> 18), u[1] = (unsigned char)(0x80 | (c >> 12 & 63)),
        u[2] = (unsigned char)(0x80 | (c >> 6 & 63)), u[3] = (unsigned char)(0x80 | (c & 63)), n = 4;
    srv_buf_put(b, u, n);
}

// a string at r->p (the opening quote); out may be NULL (validate only)
static int rd_string(struct rd *r, struct srv_buf *out) {
    r->p++;
    while (r->p < r->end) {
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            return FH_OK;
        }
        if (c < 0x20) return rd_fail(r, "control character in string");
        if (c == '\\') {
            if (r->end - r->p < 2) break;
            char e = r->p[1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char map[] = "\"\\/\b\f\n\r\t";
                if (out) srv_buf_put(out, &map[simple - "\"\\/bfnrt"], 1);
                r->p += 2;
                continue;
            }
            unsigned v, lo;
            if (e != 'u' || r->end - r->p < 6 || !hex4(r->p + 2, &v)) return rd_fail(r, "bad escape");
            r->p += 6;
            if (v >= 0xd800 && v < 0xdc00) { // a surrogate pair must follow
                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || !hex4(r->p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return rd_fail(r, "lone surrogate");
                r->p += 6;
                v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            } else if (v >= 0xdc00 && v < 0xe000) return rd_fail(r, "lone surrogate");
            if (v == 0) return rd_fail(r, "NUL in string");
            if (out) put_utf8(out, v);
            continue;
        }
        int k = utf8_len((const unsigned char *)r->p, (size_t)(r->end - r->p));
        if (!k) return rd_fail(r, "invalid UTF-8");
        if (out) srv_buf_put(out, r->p, (size_t)k);
        r->p += k;
    }
    return rd_fail(r, "unterminated string");
}

static int rd_number(struct rd *r, double *v) {
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return rd_fail(r, "bad number");
    if (*r->p == '0') r->p++;
    else while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9') return rd_fail(r, "bad number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9') return rd_fail(r, "bad number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    }
    char tmp[64];
    size_t n = (size_t)(r->p - s);
    if (n >= sizeof tmp) return rd_fail(r, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    return FH_OK;
}

static int lit(struct rd *r, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n)) return 0;
    r->p += n;
    return 1;
}

// any value; top-level members of the root object are recorded in m (NULL elsewhere)
static int rd_value(struct rd *r, int depth, struct srv_jmember *m) {
    if (depth > SRV_JSON_DEPTH) return fh_fail(FH_E_LIMIT, "JSON nested deeper than %d", SRV_JSON_DEPTH);
    ws(r);
    if (r->p >= r->end) return rd_fail(r, "value expected");
    int rc;
    char c = *r->p;
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
        } else {
            for (;;) {
                ws(r);
                if (c == '{') {
                    if (r->p >= r->end || *r->p != '"') return rd_fail(r, "key expected");
                    if ((rc = rd_string(r, NULL))) return rc;
                    ws(r);
                    if (r->p >= r->end || *r->p != ':') return rd_fail(r, "':' expected");
                    r->p++;
                }
                if ((rc = rd_value(r, depth + 1, NULL))) return rc;
                ws(r);
                if (r->p < r->end && *r->p == ',') {
                    r->p++;
                    continue;
                }
                if (r->p < r->end && *r->p == close) {
                    r->p++;
                    break;
                }
                return rd_fail(r, "',' or end of container expected");
            }
        }
        if (m) m->type = SRV_J_OTHER;
        return FH_OK;
    }
    if (c == '"') {
        struct srv_buf b = {0};
        rc = rd_string(r, m ? &b : NULL);
        if (!rc && m) {
            srv_buf_put(&b, "", 0); // an empty string still gets a buffer
            if (b.oom) rc = fh_fail(FH_E_NOMEM, "out of memory");
            else {
                m->type = SRV_J_STR, m->str = b.data;
                return FH_OK;
            }
        }
        srv_buf_free(&b);
        return rc;
    }
    if (lit(r, "true") || lit(r, "false")) {
        if (m) m->type = SRV_J_BOOL, m->num = r->p[-1] == 'e' && r->p[-2] == 'u';
        return FH_OK;
    }
    if (lit(r, "null")) {
        if (m) m->type = SRV_J_NULL;
        return FH_OK;
    }
    double v = 0;
    if ((rc = rd_number(r, &v))) return rc;
    if (m) m->type = SRV_J_NUM, m->num = v;
    return FH_OK;
}

int srv_json_parse(const char *text, size_t n, struct srv_jdoc *d) {
    memset(d, 0, sizeof *d);
    struct rd r = {text, text + n, text};
    int rc = FH_OK;
    ws(&r);
    if (r.p >= r.end || *r.p != '{') return rd_fail(&r, "an object expected");
    r.p++;
    ws(&r);
    if (r.p < r.end && *r.p == '}') r.p++;
    else
        for (;;) {
            ws(&r);
            if (r.p >= r.end || *r.p != '"') {
                rc = rd_fail(&r, "key expected");
                break;
            }
            struct srv_buf key = {0};
            rc = rd_string(&r, &key);
            if (rc || key.oom) {
                srv_buf_free(&key);
                rc = rc ? rc : fh_fail(FH_E_NOMEM, "out of memory");
                break;
            }
            if (d->n == SRV_JSON_MEMBERS) {
                srv_buf_free(&key);
                rc = fh_fail(FH_E_LIMIT, "JSON object with more than %d members", SRV_JSON_MEMBERS);
                break;
            }
            struct srv_jmember *m = &d->m[d->n++];
            snprintf(m->key, sizeof m->key, "%s", key.data ? key.data : "");
            if (key.len >= sizeof m->key) m->key[0] = 0; // never matches a field
            srv_buf_free(&key);
            ws(&r);
            if (r.p >= r.end || *r.p != ':') {
                rc = rd_fail(&r, "':' expected");
                break;
            }
            r.p++;
            if ((rc = rd_value(&r, 1, m))) break;
            ws(&r);
            if (r.p < r.end && *r.p == ',') {
                r.p++;
                continue;
            }
            if (r.p < r.end && *r.p == '}') {
                r.p++;
                break;
            }
            rc = rd_fail(&r, "',' or '}' expected");
            break;
        }
    if (!rc) {
        ws(&r);
        if (r.p != r.end) rc = rd_fail(&r, "trailing characters");
    }
    if (rc) srv_json_free(d);
    return rc;
}

void srv_json_free(struct srv_jdoc *d) {
    for (int i = 0; i < d->n; i++) fh_free(d->m[i].str);
    memset(d, 0, sizeof *d);
}

const struct srv_jmember *srv_json_get(const struct srv_jdoc *d, const char *key) {
    const struct srv_jmember *found = NULL;
    for (int i = 0; i < d->n; i++) // the last of duplicate keys wins, as in JavaScript
        if (d->m[i].key[0] && !strcmp(d->m[i].key, key)) found = &d->m[i];
    return found;
}
