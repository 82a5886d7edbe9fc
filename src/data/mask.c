/* Loss-mask sidecar reading and writing. See mask.h. */
#include "data/mask.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rd64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

char *lmc_mask_path(const char *shard_path) {
    size_t n = strlen(shard_path);
    char *p = malloc(n + 6);
    if (!p) return NULL;
    memcpy(p, shard_path, n + 1);
    if (n >= 4 && !strcmp(shard_path + n - 4, ".bin")) n -= 4;
    memcpy(p + n, ".mask", 6);
    return p;
}

int lmc_mask_open(lmc_mask *m, const char *path, uint64_t want_ntok, lmc_err *err) {
    memset(m, 0, sizeof *m);
    int rc = lmc_map_file(path, &m->map, err);
    if (rc) return rc;
    const unsigned char *p = m->map.data;
    size_t len = m->map.len;
    if (len < LMC_MASK_HEADER_BYTES || memcmp(p, LMC_MASK_MAGIC, 8) != 0) {
        lmc_mask_close(m);
        return lmc_err_off(err, LMC_EFORMAT, path, 0, "not a loss-mask file: expected the %d-byte header starting "
                           "with \"%s\\0\" (%zu bytes in the file)", LMC_MASK_HEADER_BYTES, LMC_MASK_MAGIC, len);
    }
    uint32_t version = rd32(p + 8);
    if (version != LMC_MASK_VERSION) {
        lmc_mask_close(m);
        return lmc_err_off(err, LMC_EFORMAT, path, 8, "unsupported loss-mask version %u (expected %d)", version,
                           LMC_MASK_VERSION);
    }
    uint64_t ntok = rd64(p + 16);
    if (ntok != want_ntok) {
        lmc_mask_close(m);
        return lmc_errf(err, LMC_EFORMAT, "%s: the mask holds %" PRIu64 " tokens but its shard has %" PRIu64
                        " (expected %" PRIu64 ")", path, ntok, want_ntok, want_ntok);
    }
    uint64_t want_len = LMC_MASK_HEADER_BYTES + (ntok + 7) / 8;
    if ((uint64_t)len != want_len) {
        lmc_mask_close(m);
        return lmc_errf(err, LMC_EFORMAT, "%s: a mask of %" PRIu64 " tokens is %" PRIu64 " bytes, found %zu%s", path,
                        ntok, want_len, len, (uint64_t)len < want_len ? " (truncated?)" : "");
    }
    m->bits = p + LMC_MASK_HEADER_BYTES;
    m->ntok = ntok;
    return 0;
}

void lmc_mask_close(lmc_mask *m) {
    if (m->map.data) lmc_unmap(&m->map);
    memset(m, 0, sizeof *m);
}

int lmc_mask_writer_open(lmc_mask_writer *w, const char *path, lmc_err *err) {
    memset(w, 0, sizeof *w);
    int rc = lmc_atomic_open(&w->file, path, err);
    if (rc) return rc;
    unsigned char header[LMC_MASK_HEADER_BYTES] = {0}; /* patched in commit */
    if (fwrite(header, 1, sizeof header, w->file.fp) != sizeof header) {
        lmc_err_sys(err, path, "write");
        lmc_mask_writer_abort(w);
        return LMC_EIO;
    }
    return 0;
}

int lmc_mask_writer_put(lmc_mask_writer *w, const uint8_t *bits, size_t n, lmc_err *err) {
    for (size_t i = 0; i < n; i++) {
        if (bits[i]) w->cur |= (unsigned char)(1u << (w->ntok & 7));
        w->ntok++;
        if ((w->ntok & 7) == 0) {
            if (fputc(w->cur, w->file.fp) == EOF) return lmc_err_sys(err, w->file.path, "write");
            w->cur = 0;
        }
    }
    return 0;
}

int lmc_mask_writer_commit(lmc_mask_writer *w, lmc_err *err) {
    int rc = 0;
    if ((w->ntok & 7) && fputc(w->cur, w->file.fp) == EOF) rc = lmc_err_sys(err, w->file.path, "write");
    if (!rc) {
        unsigned char head[LMC_MASK_HEADER_BYTES] = {0};
        memcpy(head, LMC_MASK_MAGIC, 8);
        head[8] = LMC_MASK_VERSION;
        for (int i = 0; i < 8; i++) head[16 + i] = (unsigned char)(w->ntok >> (8 * i));
        if (fseek(w->file.fp, 0, SEEK_SET) != 0 || fwrite(head, 1, sizeof head, w->file.fp) != sizeof head)
            rc = lmc_err_sys(err, w->file.path, "write header");
    }
    if (rc) {
        lmc_mask_writer_abort(w);
        return rc;
    }
    return lmc_atomic_commit(&w->file, err);
}

void lmc_mask_writer_abort(lmc_mask_writer *w) { lmc_atomic_abort(&w->file); }
