/* JSON Lines writer. See jsonl.h. */
#include "base/jsonl.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int lmc_jsonl_open(lmc_jsonl *w, const char *path, int append, lmc_err *err) {
    memset(w, 0, sizeof *w);
    if (!strcmp(path, "-")) {
        w->fp = stdout;
        return 0;
    }
    w->fp = fopen(path, append ? "ab" : "wb");
    if (!w->fp) return lmc_err_sys(err, path, "open");
    w->path = strdup(path);
    w->own_fp = 1;
    return 0;
}

void lmc_jsonl_wrap(lmc_jsonl *w, FILE *fp) {
    memset(w, 0, sizeof *w);
    w->fp = fp;
}

/* Decode one UTF-8 sequence; returns its length, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

int lmc_json_escape(lmc_buf *b, const char *str, size_t n, lmc_err *err) {
    const unsigned char *s = (const unsigned char *)str;
    if (lmc_buf_append(b, "\"", 1, err)) return LMC_ENOMEM;
    size_t i = 0;
    while (i < n) {
        size_t run = i; /* copy plain bytes in one go */
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\') run++;
        if (run > i && lmc_buf_append(b, s + i, run - i, err)) return LMC_ENOMEM;
        i = run;
        if (i >= n) break;
        unsigned c = s[i];
        char esc[8];
        const char *e = NULL;
        size_t elen = 0;
        if (c == '"') e = "\\\"";
        else if (c == '\\') e = "\\\\";
        else if (c == '\n') e = "\\n";
        else if (c == '\r') e = "\\r";
        else if (c == '\t') e = "\\t";
        else if (c < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", c); e = esc; }
        if (e) {
            elen = strlen(e);
            if (lmc_buf_append(b, e, elen, err)) return LMC_ENOMEM;
            i++;
            continue;
        }
        size_t l = utf8_len(s + i, n - i);
        if (l == 0) {
            if (lmc_buf_append(b, "\\ufffd", 6, err)) return LMC_ENOMEM;
            i++;
        } else {
            if (lmc_buf_append(b, s + i, l, err)) return LMC_ENOMEM;
            i += l;
        }
    }
    return lmc_buf_append(b, "\"", 1, err);
}

static void key(lmc_jsonl *w, const char *k) {
    if (w->nfields++) lmc_buf_append(&w->line, ",", 1, NULL);
    lmc_json_escape(&w->line, k, strlen(k), NULL);
    lmc_buf_append(&w->line, ":", 1, NULL);
}

void lmc_jsonl_begin(lmc_jsonl *w) {
    w->line.len = 0;
    w->nfields = 0;
    lmc_buf_append(&w->line, "{", 1, NULL);
}

void lmc_jsonl_int(lmc_jsonl *w, const char *k, int64_t v) {
    key(w, k);
    lmc_buf_printf(&w->line, NULL, "%" PRId64, v);
}

void lmc_jsonl_num(lmc_jsonl *w, const char *k, double v) {
    key(w, k);
    if (!isfinite(v)) lmc_buf_append(&w->line, "null", 4, NULL);
    else lmc_buf_printf(&w->line, NULL, "%.17g", v);
}

void lmc_jsonl_str(lmc_jsonl *w, const char *k, const char *v) {
    key(w, k);
    lmc_json_escape(&w->line, v, strlen(v), NULL);
}

void lmc_jsonl_bool(lmc_jsonl *w, const char *k, int v) {
    key(w, k);
    lmc_buf_printf(&w->line, NULL, "%s", v ? "true" : "false");
}

void lmc_jsonl_raw(lmc_jsonl *w, const char *k, const char *json) {
    key(w, k);
    lmc_buf_append(&w->line, json, strlen(json), NULL);
}

int lmc_jsonl_end(lmc_jsonl *w, lmc_err *err) {
    lmc_buf_append(&w->line, "}\n", 2, NULL);
    if (fwrite(w->line.data, 1, w->line.len, w->fp) != w->line.len || fflush(w->fp) != 0)
        return lmc_err_sys(err, w->path ? w->path : "(stream)", "write");
    return 0;
}

int lmc_jsonl_close(lmc_jsonl *w, lmc_err *err) {
    int rc = 0;
    if (w->own_fp && w->fp && fclose(w->fp) != 0) rc = lmc_err_sys(err, w->path, "close");
    lmc_buf_free(&w->line);
    free(w->path);
    memset(w, 0, sizeof *w);
    return rc;
}
