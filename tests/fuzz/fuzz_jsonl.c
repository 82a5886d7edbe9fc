/* Fuzz target: the data module's document reader (JSONL and regex-split text), and the text analysis
 * every stage runs (word splitting, quality filters, MinHash, n-gram scan) on arbitrary bytes, valid
 * UTF-8 or not. Any input must give documents or counted skips or a clean error; never a crash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <string.h>
#include "data/data.h"

/* Print the line that made the two parsers disagree, then stop. */
static void mismatch(const char *what, const char *s, size_t n) {
    fprintf(stderr, "fuzz_jsonl: %s on line: ", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? "\\x%02x" : "%c", (unsigned char)s[i]);
    fputc('\n', stderr);
    __builtin_trap();
}

static void read_as(const char *path, data_format fmt, const char *sep) {
    data_read_opts o;
    data_read_opts_default(&o);
    o.format = fmt;
    o.doc_separator = sep;
    data_reader *r;
    lmc_err err = {0};
    if (data_reader_open(&r, &path, 1, &o, &err) < 0) return;
    data_doc *d;
    long n;
    while ((n = data_reader_batch(r, 7, 1 << 16, &d, &err)) > 0)
        for (long i = 0; i < n; i++)
            if (!data_utf8_valid(d[i].text, d[i].text_len, NULL) && fmt == DATA_FMT_TEXT) __builtin_trap();
    if (n < 0 && !err.msg[0]) __builtin_trap();
    data_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("fuzz_jsonl", 0);
    if (fd < 0) return 0;
    if (write(fd, data, size) != (ssize_t)size) { close(fd); return 0; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_as(path, DATA_FMT_JSONL, NULL);
    read_as(path, DATA_FMT_TEXT, "\\n\\s*\\n");
    close(fd);

    /* differential: the one-pass JSONL validator agrees with jansson on every line */
    {
        const char *t0 = (const char *)data;
        size_t pos = 0;
        lmc_buf out = {0};
        while (pos <= size) {
            const char *nl = memchr(t0 + pos, '\n', size - pos);
            size_t len = nl ? (size_t)(nl - (t0 + pos)) : size - pos;
            int found;
            const char *msg;
            size_t col;
            int mine = data_json_line_field(t0 + pos, len, "text", &out, &found, &msg, &col);
            json_error_t je;
            /* jansson stops at a raw NUL byte (not JSON anyway): compare only lines without one */
            json_t *j = memchr(t0 + pos, 0, len) ? NULL : json_loadb(t0 + pos, len, JSON_ALLOW_NUL, &je);
            if (!j && memchr(t0 + pos, 0, len)) {
                if (mine == 0) mismatch("accepted a raw NUL byte", t0 + pos, len);
                if (!nl) break;
                pos += len + 1;
                continue;
            }
            if (j) {
                if (mine < 0) mismatch("rejected valid JSON", t0 + pos, len);
                if ((mine == 0) != json_is_object(j)) mismatch("object or not", t0 + pos, len);
                json_t *tv = json_object_get(j, "text");
                if (mine == 0 && found && (!json_is_string(tv) || json_string_length(tv) != out.len ||
                                           memcmp(json_string_value(tv), out.data, out.len)))
                    mismatch("decoded text differs", t0 + pos, len);
                json_decref(j);
            } else if (mine == 0 && !strstr(je.text, "too big") && !strstr(je.text, "overflow")) {
                mismatch(je.text, t0 + pos, len);
            }
            if (!nl) break;
            pos += len + 1;
        }
        lmc_buf_free(&out);
    }

    /* the per-document analysis on the raw bytes */
    const char *t = (const char *)data;
    data_filter_cfg c;
    data_filter_cfg_default(&c, DATA_RULESET_GOPHER_QUALITY | DATA_RULESET_GOPHER_REP | DATA_RULESET_C4 |
                                DATA_RULESET_FINEWEB);
    data_filter_scratch *s = data_filter_scratch_new();
    (void)data_filter_doc(&c, t, size, s);
    data_filter_scratch_free(s);
    data_minhash m;
    data_minhash_cfg mc = {5, 14, 8, 1};
    lmc_err err = {0};
    if (data_minhash_init(&m, &mc, &err) == 0) {
        uint64_t sig[112];
        lmc_buf tmp = {0};
        (void)data_minhash_signature(&m, t, size, sig, &tmp, &err);
        uint64_t key[2];
        data_exact_key(t, size, key, &tmp);
        lmc_buf_free(&tmp);
        data_minhash_free(&m);
    }
    return 0;
}
