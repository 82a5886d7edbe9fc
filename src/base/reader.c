/* Streaming readers over plain, gzip and zstd files (format chosen by magic bytes), and a line
 * reader on top. See reader.h.
 *
 * Truncation is detected, not ignored: a gzip stream must end with Z_STREAM_END (every member, for
 * concatenated members) and a zstd stream must end on a frame boundary. */
#include "base/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define RAW_CHUNK (1u << 17)

struct lmc_reader {
    int fd;
    int own_fd;
    char *path;
    lmc_compression comp;
    unsigned char *raw;       /* compressed input buffer */
    size_t raw_len, raw_pos;  /* valid bytes and read position in raw */
    uint64_t raw_offset;      /* compressed bytes consumed from the file */
    int raw_eof;
    int done;                 /* clean end reached */
    /* gzip */
    z_stream zs;
    int zs_init, gz_member_done;
    /* zstd */
    ZSTD_DStream *zd;
    size_t zstd_last;         /* last ZSTD_decompressStream return: 0 = at a frame boundary */
};

static int fill_raw(lmc_reader *r, lmc_err *err) {
    if (r->raw_pos < r->raw_len || r->raw_eof) return 0;
    r->raw_pos = r->raw_len = 0;
    for (;;) {
        ssize_t n = read(r->fd, r->raw, RAW_CHUNK);
        if (n < 0) {
            if (errno == EINTR) continue;
            return lmc_err_sys(err, r->path, "read");
        }
        if (n == 0) r->raw_eof = 1;
        r->raw_len = (size_t)n;
        return 0;
    }
}

int lmc_reader_open(lmc_reader **out, const char *path, lmc_err *err) {
    *out = NULL;
    lmc_reader *r = calloc(1, sizeof *r);
    if (!r) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    r->path = strdup(path);
    r->raw = malloc(RAW_CHUNK);
    if (!r->path || !r->raw) {
        lmc_reader_close(r);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    if (!strcmp(path, "-")) {
        r->fd = 0;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            lmc_err_sys(err, path, "open");
            r->fd = -1;
            lmc_reader_close(r);
            return LMC_EIO;
        }
        r->own_fd = 1;
    }
    /* Sniff the magic: read until we have 4 bytes or EOF. */
    while (r->raw_len < 4 && !r->raw_eof) {
        ssize_t n = read(r->fd, r->raw + r->raw_len, RAW_CHUNK - r->raw_len);
        if (n < 0) {
            if (errno == EINTR) continue;
            lmc_err_sys(err, path, "read");
            lmc_reader_close(r);
            return LMC_EIO;
        }
        if (n == 0) r->raw_eof = 1;
        r->raw_len += (size_t)n;
    }
    const unsigned char *m = r->raw;
    if (r->raw_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        r->comp = LMC_COMP_GZIP;
        if (inflateInit2(&r->zs, 15 + 16) != Z_OK) {
            lmc_reader_close(r);
            return lmc_errf(err, LMC_ENOMEM, "%s: cannot initialise zlib", path);
        }
        r->zs_init = 1;
    } else if (r->raw_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        r->comp = LMC_COMP_ZSTD;
        r->zd = ZSTD_createDStream();
        if (!r->zd || ZSTD_isError(ZSTD_initDStream(r->zd))) {
            lmc_reader_close(r);
            return lmc_errf(err, LMC_ENOMEM, "%s: cannot initialise zstd", path);
        }
    } else {
        r->comp = LMC_COMP_NONE;
    }
    *out = r;
    return 0;
}

static long read_plain(lmc_reader *r, unsigned char *buf, size_t n, lmc_err *err) {
    if (r->raw_pos < r->raw_len) {
        size_t k = r->raw_len - r->raw_pos;
        if (k > n) k = n;
        memcpy(buf, r->raw + r->raw_pos, k);
        r->raw_pos += k;
        r->raw_offset += k;
        return (long)k;
    }
    if (r->raw_eof) return 0;
    for (;;) {
        ssize_t k = read(r->fd, buf, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return lmc_err_sys(err, r->path, "read");
        }
        if (k == 0) r->raw_eof = 1;
        r->raw_offset += (uint64_t)k;
        return (long)k;
    }
}

static long read_gzip(lmc_reader *r, unsigned char *buf, size_t n, lmc_err *err) {
    r->zs.next_out = buf;
    r->zs.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
    size_t want = r->zs.avail_out;
    while (r->zs.avail_out == want) {
        if (fill_raw(r, err)) return LMC_EIO;
        if (r->raw_pos == r->raw_len && r->raw_eof) {
            if (!r->gz_member_done)
                return lmc_err_off(err, LMC_EFORMAT, r->path, r->raw_offset,
                                   "truncated gzip stream (file ends before the end of the compressed data)");
            r->done = 1;
            return 0;
        }
        if (r->gz_member_done) { /* another member follows: start it */
            inflateReset(&r->zs);
            r->gz_member_done = 0;
        }
        r->zs.next_in = r->raw + r->raw_pos;
        r->zs.avail_in = (uInt)(r->raw_len - r->raw_pos);
        uInt before = r->zs.avail_in;
        int zr = inflate(&r->zs, Z_NO_FLUSH);
        size_t used = before - r->zs.avail_in;
        r->raw_pos += used;
        r->raw_offset += used;
        if (zr == Z_STREAM_END) {
            r->gz_member_done = 1;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return lmc_err_off(err, LMC_EFORMAT, r->path, r->raw_offset, "corrupt gzip data (%s)",
                               r->zs.msg ? r->zs.msg : "inflate error");
        }
    }
    return (long)(want - r->zs.avail_out);
}

static long read_zstd(lmc_reader *r, unsigned char *buf, size_t n, lmc_err *err) {
    ZSTD_outBuffer out = {buf, n, 0};
    while (out.pos == 0) {
        if (fill_raw(r, err)) return LMC_EIO;
        if (r->raw_pos == r->raw_len && r->raw_eof) {
            if (r->zstd_last != 0)
                return lmc_err_off(err, LMC_EFORMAT, r->path, r->raw_offset,
                                   "truncated zstd stream (file ends inside a frame)");
            r->done = 1;
            return 0;
        }
        ZSTD_inBuffer in = {r->raw + r->raw_pos, r->raw_len - r->raw_pos, 0};
        size_t zr = ZSTD_decompressStream(r->zd, &out, &in);
        r->raw_pos += in.pos;
        r->raw_offset += in.pos;
        if (ZSTD_isError(zr))
            return lmc_err_off(err, LMC_EFORMAT, r->path, r->raw_offset, "corrupt zstd data (%s)",
                               ZSTD_getErrorName(zr));
        r->zstd_last = zr;
    }
    return (long)out.pos;
}

long lmc_reader_read(lmc_reader *r, void *buf, size_t n, lmc_err *err) {
    if (!n || r->done) return 0;
    switch (r->comp) {
    case LMC_COMP_GZIP: return read_gzip(r, buf, n, err);
    case LMC_COMP_ZSTD: return read_zstd(r, buf, n, err);
    default: return read_plain(r, buf, n, err);
    }
}

lmc_compression lmc_reader_compression(const lmc_reader *r) { return r->comp; }
const char *lmc_reader_path(const lmc_reader *r) { return r->path; }
uint64_t lmc_reader_raw_offset(const lmc_reader *r) { return r->raw_offset; }

void lmc_reader_close(lmc_reader *r) {
    if (!r) return;
    if (r->zs_init) inflateEnd(&r->zs);
    if (r->zd) ZSTD_freeDStream(r->zd);
    if (r->own_fd && r->fd >= 0) close(r->fd);
    free(r->raw);
    free(r->path);
    free(r);
}

int lmc_read_all(const char *path, char **data, size_t *len, lmc_err *err) {
    *data = NULL;
    *len = 0;
    lmc_reader *r;
    int rc = lmc_reader_open(&r, path, err);
    if (rc) return rc;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        lmc_reader_close(r);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (;;) {
        if (cap - n < 4096 + 1) {
            char *p = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                lmc_reader_close(r);
                return lmc_errf(err, LMC_ENOMEM, "%s: out of memory", path);
            }
            buf = p;
            cap *= 2;
        }
        long k = lmc_reader_read(r, buf + n, cap - n - 1, err);
        if (k < 0) {
            free(buf);
            lmc_reader_close(r);
            return (int)k;
        }
        if (k == 0) break;
        n += (size_t)k;
    }
    lmc_reader_close(r);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

/* ---- line reader ---- */

struct lmc_lines {
    lmc_reader *r;
    char *buf;          /* decompressed bytes: [start, end) not yet returned */
    size_t cap, start, end;
    uint64_t lineno;
    int eof;
};

int lmc_lines_open(lmc_lines **out, const char *path, lmc_err *err) {
    *out = NULL;
    lmc_lines *lr = calloc(1, sizeof *lr);
    if (!lr) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = lmc_reader_open(&lr->r, path, err);
    if (rc) {
        free(lr);
        return rc;
    }
    lr->cap = 1 << 16;
    lr->buf = malloc(lr->cap);
    if (!lr->buf) {
        lmc_lines_close(lr);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    *out = lr;
    return 0;
}

int lmc_lines_next(lmc_lines *lr, const char **line, size_t *len, lmc_err *err) {
    size_t scan = lr->start;
    for (;;) {
        char *nl = memchr(lr->buf + scan, '\n', lr->end - scan);
        if (nl) {
            *line = lr->buf + lr->start;
            *len = (size_t)(nl - (lr->buf + lr->start));
            *nl = 0;
            lr->start = (size_t)(nl - lr->buf) + 1;
            lr->lineno++;
            return 1;
        }
        if (lr->eof) {
            if (lr->start == lr->end) return 0;
            /* final line without newline: make room for a NUL */
            if (lr->end == lr->cap) {
                char *p = realloc(lr->buf, lr->cap + 1);
                if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
                lr->buf = p;
                lr->cap++;
            }
            lr->buf[lr->end] = 0;
            *line = lr->buf + lr->start;
            *len = lr->end - lr->start;
            lr->start = lr->end;
            lr->lineno++;
            return 1;
        }
        /* need more data: compact, grow if the pending line fills the buffer */
        if (lr->start > 0) {
            memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
            lr->end -= lr->start;
            lr->start = 0;
        }
        scan = lr->end;
        if (lr->cap - lr->end < 4096) {
            if (lr->cap > SIZE_MAX / 2) return lmc_errf(err, LMC_ENOMEM, "line too long");
            char *p = realloc(lr->buf, lr->cap * 2);
            if (!p)
                return lmc_errf(err, LMC_ENOMEM, "%s:%llu: out of memory holding a %zu-byte line",
                                lmc_reader_path(lr->r), (unsigned long long)lr->lineno + 1, lr->end);
            lr->buf = p;
            lr->cap *= 2;
        }
        long k = lmc_reader_read(lr->r, lr->buf + lr->end, lr->cap - lr->end, err);
        if (k < 0) return (int)k;
        if (k == 0) lr->eof = 1;
        lr->end += (size_t)k;
    }
}

uint64_t lmc_lines_lineno(const lmc_lines *lr) { return lr->lineno; }
uint64_t lmc_lines_raw_offset(const lmc_lines *lr) { return lmc_reader_raw_offset(lr->r); }
const char *lmc_lines_path(const lmc_lines *lr) { return lmc_reader_path(lr->r); }

void lmc_lines_close(lmc_lines *lr) {
    if (!lr) return;
    lmc_reader_close(lr->r);
    free(lr->buf);
    free(lr);
}
