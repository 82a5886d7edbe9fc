/* Document writer: JSONL lines, zstd-compressed when the path ends in .zst, written atomically. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

struct data_writer {
    lmc_atomic at;
    ZSTD_CStream *z;
    char *zout;
    size_t zout_cap;
    uint64_t count;
    lmc_buf tmp;
};

int data_writer_open(data_writer **out, const char *path, lmc_err *err) {
    *out = NULL;
    data_writer *w = calloc(1, sizeof *w);
    if (!w) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    if (lmc_atomic_open(&w->at, path, err) < 0) { free(w); return -1; }
    size_t n = strlen(path);
    if (n >= 4 && strcmp(path + n - 4, ".zst") == 0) {
        w->z = ZSTD_createCStream();
        w->zout_cap = ZSTD_CStreamOutSize();
        w->zout = malloc(w->zout_cap);
        if (!w->z || !w->zout) { data_writer_abort(w); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
        ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);
    }
    *out = w;
    return 0;
}

static int zflush(data_writer *w, const void *p, size_t n, ZSTD_EndDirective mode, lmc_err *err) {
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        ZSTD_outBuffer o = {w->zout, w->zout_cap, 0};
        size_t rem = ZSTD_compressStream2(w->z, &o, &in, mode);
        if (ZSTD_isError(rem)) return lmc_errf(err, LMC_EIO, "%s: zstd: %s", w->at.path, ZSTD_getErrorName(rem));
        if (o.pos && fwrite(w->zout, 1, o.pos, w->at.fp) != o.pos) return lmc_err_sys(err, w->at.path, "write");
        if (mode == ZSTD_e_continue ? in.pos == in.size : rem == 0) return 0;
    }
}

int data_writer_write(data_writer *w, const void *p, size_t n, lmc_err *err) {
    if (n == 0) return 0;
    if (w->z) return zflush(w, p, n, ZSTD_e_continue, err);
    if (fwrite(p, 1, n, w->at.fp) != n) return lmc_err_sys(err, w->at.path, "write");
    return 0;
}

static int put_line(data_writer *w, const char *p, size_t n, lmc_err *err) {
    if (data_writer_write(w, p, n, err) < 0 || data_writer_write(w, "\n", 1, err) < 0) return -1;
    w->count++;
    return 0;
}

/* {"field": text} for a plain-text document. */
static int text_object(lmc_buf *b, const char *field, const char *text, size_t len, lmc_err *err) {
    b->len = 0;
    if (lmc_buf_append(b, "{", 1, err) < 0 || lmc_json_escape(b, field, strlen(field), err) < 0 ||
        lmc_buf_append(b, ":", 1, err) < 0 || lmc_json_escape(b, text, len, err) < 0 ||
        lmc_buf_append(b, "}", 1, err) < 0)
        return -1;
    return 0;
}

int data_writer_doc(data_writer *w, const data_doc *d, const char *field, lmc_err *err) {
    if (d->raw) return put_line(w, d->raw, d->raw_len, err);
    if (text_object(&w->tmp, field, d->text, d->text_len, err) < 0) return -1;
    return put_line(w, w->tmp.data, w->tmp.len, err);
}

int data_writer_doc_text(data_writer *w, const data_doc *d, const char *field, const char *text, size_t len,
                         lmc_err *err) {
    if (!d->raw) {
        if (text_object(&w->tmp, field, text, len, err) < 0) return -1;
        return put_line(w, w->tmp.data, w->tmp.len, err);
    }
    /* Replace only the text value: every other byte of the line stays as it was. */
    size_t vs, ve;
    if (data_json_field_span(d->raw, d->raw_len, field, &vs, &ve) < 0)
        return lmc_errf(err, LMC_EFORMAT, "internal: document %llu has no string field \"%s\"",
                        (unsigned long long)d->index, field);
    lmc_buf *b = &w->tmp;
    b->len = 0;
    if (lmc_buf_append(b, d->raw, vs, err) < 0 || lmc_json_escape(b, text, len, err) < 0 ||
        lmc_buf_append(b, d->raw + ve, d->raw_len - ve, err) < 0)
        return -1;
    return put_line(w, b->data, b->len, err);
}

int data_writer_doc_tagged(data_writer *w, const data_doc *d, const char *field, const char *key,
                           const char *value, lmc_err *err) {
    lmc_buf *b = &w->tmp;
    if (!d->raw) {
        if (text_object(b, field, d->text, d->text_len, err) < 0) return -1;
        b->len--;  /* drop '}' */
    } else {
        /* Splice before the closing brace so every original byte stays as it was. */
        size_t e = d->raw_len;
        while (e > 0 && (d->raw[e - 1] == ' ' || d->raw[e - 1] == '\t' || d->raw[e - 1] == '\r')) e--;
        if (e == 0 || d->raw[e - 1] != '}') return lmc_errf(err, LMC_EFORMAT, "internal: not an object line");
        size_t k = e - 1;
        while (k > 0 && (d->raw[k - 1] == ' ' || d->raw[k - 1] == '\t' || d->raw[k - 1] == '\n' ||
                         d->raw[k - 1] == '\r'))
            k--;
        int empty = k > 0 && d->raw[k - 1] == '{';
        b->len = 0;
        if (lmc_buf_append(b, d->raw, e - 1, err) < 0) return -1;
        if (!empty && lmc_buf_append(b, ",", 1, err) < 0) return -1;
        if (lmc_json_escape(b, key, strlen(key), err) < 0 || lmc_buf_append(b, ":", 1, err) < 0 ||
            lmc_json_escape(b, value, strlen(value), err) < 0 || lmc_buf_append(b, "}", 1, err) < 0)
            return -1;
        return put_line(w, b->data, b->len, err);
    }
    if (lmc_buf_append(b, ",", 1, err) < 0 || lmc_json_escape(b, key, strlen(key), err) < 0 ||
        lmc_buf_append(b, ":", 1, err) < 0 || lmc_json_escape(b, value, strlen(value), err) < 0 ||
        lmc_buf_append(b, "}", 1, err) < 0)
        return -1;
    return put_line(w, b->data, b->len, err);
}

uint64_t data_writer_count(const data_writer *w) { return w->count; }

static void free_writer(data_writer *w) {
    if (w->z) ZSTD_freeCStream(w->z);
    free(w->zout);
    lmc_buf_free(&w->tmp);
    free(w);
}

int data_writer_commit(data_writer *w, lmc_err *err) {
    if (w->z && zflush(w, NULL, 0, ZSTD_e_end, err) < 0) {
        lmc_atomic_abort(&w->at);
        free_writer(w);
        return -1;
    }
    int rc = lmc_atomic_commit(&w->at, err);
    free_writer(w);
    return rc;
}

void data_writer_abort(data_writer *w) {
    if (!w) return;
    if (w->at.fp) lmc_atomic_abort(&w->at);
    free_writer(w);
}
