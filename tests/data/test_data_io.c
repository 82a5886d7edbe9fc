/* Document I/O: JSONL kept byte-for-byte, plain text (whole file / regex split), .gz/.zst inputs, .zst
 * output, and bad input (invalid JSON, missing field, invalid UTF-8, too long, truncated .zst). */
#include "test.h"
#include "data/data.h"

#include <zlib.h>
#include <zstd.h>

static char *tmp;

static char *path_of(const char *name) {
    static char buf[8][4096];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp, name);
    return buf[k];
}

static void write_file(const char *p, const void *d, size_t n) {
    FILE *f = fopen(p, "wb");
    fwrite(d, 1, n, f);
    fclose(f);
}

static void write_gz(const char *p, const char *d) {
    gzFile g = gzopen(p, "wb");
    gzwrite(g, d, (unsigned)strlen(d));
    gzclose(g);
}

static size_t write_zst(const char *p, const char *d, size_t cut) {
    size_t cap = ZSTD_compressBound(strlen(d));
    char *o = malloc(cap);
    size_t n = ZSTD_compress(o, cap, d, strlen(d), 3);
    write_file(p, o, n > cut ? n - cut : n);
    free(o);
    return n;
}

typedef struct got { int n; char text[16][256]; char raw[16][512]; uint64_t line[16]; uint64_t skipped; int rc; char err[1024]; } got;

static void read_all_docs(const char *const *paths, size_t np, const data_read_opts *o, got *g) {
    memset(g, 0, sizeof *g);
    data_reader *r;
    lmc_err err = {0};
    if (data_reader_open(&r, paths, np, o, &err) < 0) { g->rc = -1; snprintf(g->err, sizeof g->err, "%s", err.msg); return; }
    for (;;) {
        data_doc *d;
        long n = data_reader_batch(r, 3, 1 << 20, &d, &err);  /* small batches: exercise batching */
        if (n < 0) { g->rc = -1; snprintf(g->err, sizeof g->err, "%s", err.msg); break; }
        if (n == 0) break;
        for (long i = 0; i < n && g->n < 16; i++, g->n++) {
            snprintf(g->text[g->n], 256, "%.*s", (int)d[i].text_len, d[i].text);
            if (d[i].raw) snprintf(g->raw[g->n], 512, "%.*s", (int)d[i].raw_len, d[i].raw);
            g->line[g->n] = d[i].line;
            CHECK_EQ_INT(d[i].index, g->n);
        }
    }
    g->skipped = data_reader_nskipped(r);
    data_reader_close(r);
}

static const char *JSONL =
    "{\"id\": 1, \"text\": \"caf\\u00e9 one\", \"meta\": {\"x\": [1, 2.50, null]}}\n"
    "   \n"
    "{\"text\":\"two\",\"id\":2}\n"
    "{not json}\n"
    "{\"id\": 4}\n"
    "[1, 2]\n"
    "{\"body\": \"x\", \"text\": \"three\\nlines\\n\"}";

static void test_jsonl(void) {
    write_file(path_of("a.jsonl"), JSONL, strlen(JSONL));
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path_of("a.jsonl")};
    got g;
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.rc, 0);
    CHECK_EQ_INT(g.n, 3);
    CHECK(strcmp(g.text[0], "caf\xC3\xA9 one") == 0);
    CHECK(strcmp(g.raw[0], "{\"id\": 1, \"text\": \"caf\\u00e9 one\", \"meta\": {\"x\": [1, 2.50, null]}}") == 0);
    CHECK(strcmp(g.raw[1], "{\"text\":\"two\",\"id\":2}") == 0);
    CHECK_EQ_INT(g.line[1], 3);
    CHECK(strcmp(g.text[2], "three\nlines\n") == 0);
    CHECK_EQ_INT(g.line[2], 7);
    CHECK_EQ_INT(g.skipped, 3);
    /* skip list names the lines */
    data_reader *r;
    lmc_err err = {0};
    data_reader_open(&r, p, 1, &o, &err);
    data_doc *d;
    while (data_reader_batch(r, 100, 1 << 20, &d, &err) > 0) {}
    size_t ns;
    const data_skip *sk = data_reader_skips(r, &ns);
    CHECK_EQ_INT(ns, 3);
    CHECK_EQ_INT(sk[0].line, 4);
    CHECK_STR_CONTAINS(sk[0].reason, "invalid JSON");
    CHECK_EQ_INT(sk[1].line, 5);
    CHECK_STR_CONTAINS(sk[1].reason, "no string field \"text\"");
    CHECK_EQ_INT(sk[2].line, 6);
    data_reader_close(r);
    /* strict: the first bad line is an error naming file:line */
    o.strict = 1;
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.rc, -1);
    CHECK_STR_CONTAINS(g.err, "a.jsonl:4");
    /* another field */
    o.strict = 0;
    o.field = "body";
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.n, 1);
    CHECK(strcmp(g.text[0], "x") == 0);
}

/* Invalid UTF-8 inside a JSON string, a raw control character, a lone surrogate escape: counted skips. */
static void test_bad_strings(void) {
    const char *t = "{\"text\": \"ok\"}\n{\"text\": \"bad \xff byte\"}\n{\"text\": \"tab\there\"}\n"
                    "{\"text\": \"\\ud800\"}\n{\"text\": \"fine \xc3\xa9\"}\n";
    write_file(path_of("u.jsonl"), t, strlen(t));
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path_of("u.jsonl")};
    got g;
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.rc, 0);
    CHECK_EQ_INT(g.n, 2);
    CHECK(strcmp(g.text[1], "fine \xc3\xa9") == 0);
    CHECK_EQ_INT(g.skipped, 3);
    data_reader *r;
    lmc_err err = {0};
    data_reader_open(&r, p, 1, &o, &err);
    data_doc *d;
    while (data_reader_batch(r, 100, 1 << 20, &d, &err) > 0) {}
    size_t ns;
    const data_skip *sk = data_reader_skips(r, &ns);
    CHECK_EQ_INT(ns, 3);
    CHECK_STR_CONTAINS(sk[0].reason, "invalid UTF-8");
    CHECK_EQ_INT(sk[0].line, 2);
    CHECK_STR_CONTAINS(sk[1].reason, "control character");
    CHECK_STR_CONTAINS(sk[2].reason, "surrogate");
    data_reader_close(r);
}

static void test_compressed(void) {
    write_gz(path_of("b.jsonl.gz"), JSONL);
    write_zst(path_of("c.jsonl.zst"), JSONL, 0);
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path_of("b.jsonl.gz"), path_of("c.jsonl.zst")};
    got g;
    read_all_docs(p, 2, &o, &g);
    CHECK_EQ_INT(g.rc, 0);
    CHECK_EQ_INT(g.n, 6);
    CHECK(strcmp(g.raw[3], g.raw[0]) == 0);
    CHECK_EQ_INT(g.skipped, 6);
    /* truncated zstd: an error naming the file, never a silent short read */
    char big[20000];
    size_t k = 0;
    for (int i = 0; k + 64 < sizeof big; i++) k += (size_t)snprintf(big + k, sizeof big - k, "{\"text\": \"doc %d %d\"}\n", i, i * 7919);
    write_zst(path_of("t.jsonl.zst"), big, 7);
    const char *pt[] = {path_of("t.jsonl.zst")};
    read_all_docs(pt, 1, &o, &g);
    CHECK_EQ_INT(g.rc, -1);
    CHECK_STR_CONTAINS(g.err, "t.jsonl.zst");
}

static void test_text(void) {
    const char *t = "first doc\nline two\n\n\nsecond doc\n\nthird \xff doc\n\nfourth";
    write_file(path_of("p.txt"), t, strlen(t));
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path_of("p.txt")};
    got g;
    read_all_docs(p, 1, &o, &g);  /* one document per file, but invalid UTF-8: counted skip */
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.skipped, 1);
    o.doc_separator = "\\n\\n+";
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.rc, 0);
    CHECK_EQ_INT(g.n, 3);
    CHECK(strcmp(g.text[0], "first doc\nline two") == 0);
    CHECK(strcmp(g.text[1], "second doc") == 0);
    CHECK_EQ_INT(g.line[1], 5);
    CHECK(strcmp(g.text[2], "fourth") == 0);
    CHECK_EQ_INT(g.line[2], 9);
    CHECK_EQ_INT(g.skipped, 1);
    CHECK(g.raw[0][0] == 0);
    o.doc_separator = "([";
    read_all_docs(p, 1, &o, &g);
    CHECK_EQ_INT(g.rc, -1);
    CHECK_STR_CONTAINS(g.err, "--doc-separator");
    /* a document over the size limit is skipped and counted */
    data_read_opts_default(&o);
    o.max_doc_bytes = 10;
    const char *pj[] = {path_of("a.jsonl")};
    read_all_docs(pj, 1, &o, &g);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(g.skipped, 6);
}

static void test_long_line(void) {
    /* an 8 MB line is an ordinary document */
    size_t n = (size_t)8 << 20;
    char *big = malloc(n + 64);
    memcpy(big, "{\"text\": \"", 10);
    for (size_t i = 10; i < n; i++) big[i] = (char)('a' + i % 26);
    memcpy(big + n, "\"}\n", 4);
    write_file(path_of("long.jsonl"), big, n + 3);
    free(big);
    data_read_opts o;
    data_read_opts_default(&o);
    const char *p[] = {path_of("long.jsonl")};
    data_reader *r;
    lmc_err err = {0};
    CHECK_EQ_INT(data_reader_open(&r, p, 1, &o, &err), 0);
    data_doc *d;
    CHECK_EQ_INT(data_reader_batch(r, 10, 1 << 20, &d, &err), 1);
    CHECK_EQ_INT(d[0].text_len, n - 10);
    data_reader_close(r);
}

static void test_writer(void) {
    data_doc d = {0};
    const char *raw = "{\"b\": 1,  \"text\": \"hi\" }  ";
    d.raw = raw;
    d.raw_len = strlen(raw);
    d.text = "hi";
    d.text_len = 2;
    data_doc e = {0};
    e.text = "plain \"q\"\n";
    e.text_len = strlen(e.text);
    data_doc f = {0};
    f.raw = "{}";
    f.raw_len = 2;
    f.text = "";
    lmc_err err = {0};
    for (int z = 0; z < 2; z++) {
        const char *p = path_of(z ? "o.jsonl.zst" : "o.jsonl");
        data_writer *w;
        CHECK_EQ_INT(data_writer_open(&w, p, &err), 0);
        CHECK_EQ_INT(data_writer_doc(w, &d, "text", &err), 0);
        CHECK_EQ_INT(data_writer_doc(w, &e, "text", &err), 0);
        CHECK_EQ_INT(data_writer_doc_tagged(w, &d, "text", "lmc_reason", "r/x", &err), 0);
        CHECK_EQ_INT(data_writer_doc_tagged(w, &f, "text", "k", "v", &err), 0);
        CHECK_EQ_INT(data_writer_doc_text(w, &d, "text", "new", 3, &err), 0);
        CHECK_EQ_INT(data_writer_count(w), 5);
        CHECK_EQ_INT(data_writer_commit(w, &err), 0);
        char *out;
        size_t len;
        CHECK_EQ_INT(lmc_read_all(p, &out, &len, &err), 0);
        const char *want =
            "{\"b\": 1,  \"text\": \"hi\" }  \n"
            "{\"text\":\"plain \\\"q\\\"\\n\"}\n"
            "{\"b\": 1,  \"text\": \"hi\" ,\"lmc_reason\":\"r/x\"}\n"
            "{\"k\":\"v\"}\n"
            "{\"b\": 1,  \"text\": \"new\" }  \n";
        CHECK_MSG(len == strlen(want) && memcmp(out, want, len) == 0, "got:\n%.*s", (int)len, out);
        free(out);
    }
    /* aborted writer leaves nothing */
    data_writer *w;
    CHECK_EQ_INT(data_writer_open(&w, path_of("gone.jsonl"), &err), 0);
    data_writer_doc(w, &d, "text", &err);
    data_writer_abort(w);
    CHECK(!lmc_file_exists(path_of("gone.jsonl")));
}

/* End to end: the CLI keeps every kept line byte-for-byte, and a run with --strict fails with exit 1. */
static void test_cli(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) return;
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s --quiet data stats %s > %s 2>&1", bin, path_of("a.jsonl"), path_of("stats.txt"));
    CHECK_EQ_INT(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --quiet data filter --rules fineweb --set fineweb.line_punct_thr=0 "
             "--set fineweb.short_line_thr=1 --set fineweb.new_line_ratio=0 %s -o %s --report %s 2>/dev/null",
             bin, path_of("a.jsonl"), path_of("f.jsonl.zst"), path_of("f.json"));
    CHECK_EQ_INT(system(cmd), 0);
    char *out;
    size_t len;
    lmc_err err = {0};
    CHECK_EQ_INT(lmc_read_all(path_of("f.jsonl.zst"), &out, &len, &err), 0);
    const char *want = "{\"id\": 1, \"text\": \"caf\\u00e9 one\", \"meta\": {\"x\": [1, 2.50, null]}}\n"
                       "{\"text\":\"two\",\"id\":2}\n"
                       "{\"body\": \"x\", \"text\": \"three\\nlines\\n\"}\n";
    CHECK_MSG(len == strlen(want) && memcmp(out, want, len) == 0, "got:\n%.*s", (int)len, out);
    free(out);
    json_t *rep = lmc_json_load_file(path_of("f.json"), &err);
    CHECK(rep != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(rep, "skipped_input_lines")), 3);
    CHECK_EQ_INT(json_array_size(json_object_get(rep, "skipped")), 3);
    json_decref(rep);
    snprintf(cmd, sizeof cmd, "%s --quiet data filter --strict %s -o %s 2>%s", bin, path_of("a.jsonl"),
             path_of("s.jsonl"), path_of("err.txt"));
    int rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    CHECK(!lmc_file_exists(path_of("s.jsonl")));
    char *e;
    size_t el;
    lmc_read_file(path_of("err.txt"), &e, &el, &err);
    CHECK_STR_CONTAINS(e, "a.jsonl:4");
    free(e);
    snprintf(cmd, sizeof cmd, "%s --quiet data filter %s -o %s 2>/dev/null", bin, path_of("missing.jsonl"), path_of("m.jsonl"));
    rc = system(cmd);
    CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
}

int main(void) {
    tmp = test_tmpdir();
    test_jsonl();
    test_bad_strings();
    test_compressed();
    test_text();
    test_long_line();
    test_writer();
    test_cli();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_io");
}
