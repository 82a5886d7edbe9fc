/* TensorBoard event files (see tb_events.h). */
#include "train/tb_events.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "base/io.h"

/* ---- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven ---- */
static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t tb_crc32c(const void *data, size_t n) {
    if (!crc_ready) crc_init();
    const unsigned char *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t tb_masked_crc32c(const void *data, size_t n) {
    uint32_t c = tb_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void put_le(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

double tb_wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- protobuf encoding ---- */
typedef struct { unsigned char *p; size_t len, cap; int oom; } enc;

static void enc_bytes(enc *e, const void *d, size_t n) {
    if (e->oom) return;
    if (e->len + n > e->cap) {
        size_t cap = e->cap ? e->cap : 256;
        while (cap < e->len + n) cap *= 2;
        unsigned char *q = realloc(e->p, cap);
        if (!q) { e->oom = 1; return; }
        e->p = q;
        e->cap = cap;
    }
    memcpy(e->p + e->len, d, n);
    e->len += n;
}

static void enc_varint(enc *e, uint64_t v) {
    unsigned char b[10];
    int n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) b[n] |= 0x80;
        n++;
    } while (v);
    enc_bytes(e, b, (size_t)n);
}

static void enc_key(enc *e, unsigned field, unsigned wire) { enc_varint(e, (uint64_t)field << 3 | wire); }

static void enc_double(enc *e, unsigned field, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    unsigned char b[8];
    put_le(b, u, 8);
    enc_key(e, field, 1);
    enc_bytes(e, b, 8);
}

static void enc_float(enc *e, unsigned field, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    unsigned char b[4];
    put_le(b, u, 4);
    enc_key(e, field, 5);
    enc_bytes(e, b, 4);
}

static void enc_len(enc *e, unsigned field, const void *d, size_t n) {
    enc_key(e, field, 2);
    enc_varint(e, n);
    enc_bytes(e, d, n);
}

/* ---- writer ---- */
static int write_record(tb_writer *w, const unsigned char *data, size_t n, lmc_err *err) {
    unsigned char head[12], tail[4];
    put_le(head, n, 8);
    put_le(head + 8, tb_masked_crc32c(head, 8), 4);
    put_le(tail, tb_masked_crc32c(data, n), 4);
    if (fwrite(head, 1, 12, w->f) != 12 || fwrite(data, 1, n, w->f) != n || fwrite(tail, 1, 4, w->f) != 4)
        return lmc_err_sys(err, w->path, "write");
    return 0;
}

int tb_writer_open(tb_writer *w, const char *dir, double wall_time, lmc_err *err) {
    memset(w, 0, sizeof *w);
    if (lmc_mkdirs(dir, err)) return -1;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) == 0) host[sizeof host - 1] = 0;
    for (char *c = host; *c; c++)
        if (*c == '/' || (unsigned char)*c < 0x20) *c = '_';
    char name[400];
    for (int k = 0; k < 1000; k++) {
        if (k) snprintf(name, sizeof name, "events.out.tfevents.%lld.%s.%d", (long long)wall_time, host, k);
        else snprintf(name, sizeof name, "events.out.tfevents.%lld.%s", (long long)wall_time, host);
        free(w->path);
        w->path = lmc_path_join(dir, name);
        if (!w->path) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        if (!lmc_file_exists(w->path)) break;
    }
    w->f = fopen(w->path, "wbx");
    if (!w->f) {
        int rc = lmc_err_sys(err, w->path, "create");
        free(w->path);
        w->path = NULL;
        return rc;
    }
    enc e = {0};
    enc_double(&e, 1, wall_time);
    enc_len(&e, 3, "brain.Event:2", 13);
    int rc = e.oom ? lmc_errf(err, LMC_ENOMEM, "out of memory") : write_record(w, e.p, e.len, err);
    free(e.p);
    if (!rc && fflush(w->f)) rc = lmc_err_sys(err, w->path, "write");
    if (rc) {
        fclose(w->f);
        w->f = NULL;
    }
    return rc;
}

int tb_writer_flush(tb_writer *w, lmc_err *err) {
    if (!w->f) return 0;
    if (w->open) {
        enc e = {0};
        enc_double(&e, 1, w->wall);
        enc_key(&e, 2, 0);
        enc_varint(&e, (uint64_t)w->step);
        enc_len(&e, 5, w->vals, w->len);
        int rc = e.oom ? lmc_errf(err, LMC_ENOMEM, "out of memory") : write_record(w, e.p, e.len, err);
        free(e.p);
        w->open = 0;
        w->len = 0;
        if (rc) return rc;
    }
    if (fflush(w->f)) return lmc_err_sys(err, w->path, "write");
    return 0;
}

int tb_writer_scalar(tb_writer *w, double wall_time, int64_t step, const char *tag, double value, lmc_err *err) {
    if (!w->f) return 0;
    if (w->open && step != w->step && tb_writer_flush(w, err)) return -1;
    if (!w->open) {
        w->open = 1;
        w->step = step;
        w->wall = wall_time;
        w->len = 0;
    }
    enc v = {0}, e = {w->vals, w->len, w->cap, 0};
    enc_len(&v, 1, tag, strlen(tag));
    enc_float(&v, 2, (float)value);
    if (!v.oom) enc_len(&e, 1, v.p, v.len);
    free(v.p);
    w->vals = e.p;
    w->len = e.len;
    w->cap = e.cap;
    if (v.oom || e.oom) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    return 0;
}

int tb_writer_close(tb_writer *w, lmc_err *err) {
    int rc = 0;
    if (w->f) {
        rc = tb_writer_flush(w, err);
        if (fclose(w->f) && !rc) rc = lmc_err_sys(err, w->path, "close");
        w->f = NULL;
    }
    free(w->path);
    free(w->vals);
    memset(w, 0, sizeof *w);
    return rc;
}

/* ---- reader ---- */
typedef struct { const unsigned char *p, *end; } dec;

static int dec_varint(dec *d, uint64_t *v) {
    uint64_t x = 0;
    for (int s = 0; s < 70; s += 7) {
        if (d->p >= d->end) return -1;
        unsigned char b = *d->p++;
        if (s == 63 && b > 1) return -1;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Read a field key; then the value as: varint (wire 0), 8 / 4 bytes (1 / 5), a span (2). */
typedef struct { unsigned field, wire; uint64_t v; const unsigned char *span; size_t n; } field;

static int dec_field(dec *d, field *f) {
    uint64_t k;
    if (dec_varint(d, &k) || k >> 32) return -1;
    f->field = (unsigned)(k >> 3);
    f->wire = (unsigned)(k & 7);
    switch (f->wire) {
    case 0: return dec_varint(d, &f->v);
    case 1:
        if (d->end - d->p < 8) return -1;
        f->v = get_le(d->p, 8);
        d->p += 8;
        return 0;
    case 5:
        if (d->end - d->p < 4) return -1;
        f->v = get_le(d->p, 4);
        d->p += 4;
        return 0;
    case 2:
        if (dec_varint(d, &f->v) || f->v > (uint64_t)(d->end - d->p)) return -1;
        f->span = d->p;
        f->n = (size_t)f->v;
        d->p += f->n;
        return 0;
    default: return -1; /* groups (3, 4) are not used by these messages */
    }
}

static double as_double(uint64_t u) {
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static double as_float(uint64_t u) {
    uint32_t w = (uint32_t)u;
    float v;
    memcpy(&v, &w, 4);
    return v;
}

/* A scalar TensorProto: dtype float (1) or double (2) and exactly one value. 1 = found. */
static int tensor_scalar(const unsigned char *p, size_t n, double *out) {
    dec d = {p, p + n};
    field f;
    uint64_t dtype = 0;
    int count = 0;
    double v = 0;
    const unsigned char *content = NULL;
    size_t content_n = 0;
    while (d.p < d.end) {
        if (dec_field(&d, &f)) return -1;
        if (f.field == 1 && f.wire == 0) dtype = f.v;
        else if (f.field == 4 && f.wire == 2) { content = f.span; content_n = f.n; }
        else if (f.field == 5 && f.wire == 5) { v = as_float(f.v); count++; }
        else if (f.field == 5 && f.wire == 2) { count += (int)(f.n / 4); if (f.n >= 4) v = as_float(get_le(f.span, 4)); if (f.n % 4) return -1; }
        else if (f.field == 6 && f.wire == 1) { v = as_double(f.v); count++; }
        else if (f.field == 6 && f.wire == 2) { count += (int)(f.n / 8); if (f.n >= 8) v = as_double(get_le(f.span, 8)); if (f.n % 8) return -1; }
    }
    if (dtype != 1 && dtype != 2) return 0;
    if (content && !count) {
        if (dtype == 1 && content_n == 4) { v = as_float(get_le(content, 4)); count = 1; }
        if (dtype == 2 && content_n == 8) { v = as_double(get_le(content, 8)); count = 1; }
    }
    if (count != 1) return 0;
    *out = v;
    return 1;
}

static int summary_values(const unsigned char *p, size_t n, double wall, int64_t step, tb_scalar_fn fn, void *ctx,
                          int *stop) {
    dec d = {p, p + n};
    field f;
    while (d.p < d.end) {
        if (dec_field(&d, &f)) return -1;
        if (f.field != 1 || f.wire != 2) continue;
        dec vd = {f.span, f.span + f.n};
        field g;
        const unsigned char *tag = NULL, *tensor = NULL;
        size_t tag_n = 0, tensor_n = 0;
        int has_simple = 0;
        double v = 0;
        while (vd.p < vd.end) {
            if (dec_field(&vd, &g)) return -1;
            if (g.field == 1 && g.wire == 2) { tag = g.span; tag_n = g.n; }
            else if (g.field == 2 && g.wire == 5) { has_simple = 1; v = as_float(g.v); }
            else if (g.field == 8 && g.wire == 2) { tensor = g.span; tensor_n = g.n; }
        }
        if (!has_simple && tensor) {
            int t = tensor_scalar(tensor, tensor_n, &v);
            if (t < 0) return -1;
            has_simple = t;
        }
        if (!has_simple || !tag) continue;
        char *s = malloc(tag_n + 1);
        if (!s) return -2;
        memcpy(s, tag, tag_n);
        s[tag_n] = 0;
        int rc = fn(ctx, wall, step, s, v);
        free(s);
        if (rc) {
            *stop = rc;
            return 0;
        }
    }
    return 0;
}

int tb_events_parse(const unsigned char *data, size_t len, const char *name, tb_scalar_fn fn, void *ctx,
                    lmc_err *err) {
    size_t pos = 0;
    for (uint64_t rec = 1; pos < len; rec++) {
        if (len - pos < 12) return 0; /* a header cut short at the end */
        uint64_t n = get_le(data + pos, 8);
        if ((uint32_t)get_le(data + pos + 8, 4) != tb_masked_crc32c(data + pos, 8))
            return lmc_errf(err, LMC_EFORMAT, "%s: record %llu at byte %zu: length CRC mismatch (not an event file?)",
                            name, (unsigned long long)rec, pos);
        if (n > len - pos - 12 || len - pos - 12 - n < 4) return 0; /* a record cut short at the end */
        const unsigned char *p = data + pos + 12;
        if ((uint32_t)get_le(p + n, 4) != tb_masked_crc32c(p, (size_t)n))
            return lmc_errf(err, LMC_EFORMAT, "%s: record %llu at byte %zu: data CRC mismatch", name,
                            (unsigned long long)rec, pos);
        dec d = {p, p + n};
        field f;
        double wall = 0;
        int64_t step = 0;
        const unsigned char *sum = NULL;
        size_t sum_n = 0;
        while (d.p < d.end) {
            if (dec_field(&d, &f))
                return lmc_errf(err, LMC_EFORMAT, "%s: record %llu at byte %zu: malformed Event message", name,
                                (unsigned long long)rec, pos);
            if (f.field == 1 && f.wire == 1) wall = as_double(f.v);
            else if (f.field == 2 && f.wire == 0) step = (int64_t)f.v;
            else if (f.field == 5 && f.wire == 2) { sum = f.span; sum_n = f.n; }
        }
        if (sum) {
            int stop = 0, rc = summary_values(sum, sum_n, wall, step, fn, ctx, &stop);
            if (rc == -2) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            if (rc) return lmc_errf(err, LMC_EFORMAT, "%s: record %llu at byte %zu: malformed Summary message", name,
                                    (unsigned long long)rec, pos);
            if (stop) return stop;
        }
        pos += 12 + (size_t)n + 4;
    }
    return 0;
}

int tb_events_read_file(const char *path, tb_scalar_fn fn, void *ctx, lmc_err *err) {
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    int rc = tb_events_parse((const unsigned char *)data, len, path, fn, ctx, err);
    free(data);
    return rc;
}

int tb_is_event_file(const char *name) {
    const char *b = strrchr(name, '/');
    return strstr(b ? b + 1 : name, "tfevents") != NULL;
}
