// SPDX-License-Identifier: MIT
// multipart/form-data (RFC 7578) over a body held in memory: parts are views into the
// body, nothing is copied or decoded. Only Content-Disposition's name and filename are
// read; other part headers are skipped. A pure function of its input, so it can be fuzzed.
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "server/server_int.h"

#define BOUNDARY_MAX 70  // RFC 2046
#define PART_HEADERS_MAX 8192

int srv_multipart_boundary(const char *ct, char *out, size_t n) {
    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) return fh_fail(FH_E_ARG, "expected multipart/form-data");
    const char *p = ct + 19;
    while ((p = strchr(p, ';'))) {
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (strncasecmp(p, "boundary=", 9)) continue;
        p += 9;
        size_t k = 0;
        int quoted = *p == '"';
        if (quoted) p++;
        while (p[k] && (quoted ? p[k] != '"' : p[k] != ';' && p[k] != ' ' && p[k] != '\t')) k++;
        if (k == 0 || k > BOUNDARY_MAX || k >= n) return fh_fail(FH_E_ARG, "bad multipart boundary");
        memcpy(out, p, k);
        out[k] = 0;
        return FH_OK;
    }
    return fh_fail(FH_E_ARG, "multipart/form-data without a boundary");
}

// the value of `key="..."` (or key=token) in a header line [p, end); out "" if absent
static int header_param(const char *p, const char *end, const char *key, char *out, size_t n) {
    size_t kl = strlen(key);
    out[0] = 0;
    for (const char *s = p; s + kl < end; s++) {
        // a parameter starts after ';' or whitespace
        if ((s == p || s[-1] == ';' || s[-1] == ' ' || s[-1] == '\t') && !strncasecmp(s, key, kl) && s[kl] == '=') {
            const char *v = s + kl + 1, *e;
            if (v < end && *v == '"') {
                v++;
                for (e = v; e < end && *e != '"'; e++)
                    if (*e == '\\' && e + 1 < end) e++;
            } else
                for (e = v; e < end && *e != ';' && *e != ' ' && *e != '\t'; e++) {}
            size_t k = 0;
            for (const char *c = v; c < e && k + 1 < n; c++) {
                if (*c == '\\' && c + 1 < e) c++;
                out[k++] = *c;
            }
            out[k] = 0;
            return 1;
        }
    }
    return 0;
}

int srv_multipart_parse(const uint8_t *body, size_t n, const char *boundary, int max,
                        struct srv_part **parts, int *n_parts) {
    *parts = NULL, *n_parts = 0;
    char delim[BOUNDARY_MAX + 5];
    size_t bl = strlen(boundary);
    if (!bl || bl > BOUNDARY_MAX) return fh_fail(FH_E_ARG, "bad multipart boundary");
    snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    size_t dl = bl + 4;
    const char *b = (const char *)body, *end = b + n;
    // the first delimiter may come without the leading CRLF (no preamble)
    const char *p;
    if (n >= dl - 2 && !memcmp(b, delim + 2, dl - 2)) p = b + dl - 2;
    else {
        p = memmem(b, n, delim, dl);
        if (!p) return fh_fail(FH_E_FORMAT, "multipart: no boundary found");
        p += dl;
    }
    struct srv_part *v = NULL;
    int cnt = 0, cap = 0, rc = FH_OK;
    for (;;) {
        // after a delimiter: "--" ends the body, else transport padding and CRLF
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            rc = fh_fail(FH_E_FORMAT, "multipart: bad delimiter line");
            break;
        }
        p += 2;
        const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *blank = NULL;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') blank = p; // a part without headers
        if (!hend && !blank) {
            rc = fh_fail(FH_E_FORMAT, "multipart: part headers not terminated");
            break;
        }
        if (blank) hend = blank - 2;
        if (hend - p > PART_HEADERS_MAX) {
            rc = fh_fail(FH_E_LIMIT, "multipart: part headers longer than %d bytes", PART_HEADERS_MAX);
            break;
        }
        struct srv_part part;
        memset(&part, 0, sizeof part);
        for (const char *line = p; line < hend;) {
            const char *le = memmem(line, (size_t)(hend - line), "\r\n", 2);
            if (!le) le = hend;
            if ((size_t)(le - line) > 20 && !strncasecmp(line, "Content-Disposition:", 20)) {
                header_param(line + 20, le, "name", part.name, sizeof part.name);
                part.has_filename = header_param(line + 20, le, "filename", part.filename, sizeof part.filename);
            }
            line = le + 2;
        }
        const char *data = hend + 4;
        if (data > end) {
            rc = fh_fail(FH_E_FORMAT, "multipart: truncated part");
            break;
        }
        const char *next = memmem(data, (size_t)(end - data), delim, dl);
        if (!next) {
            rc = fh_fail(FH_E_FORMAT, "multipart: missing closing boundary");
            break;
        }
        if (cnt == max) {
            rc = fh_fail(FH_E_LIMIT, "multipart: more than %d parts", max);
            break;
        }
        if (cnt == cap) {
            int nc = cap ? cap * 2 : 8;
            struct srv_part *nv = fh_realloc(v, (size_t)nc * sizeof *nv);
            if (!nv) {
                rc = fh_fail(FH_E_NOMEM, "out of memory");
                break;
            }
            v = nv, cap = nc;
        }
        part.data = (const uint8_t *)data;
        part.len = (size_t)(next - data);
        v[cnt++] = part;
        p = next + dl;
    }
    if (rc) {
        fh_free(v);
        return rc;
    }
    *parts = v, *n_parts = cnt;
    return FH_OK;
}
