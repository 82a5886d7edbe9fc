/* A one-pass JSON validator for one JSONL line that also extracts one top-level string field.
 *
 * Building a jansson tree for every document cost more than the quality filters themselves; this reads
 * the line once, checks it is a well-formed JSON object (RFC 8259: strings with valid escapes and valid
 * UTF-8, numbers, literals, nesting up to 1000 deep), and decodes only the wanted field's string. When a
 * key repeats, the last value wins (as in jansson). */
#include "data/data.h"

#include <string.h>

typedef struct jp {
    const unsigned char *s;
    size_t n, i;
    const char *msg;
} jp;

static int fail(jp *p, const char *msg) {
    if (!p->msg) p->msg = msg;
    return -1;
}

static void ws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}

static int hex4(jp *p, uint32_t *v) {
    if (p->i + 4 > p->n) return fail(p, "truncated \\u escape");
    uint32_t x = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p->s[p->i + (size_t)k];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') x |= (c | 0x20) - 'a' + 10;
        else return fail(p, "invalid \\u escape");
    }
    p->i += 4;
    *v = x;
    return 0;
}


/* A string at p->i (at the opening quote). With out != NULL, the decoded bytes are appended to it. */
static int string(jp *p, lmc_buf *out) {
    p->i++;
    size_t run = p->i;  /* start of bytes copied verbatim */
    for (;;) {
        /* fast scan over plain bytes, 8 at a time: stop at a word holding '"', '\\', a control byte or
         * a non-ASCII byte (the byte loop below then finds which) */
        while (p->i + 8 <= p->n) {
            uint64_t v;
            memcpy(&v, p->s + p->i, 8);
            const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
            uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
            uint64_t stop = (v & high) | ((v - ones * 0x20) & ~v & high) | ((q - ones) & ~q & high) |
                            ((b - ones) & ~b & high);
            if (stop) break;
            p->i += 8;
        }
        while (p->i < p->n) {
            unsigned char c = p->s[p->i];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
            p->i++;
        }
        if (p->i >= p->n) return fail(p, "unterminated string");
        unsigned char c = p->s[p->i];
        if (c == '"') {
            if (out && lmc_buf_append(out, p->s + run, p->i - run, NULL) < 0) return fail(p, "out of memory");
            p->i++;
            return 0;
        }
        if (c < 0x20) return fail(p, "control character in string");
        if (c >= 0x80) {
            size_t bad, len = p->n - p->i < 4 ? p->n - p->i : 4;
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (need > len || !data_utf8_valid((const char *)p->s + p->i, need, &bad))
                return fail(p, "invalid UTF-8 in string");
            p->i += need;
            continue;
        }
        /* escape */
        if (out && lmc_buf_append(out, p->s + run, p->i - run, NULL) < 0) return fail(p, "out of memory");
        p->i++;
        if (p->i >= p->n) return fail(p, "unterminated string");
        char e = (char)p->s[p->i++], d = 0;
        switch (e) {
        case '"': d = '"'; break;
        case '\\': d = '\\'; break;
        case '/': d = '/'; break;
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case 'u': {
            uint32_t u;
            if (hex4(p, &u) < 0) return -1;
            if (u >= 0xD800 && u <= 0xDBFF) {
                uint32_t lo;
                if (p->i + 2 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') return fail(p, "lone surrogate in \\u escape");
                p->i += 2;
                if (hex4(p, &lo) < 0) return -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "invalid surrogate pair in \\u escape");
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                return fail(p, "lone surrogate in \\u escape");
            }
            if (out && lmc_buf_put_utf8(out, u, NULL) < 0) return fail(p, "out of memory");
            run = p->i;
            continue;
        }
        default: return fail(p, "invalid escape in string");
        }
        if (out && lmc_buf_append(out, &d, 1, NULL) < 0) return fail(p, "out of memory");
        run = p->i;
    }
}

static int number(jp *p) {
    size_t st = p->i;
    if (p->i < p->n && p->s[p->i] == '-') p->i++;
    if (p->i >= p->n) return fail(p, "invalid number");
    if (p->s[p->i] == '0') p->i++;
    else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
    else return fail(p, "invalid value");
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        size_t d = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == d) return fail(p, "invalid number");
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        size_t d = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
        if (p->i == d) return fail(p, "invalid number");
    }
    return p->i > st ? 0 : fail(p, "invalid number");
}

static int value(jp *p, int depth);

static int literal(jp *p, const char *w) {
    size_t n = strlen(w);
    if (p->n - p->i < n || memcmp(p->s + p->i, w, n) != 0) return fail(p, "invalid value");
    p->i += n;
    return 0;
}

static int container(jp *p, int depth, char close) {
    if (depth > 1000) return fail(p, "nesting too deep");
    p->i++;
    ws(p);
    if (p->i < p->n && p->s[p->i] == (unsigned char)close) { p->i++; return 0; }
    for (;;) {
        ws(p);
        if (close == '}') {
            if (p->i >= p->n || p->s[p->i] != '"') return fail(p, "string or '}' expected");
            if (string(p, NULL) < 0) return -1;
            ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return fail(p, "':' expected");
            p->i++;
        }
        if (value(p, depth + 1) < 0) return -1;
        ws(p);
        if (p->i >= p->n) return fail(p, "unexpected end of line");
        if (p->s[p->i] == ',') { p->i++; continue; }
        if (p->s[p->i] == (unsigned char)close) { p->i++; return 0; }
        return fail(p, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static int value(jp *p, int depth) {
    ws(p);
    if (p->i >= p->n) return fail(p, "unexpected end of line");
    unsigned char c = p->s[p->i];
    switch (c) {
    case '{': return container(p, depth, '}');
    case '[': return container(p, depth, ']');
    case '"': return string(p, NULL);
    case 't': return literal(p, "true");
    case 'f': return literal(p, "false");
    case 'n': return literal(p, "null");
    default: return number(p);
    }
}

static int line_field(const char *s, size_t n, const char *field, lmc_buf *out, int *found, const char **msg,
                      size_t *col, size_t *vs, size_t *ve);

int data_json_line_field(const char *s, size_t n, const char *field, lmc_buf *out, int *found, const char **msg,
                         size_t *col) {
    size_t vs, ve;
    return line_field(s, n, field, out, found, msg, col, &vs, &ve);
}

int data_json_field_span(const char *s, size_t n, const char *field, size_t *start, size_t *end) {
    lmc_buf tmp = {0};
    int found = 0;
    const char *msg;
    size_t col;
    int rc = line_field(s, n, field, &tmp, &found, &msg, &col, start, end);
    lmc_buf_free(&tmp);
    return rc == 0 && found ? 0 : -1;
}

static int line_field(const char *s, size_t n, const char *field, lmc_buf *out, int *found, const char **msg,
                      size_t *col, size_t *vs, size_t *ve) {
    jp p = {(const unsigned char *)s, n, 0, NULL};
    size_t flen = strlen(field);
    *found = 0;
    out->len = 0;
    ws(&p);
    if (p.i >= p.n || p.s[p.i] != '{') {
        /* valid JSON but not an object, or not JSON */
        if (value(&p, 0) == 0) {
            ws(&p);
            if (p.i == p.n) return 1;
            fail(&p, "end of line expected");
        }
        *msg = p.msg;
        *col = p.i + 1;
        return -1;
    }
    p.i++;
    ws(&p);
    if (p.i < p.n && p.s[p.i] == '}') {
        p.i++;
        goto end;
    }
    for (;;) {
        ws(&p);
        if (p.i >= p.n || p.s[p.i] != '"') { fail(&p, "string or '}' expected"); goto bad; }
        /* a key equal to the field (no escapes in it) -> decode the value */
        size_t ks = p.i + 1;
        if (string(&p, NULL) < 0) goto bad;
        int match = p.i - 1 - ks == flen && memcmp(s + ks, field, flen) == 0;
        ws(&p);
        if (p.i >= p.n || p.s[p.i] != ':') { fail(&p, "':' expected"); goto bad; }
        p.i++;
        ws(&p);
        if (match && p.i < p.n && p.s[p.i] == '"') {
            out->len = 0;
            *vs = p.i;
            if (string(&p, out) < 0) goto bad;
            *ve = p.i;
            *found = 1;
        } else {
            if (match) *found = 0;  /* the last occurrence decides */
            if (value(&p, 1) < 0) goto bad;
        }
        ws(&p);
        if (p.i >= p.n) { fail(&p, "unexpected end of line"); goto bad; }
        if (p.s[p.i] == ',') { p.i++; continue; }
        if (p.s[p.i] == '}') { p.i++; break; }
        fail(&p, "',' or '}' expected");
        goto bad;
    }
end:
    ws(&p);
    if (p.i != p.n) { fail(&p, "end of line expected"); goto bad; }
    return 0;
bad:
    *msg = p.msg;
    *col = p.i + 1;
    return -1;
}
