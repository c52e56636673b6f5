// SPDX-License-Identifier: MIT
// multipart/form-data (RFC 7578), streamed: a state machine fed the body in pieces of any
// size (a delimiter may be split across pieces) that hands each part's headers and data to
// a sink as they arrive, never holding a part. Limits (part count, part header bytes) are
// checked as bytes arrive. Only Content-Disposition's name and filename are read; other
// part headers are skipped. A pure function of its input and the sink, so it can be fuzzed.
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"
#include "server/server_int.h"

#define BOUNDARY_MAX SRV_MP_BOUNDARY_MAX

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
        // RFC 2046 bchars: the parser relies on a boundary without CR or LF
        for (size_t i = 0; i < k; i++)
            if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ", p[i]) || !p[i])
                return fh_fail(FH_E_ARG, "bad multipart boundary");
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

enum { S_PRE, S_AFTER, S_AFTER_DASH, S_PAD, S_LF, S_HDR, S_BODY, S_END };

int srv_mp_init(struct srv_mp *m, const char *boundary, int max_parts, const struct srv_mp_sink *sink) {
    memset(m, 0, sizeof *m);
    size_t bl = strlen(boundary);
    if (!bl || bl > BOUNDARY_MAX || strpbrk(boundary, "\r\n")) return fh_fail(FH_E_ARG, "bad multipart boundary");
    m->dl = (size_t)snprintf(m->delim, sizeof m->delim, "\r\n--%s", boundary);
    m->state = S_PRE;
    m->match = 2; // the body start counts as a line start: "--boundary" first needs no CRLF
    m->max_parts = max_parts;
    m->sink = *sink;
    return FH_OK;
}

// the part headers in hdr[0..n): Content-Disposition's name and filename
static void parse_headers(const char *hdr, size_t n, struct srv_mp_head *h) {
    memset(h, 0, sizeof *h);
    const char *end = hdr + n;
    for (const char *line = hdr; line < end;) {
        const char *le = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!le) le = end;
        if ((size_t)(le - line) > 20 && !strncasecmp(line, "Content-Disposition:", 20)) {
            header_param(line + 20, le, "name", h->name, sizeof h->name);
            h->has_filename = header_param(line + 20, le, "filename", h->filename, sizeof h->filename);
        }
        line = le + 2;
    }
}

static int emit(struct srv_mp *m, const void *p, size_t n) {
    return m->state == S_BODY && n ? m->sink.data(m->sink.ctx, p, n) : FH_OK;
}

int srv_mp_feed(struct srv_mp *m, const uint8_t *p, size_t n) {
    size_t i = 0;
    while (!m->rc && i < n) {
        if (m->state == S_PRE || m->state == S_BODY) {
            if (!m->match) { // outside a possible delimiter: pass data up to the next CR
                const uint8_t *cr = memchr(p + i, '\r', n - i);
                size_t run = cr ? (size_t)(cr - (p + i)) : n - i;
                m->rc = emit(m, p + i, run);
                i += run;
                if (cr) m->match = 1, i++;
                continue;
            }
            if (p[i] == (uint8_t)m->delim[m->match]) {
                i++;
                if (++m->match < m->dl) continue;
                m->match = 0;
                if (m->state == S_BODY) m->rc = m->sink.end(m->sink.ctx);
                m->state = S_AFTER;
                continue;
            }
            // not a delimiter: the bytes matched so far were data. The delimiter has its
            // only CR first, so a new match can only start at p[i]: look at it again.
            m->rc = emit(m, m->delim, m->match);
            m->match = 0;
            continue;
        }
        uint8_t c = p[i++];
        switch (m->state) {
        case S_AFTER:
            if (c == '-') m->state = S_AFTER_DASH;
            else if (c == ' ' || c == '\t') m->state = S_PAD;
            else if (c == '\r') m->state = S_LF;
            else m->rc = fh_fail(FH_E_FORMAT, "multipart: bad delimiter line");
            break;
        case S_AFTER_DASH:
            if (c == '-') m->state = S_END;
            else m->rc = fh_fail(FH_E_FORMAT, "multipart: bad delimiter line");
            break;
        case S_PAD: // transport padding after a delimiter
            if (c == '\r') m->state = S_LF;
            else if (c != ' ' && c != '\t') m->rc = fh_fail(FH_E_FORMAT, "multipart: bad delimiter line");
            break;
        case S_LF:
            if (c != '\n') m->rc = fh_fail(FH_E_FORMAT, "multipart: bad delimiter line");
            else if (m->parts == m->max_parts) m->rc = fh_fail(FH_E_LIMIT, "multipart: more than %d parts", m->max_parts);
            else m->parts++, m->hdr_len = m->line_start = 0, m->state = S_HDR;
            break;
        case S_HDR:
            if (m->hdr_len == sizeof m->hdr) {
                m->rc = fh_fail(FH_E_LIMIT, "multipart: part headers longer than %zu bytes", sizeof m->hdr);
                break;
            }
            m->hdr[m->hdr_len++] = (char)c;
            if (c != '\n' || m->hdr_len - m->line_start < 2 || m->hdr[m->hdr_len - 2] != '\r') break;
            if (m->hdr_len - m->line_start > 2) { // a header line ended
                m->line_start = m->hdr_len;
                break;
            }
            { // the blank line: the part's data follows
                struct srv_mp_head h;
                parse_headers(m->hdr, m->line_start, &h);
                m->state = S_BODY, m->match = 0;
                m->rc = m->sink.begin(m->sink.ctx, &h);
            }
            break;
        default: // S_END: the epilogue is ignored
            i = n;
        }
    }
    return m->rc;
}

int srv_mp_finish(struct srv_mp *m) {
    if (m->rc) return m->rc;
    if (m->state == S_END) return FH_OK;
    return m->rc = fh_fail(FH_E_FORMAT, m->state == S_PRE ? "multipart: no boundary found"
                                        : m->state == S_HDR ? "multipart: part headers not terminated"
                                                            : "multipart: missing closing boundary");
}
