// SPDX-License-Identifier: MIT
// A growable byte buffer, the one JSON writer for every response (escaping strings,
// placing commas) and the request-body reader: cJSON (Debian's libcjson) parses and
// validates the whole document; this keeps the top-level scalar members of the object
// (bodies are flat, like {"name":"Anna"} or {"person":12}); nested values are skipped.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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

// ---- reader: cJSON parses, this keeps the top-level scalar members -----------------------------
// deepest nesting under v (v itself is 1)
static int depth_of(const cJSON *v, int lim) {
    int d = 0;
    for (const cJSON *c = v->child; c && d <= lim; c = c->next) {
        int k = depth_of(c, lim);
        if (k > d) d = k;
    }
    return d + 1;
}

int srv_json_parse(const char *text, size_t n, struct srv_jdoc *d) {
    memset(d, 0, sizeof *d);
    if (n > SRV_MAX_JSON_BYTES) return fh_fail(FH_E_LIMIT, "JSON body larger than %d bytes", SRV_MAX_JSON_BYTES);
    // cJSON would cut a string at an escaped NUL; refuse it (strings are C strings here)
    for (size_t i = 0; i + 6 <= n; i++)
        if (text[i] == '\\' && text[i + 1] == 'u' && !memcmp(text + i + 2, "0000", 4))
            return fh_fail(FH_E_FORMAT, "bad JSON: \\u0000 in a string");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
    if (!root) {
        size_t at = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
        return fh_fail(FH_E_FORMAT, "bad JSON at byte %zu", at);
    }
    int rc = FH_OK;
    for (const char *p = end; p && p < text + n && !rc; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            rc = fh_fail(FH_E_FORMAT, "bad JSON at byte %zu: trailing characters", (size_t)(p - text));
    if (!rc && !cJSON_IsObject(root)) rc = fh_fail(FH_E_FORMAT, "bad JSON: an object expected");
    if (!rc && depth_of(root, SRV_JSON_DEPTH) > SRV_JSON_DEPTH)
        rc = fh_fail(FH_E_LIMIT, "JSON nested deeper than %d levels", SRV_JSON_DEPTH);
    for (const cJSON *c = rc ? NULL : root->child; c && !rc; c = c->next) {
        if (d->n == SRV_JSON_MEMBERS) {
            rc = fh_fail(FH_E_LIMIT, "JSON object with more than %d members", SRV_JSON_MEMBERS);
            break;
        }
        struct srv_jmember *m = &d->m[d->n++];
        const char *k = c->string ? c->string : "";
        if (strlen(k) < sizeof m->key) strcpy(m->key, k); // a longer key never matches a field
        if (cJSON_IsNull(c)) m->type = SRV_J_NULL;
        else if (cJSON_IsBool(c)) m->type = SRV_J_BOOL, m->num = cJSON_IsTrue(c);
        else if (cJSON_IsNumber(c)) m->type = SRV_J_NUM, m->num = c->valuedouble;
        else if (cJSON_IsString(c)) {
            size_t len = strlen(c->valuestring);
            if (!(m->str = fh_malloc(len + 1))) rc = fh_fail(FH_E_NOMEM, "out of memory");
            else memcpy(m->str, c->valuestring, len + 1), m->type = SRV_J_STR;
        } else if (cJSON_IsArray(c)) {
            // an array of numbers (id lists) is kept; any other array is SRV_J_OTHER
            int len = cJSON_GetArraySize(c), all_num = 1;
            for (const cJSON *e = c->child; e && all_num; e = e->next) all_num = cJSON_IsNumber(e);
            m->type = all_num ? SRV_J_ARR : SRV_J_OTHER;
            if (all_num && len > 0) {
                if (!(m->arr = fh_malloc((size_t)len * sizeof *m->arr))) rc = fh_fail(FH_E_NOMEM, "out of memory");
                for (const cJSON *e = c->child; e && m->arr; e = e->next) m->arr[m->n_arr++] = e->valuedouble;
            }
        } else
            m->type = SRV_J_OTHER;
    }
    cJSON_Delete(root);
    if (rc) srv_json_free(d);
    return rc;
}

void srv_json_free(struct srv_jdoc *d) {
    for (int i = 0; i < d->n; i++) fh_free(d->m[i].str), fh_free(d->m[i].arr);
    memset(d, 0, sizeof *d);
}

const struct srv_jmember *srv_json_get(const struct srv_jdoc *d, const char *key) {
    const struct srv_jmember *found = NULL;
    for (int i = 0; i < d->n; i++) // the last of duplicate keys wins, as in JavaScript
        if (d->m[i].key[0] && !strcmp(d->m[i].key, key)) found = &d->m[i];
    return found;
}
