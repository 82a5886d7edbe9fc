/* Streaming readers: plain, gzip (incl. concatenated members), zstd; truncation and corruption
 * are errors naming the file and offset; the line reader handles long and unterminated lines. */
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "test.h"

static char *make_text(size_t *len) {
    lmc_buf b = {0};
    for (int i = 0; i < 20000; i++) lmc_buf_printf(&b, NULL, "line %d: the quick brown fox\n", i + 1);
    lmc_buf_printf(&b, NULL, "last line without newline");
    *len = b.len;
    return b.data;
}

static void write_gz(const char *path, const char *data, size_t len) {
    gzFile g = gzopen(path, "wb");
    gzwrite(g, data, (unsigned)len);
    gzclose(g);
}

static void write_zst(const char *path, const char *data, size_t len, size_t *clen) {
    size_t cap = ZSTD_compressBound(len);
    void *c = malloc(cap);
    size_t n = ZSTD_compress(c, cap, data, len, 3);
    lmc_write_file_atomic(path, c, n, NULL);
    *clen = n;
    free(c);
}

static void truncate_file(const char *path, size_t keep) {
    char *d;
    size_t n;
    lmc_read_file(path, &d, &n, NULL);
    lmc_write_file_atomic(path, d, keep < n ? keep : n, NULL);
    free(d);
}

static void check_same(const char *path, const char *want, size_t want_len) {
    lmc_err err = {0};
    char *got;
    size_t n;
    int rc = lmc_read_all(path, &got, &n, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(rc == 0 && n == want_len && !memcmp(got, want, n));
    free(got);
}

static void check_lines(const char *path) {
    lmc_err err = {0};
    lmc_lines *lr;
    CHECK(lmc_lines_open(&lr, path, &err) == 0);
    const char *line;
    size_t len;
    int count = 0, ok = 1;
    while (lmc_lines_next(lr, &line, &len, &err) == 1) {
        count++;
        if (count <= 20000) {
            char want[64];
            snprintf(want, sizeof want, "line %d: the quick brown fox", count);
            if (strlen(want) != len || memcmp(want, line, len)) ok = 0;
        } else if (strcmp(line, "last line without newline")) ok = 0;
        if (lmc_lines_lineno(lr) != (uint64_t)count) ok = 0;
    }
    CHECK(ok);
    CHECK_EQ_INT(count, 20001);
    lmc_lines_close(lr);
}

int main(void) {
    char *dir = test_tmpdir();
    size_t len;
    char *text = make_text(&len);
    lmc_err err = {0};

    char *plain = lmc_path_join(dir, "a.txt");
    lmc_write_file_atomic(plain, text, len, NULL);
    check_same(plain, text, len);
    check_lines(plain);

    char *gz = lmc_path_join(dir, "a.txt.gz");
    write_gz(gz, text, len);
    check_same(gz, text, len);
    check_lines(gz);

    /* concatenated gzip members read as one stream (as `cat a.gz b.gz` does) */
    char *gz2 = lmc_path_join(dir, "two.gz");
    {
        char *d;
        size_t n;
        lmc_read_file(gz, &d, &n, NULL);
        char *dd = malloc(2 * n);
        memcpy(dd, d, n);
        memcpy(dd + n, d, n);
        lmc_write_file_atomic(gz2, dd, 2 * n, NULL);
        char *twice = malloc(2 * len);
        memcpy(twice, text, len);
        memcpy(twice + len, text, len);
        check_same(gz2, twice, 2 * len);
        free(twice); free(dd); free(d);
    }

    char *zst = lmc_path_join(dir, "a.txt.zst");
    size_t clen;
    write_zst(zst, text, len, &clen);
    check_same(zst, text, len);
    check_lines(zst);

    /* truncated .gz and .zst: errors that say so and name the file */
    char *d;
    size_t n;
    truncate_file(gz, 200);
    CHECK(lmc_read_all(gz, &d, &n, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, gz);
    CHECK_STR_CONTAINS(err.msg, "truncated gzip");
    truncate_file(zst, clen / 2);
    CHECK(lmc_read_all(zst, &d, &n, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, zst);
    CHECK_STR_CONTAINS(err.msg, "truncated zstd");
    /* the line reader reports the same error instead of a short read */
    lmc_lines *lr;
    CHECK(lmc_lines_open(&lr, zst, &err) == 0);
    const char *line;
    size_t ll;
    int rc;
    while ((rc = lmc_lines_next(lr, &line, &ll, &err)) == 1) {}
    CHECK(rc == LMC_EFORMAT);
    lmc_lines_close(lr);

    /* corrupt zstd body */
    write_zst(zst, text, len, &clen);
    {
        char *z;
        size_t zn;
        lmc_read_file(zst, &z, &zn, NULL);
        for (size_t i = 20; i < zn && i < 60; i++) z[i] ^= 0x5a;
        lmc_write_file_atomic(zst, z, zn, NULL);
        free(z);
    }
    CHECK(lmc_read_all(zst, &d, &n, &err) == LMC_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "zstd");

    /* missing file */
    char *missing = lmc_path_join(dir, "missing.zst");
    CHECK(lmc_reader_open((lmc_reader **)&lr, missing, &err) == LMC_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing.zst");

    /* a single 12 MB line, and an empty file */
    size_t big = 12u << 20;
    char *bl = malloc(big + 1);
    memset(bl, 'x', big);
    bl[big] = '\n';
    char *bigp = lmc_path_join(dir, "big.txt");
    lmc_write_file_atomic(bigp, bl, big + 1, NULL);
    CHECK(lmc_lines_open(&lr, bigp, &err) == 0);
    CHECK(lmc_lines_next(lr, &line, &ll, &err) == 1 && ll == big && line[0] == 'x' && line[big - 1] == 'x');
    CHECK(lmc_lines_next(lr, &line, &ll, &err) == 0);
    lmc_lines_close(lr);
    lmc_write_file_atomic(bigp, "", 0, NULL);
    CHECK(lmc_lines_open(&lr, bigp, &err) == 0);
    CHECK(lmc_lines_next(lr, &line, &ll, &err) == 0);
    lmc_lines_close(lr);

    free(bl); free(bigp); free(missing); free(zst); free(gz2); free(gz); free(plain); free(text);
    lmc_remove_tree(dir, NULL);
    free(dir);
    return test_summary("base/reader");
}
