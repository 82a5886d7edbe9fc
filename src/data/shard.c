/* Token shard reading and writing. See shard.h. */
#include "data/shard.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* Is this the start of an llm.c header (magic and its version)? */
static int llmc_header_at(const unsigned char *p, size_t len) {
    if (len < 8) return 0;
    uint32_t magic = rd32(p), version = rd32(p + 4);
    return (magic == LMC_SHARD_MAGIC_U16 && version == 1) || (magic == LMC_SHARD_MAGIC_U32 && version == 7);
}

int lmc_shard_open(lmc_shard *s, const char *path, lmc_err *err) {
    return lmc_shard_open_kind(s, path, LMC_SHARD_LLMC, err);
}

int lmc_shard_open_kind(lmc_shard *s, const char *path, lmc_shard_kind kind, lmc_err *err) {
    memset(s, 0, sizeof *s);
    int rc = lmc_map_file(path, &s->map, err);
    if (rc) return rc;
    const unsigned char *p = s->map.data;
    size_t len = s->map.len;
    if (kind == LMC_SHARD_NANOGPT) {
        /* Asked for explicitly. An llm.c header here would be read as tokens: refuse it instead. */
        if (llmc_header_at(p, len)) {
            uint32_t magic = rd32(p); /* read before the unmap */
            lmc_shard_close(s);
            return lmc_err_off(err, LMC_EFORMAT, path, 0,
                               "an llm.c shard header (magic %u), but a headerless nanoGPT file was asked for",
                               magic);
        }
        if (len % 2) {
            lmc_shard_close(s);
            return lmc_err_off(err, LMC_EFORMAT, path, len - 1,
                               "odd size (%zu bytes) for a headerless uint16 nanoGPT file", len);
        }
        s->token_bytes = 2;
        s->ntok = len / 2;
        s->tokens = p;
        s->kind = LMC_SHARD_NANOGPT;
        s->path = strdup(path);
        return 0;
    }
    uint32_t magic = len >= 4 ? rd32(p) : 0;
    if (magic != LMC_SHARD_MAGIC_U16 && magic != LMC_SHARD_MAGIC_U32) {
        /* Never guess "headerless" from a failed magic: a damaged header would be trained on. */
        lmc_shard_close(s);
        if (len < 4)
            return lmc_err_off(err, LMC_EFORMAT, path, len, "not a token shard: %zu bytes, expected an llm.c "
                               "header of %d bytes", len, LMC_SHARD_HEADER_BYTES);
        return lmc_err_off(err, LMC_EFORMAT, path, 0,
                           "not an llm.c token shard: magic %u, expected %d (uint16) or %d (uint32); "
                           "a headerless nanoGPT file must be asked for (data.format: nanogpt, --data-format nanogpt)",
                           magic, LMC_SHARD_MAGIC_U16, LMC_SHARD_MAGIC_U32);
    }
    uint32_t version = len >= 8 ? rd32(p + 4) : 0;
    int want_version = magic == LMC_SHARD_MAGIC_U16 ? 1 : 7;
    if (len < LMC_SHARD_HEADER_BYTES) {
        lmc_shard_close(s);
        return lmc_err_off(err, LMC_EFORMAT, path, len, "truncated shard header: expected %d bytes",
                           LMC_SHARD_HEADER_BYTES);
    }
    if ((int)version != want_version) {
        lmc_shard_close(s);
        return lmc_err_off(err, LMC_EFORMAT, path, 4, "unsupported shard version %u for magic %u (expected %d)",
                           version, magic, want_version);
    }
    int token_bytes = magic == LMC_SHARD_MAGIC_U16 ? 2 : 4;
    uint64_t ntok = rd32(p + 8);
    uint64_t want = LMC_SHARD_HEADER_BYTES + ntok * (uint64_t)token_bytes;
    if (want != len) {
        lmc_shard_close(s);
        return lmc_errf(err, LMC_EFORMAT,
                        "%s: header says %" PRIu64 " tokens (%" PRIu64 " bytes) but the file has %zu bytes%s",
                        path, ntok, want, len, want > len ? " (truncated?)" : "");
    }
    s->token_bytes = token_bytes;
    s->ntok = ntok;
    s->tokens = p + LMC_SHARD_HEADER_BYTES;
    s->kind = LMC_SHARD_LLMC;
    s->path = strdup(path);
    return 0;
}

int lmc_shard_kind_parse(const char *name, lmc_shard_kind *kind) {
    if (!name || !*name || !strcmp(name, "llmc")) *kind = LMC_SHARD_LLMC;
    else if (!strcmp(name, "nanogpt")) *kind = LMC_SHARD_NANOGPT;
    else return -1;
    return 0;
}

void lmc_shard_close(lmc_shard *s) {
    lmc_unmap(&s->map);
    free(s->path);
    memset(s, 0, sizeof *s);
}

void lmc_shard_read(const lmc_shard *s, uint64_t start, uint64_t n, int32_t *out) {
    for (uint64_t i = 0; i < n; i++) out[i] = (int32_t)lmc_shard_get(s, start + i);
}

uint32_t lmc_shard_max_token(const lmc_shard *s) {
    uint32_t m = 0;
    for (uint64_t i = 0; i < s->ntok; i++) {
        uint32_t t = lmc_shard_get(s, i);
        if (t > m) m = t;
    }
    return m;
}

#define WRITER_BUF (1u << 20)

int lmc_shard_writer_open(lmc_shard_writer *w, const char *path, uint32_t vocab_size, lmc_err *err) {
    memset(w, 0, sizeof *w);
    w->token_bytes = vocab_size <= 65536 ? 2 : 4;
    w->buf = malloc(WRITER_BUF);
    if (!w->buf) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = lmc_atomic_open(&w->file, path, err);
    if (rc) {
        free(w->buf);
        w->buf = NULL;
        return rc;
    }
    unsigned char header[LMC_SHARD_HEADER_BYTES] = {0}; /* patched in commit */
    if (fwrite(header, 1, sizeof header, w->file.fp) != sizeof header) {
        lmc_err_sys(err, path, "write");
        lmc_shard_writer_abort(w);
        return LMC_EIO;
    }
    return 0;
}

static int flush_buf(lmc_shard_writer *w, lmc_err *err) {
    if (w->buf_len && fwrite(w->buf, 1, w->buf_len, w->file.fp) != w->buf_len)
        return lmc_err_sys(err, w->file.path, "write");
    w->buf_len = 0;
    return 0;
}

int lmc_shard_writer_put(lmc_shard_writer *w, const uint32_t *tokens, size_t n, lmc_err *err) {
    if (w->ntok + n > INT32_MAX)
        return lmc_errf(err, LMC_EINVAL, "%s: a shard holds at most %d tokens (the header count is int32)",
                        w->file.path, INT32_MAX);
    for (size_t i = 0; i < n; i++) {
        uint32_t t = tokens[i];
        if (w->buf_len + 4 > WRITER_BUF && flush_buf(w, err)) return LMC_EIO;
        unsigned char *p = w->buf + w->buf_len;
        if (w->token_bytes == 2) {
            if (t > 0xFFFF)
                return lmc_errf(err, LMC_EINVAL, "%s: token id %u does not fit a uint16 shard", w->file.path, t);
            p[0] = (unsigned char)t;
            p[1] = (unsigned char)(t >> 8);
            w->buf_len += 2;
        } else {
            wr32(p, t);
            w->buf_len += 4;
        }
    }
    w->ntok += n;
    return 0;
}

int lmc_shard_writer_commit(lmc_shard_writer *w, lmc_err *err) {
    int rc = flush_buf(w, err);
    if (!rc) {
        unsigned char head[12];
        wr32(head, w->token_bytes == 2 ? LMC_SHARD_MAGIC_U16 : LMC_SHARD_MAGIC_U32);
        wr32(head + 4, w->token_bytes == 2 ? 1 : 7);
        wr32(head + 8, (uint32_t)w->ntok);
        if (fseek(w->file.fp, 0, SEEK_SET) != 0 || fwrite(head, 1, sizeof head, w->file.fp) != sizeof head)
            rc = lmc_err_sys(err, w->file.path, "write header");
    }
    if (rc) {
        lmc_shard_writer_abort(w);
        return rc;
    }
    rc = lmc_atomic_commit(&w->file, err);
    free(w->buf);
    w->buf = NULL;
    return rc;
}

void lmc_shard_writer_abort(lmc_shard_writer *w) {
    lmc_atomic_abort(&w->file);
    free(w->buf);
    w->buf = NULL;
}
