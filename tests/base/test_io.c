/* Base io: whole-file reads, mmap, atomic writes (including a writer killed mid-write). */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "test.h"

static char *path_in(const char *dir, const char *name) { return lmc_path_join(dir, name); }

static void test_read_errors(const char *dir) {
    lmc_err err = {0};
    char *data;
    size_t len;
    char *missing = path_in(dir, "no/such/file.txt");
    CHECK(lmc_read_file(missing, &data, &len, &err) == LMC_EIO);
    CHECK_STR_CONTAINS(err.msg, missing);
    CHECK_STR_CONTAINS(err.msg, "No such file");
    /* a directory is not a file */
    CHECK(lmc_read_file(dir, &data, &len, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "directory");
    /* an unreadable file (permission bits; root bypasses them, so only checked as a normal user) */
    char *locked = path_in(dir, "locked.txt");
    CHECK(lmc_write_file_atomic(locked, "secret", 6, &err) == 0);
    chmod(locked, 0);
    if (geteuid() != 0) {
        CHECK(lmc_read_file(locked, &data, &len, &err) == LMC_EIO);
        CHECK_STR_CONTAINS(err.msg, "Permission denied");
        lmc_reader *r;
        CHECK(lmc_reader_open(&r, locked, &err) == LMC_EIO);
        CHECK_STR_CONTAINS(err.msg, locked);
    }
    free(locked);
    lmc_map m;
    CHECK(lmc_map_file(missing, &m, &err) == LMC_EIO);
    CHECK_STR_CONTAINS(err.msg, missing);
    free(missing);
}

static void test_atomic(const char *dir) {
    lmc_err err = {0};
    char *p = path_in(dir, "out.txt");
    CHECK(lmc_write_file_atomic(p, "first version\n", 14, &err) == 0);
    char *data;
    size_t len;
    CHECK(lmc_read_file(p, &data, &len, &err) == 0);
    CHECK(len == 14 && !memcmp(data, "first version\n", 14));
    free(data);

    /* abort: the old file stays, no temp file is left */
    lmc_atomic w;
    CHECK(lmc_atomic_open(&w, p, &err) == 0);
    fputs("half of a new", w.fp);
    char *tmp = strdup(w.tmp_path);
    lmc_atomic_abort(&w);
    CHECK(!lmc_file_exists(tmp));
    free(tmp);
    CHECK(lmc_read_file(p, &data, &len, &err) == 0);
    CHECK(len == 14 && !memcmp(data, "first version\n", 14));
    free(data);

    /* a writer killed mid-write (SIGKILL, no cleanup at all): the old file stays intact */
    pid_t pid = fork();
    if (pid == 0) {
        lmc_atomic w2;
        if (lmc_atomic_open(&w2, p, NULL) != 0) _exit(3);
        for (int i = 0; i < 10000; i++) fputs("garbage that must never be seen ", w2.fp);
        fflush(w2.fp);
        raise(SIGKILL);
        _exit(4);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(lmc_read_file(p, &data, &len, &err) == 0);
    CHECK_MSG(len == 14 && !memcmp(data, "first version\n", 14), "old file changed after an interrupted write");
    free(data);

    /* commit replaces it whole */
    CHECK(lmc_write_file_atomic(p, "second\n", 7, &err) == 0);
    CHECK(lmc_read_file(p, &data, &len, &err) == 0);
    CHECK(len == 7 && !memcmp(data, "second\n", 7));
    free(data);

    /* writing into a missing directory fails cleanly, naming the path */
    char *bad = path_in(dir, "missing-dir/x.txt");
    CHECK(lmc_write_file_atomic(bad, "x", 1, &err) == LMC_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing-dir");
    CHECK(!lmc_file_exists(bad));
    free(bad);

    /* mmap sees the committed content; empty files map to NULL/0 */
    lmc_map m;
    CHECK(lmc_map_file(p, &m, &err) == 0);
    CHECK(m.len == 7 && !memcmp(m.data, "second\n", 7));
    lmc_unmap(&m);
    char *empty = path_in(dir, "empty");
    CHECK(lmc_write_file_atomic(empty, "", 0, &err) == 0);
    CHECK(lmc_map_file(empty, &m, &err) == 0);
    CHECK(m.len == 0 && m.data == NULL);
    free(empty);
    free(p);
}

static void test_dirs(const char *dir) {
    lmc_err err = {0};
    char *deep = path_in(dir, "a/b/c");
    CHECK(lmc_mkdirs(deep, &err) == 0);
    CHECK(lmc_is_dir(deep));
    char *f = path_in(deep, "f.txt");
    CHECK(lmc_write_file_atomic(f, "x", 1, &err) == 0);
    char *pat = path_in(dir, "a/b/c/*.txt");
    char **v;
    size_t n;
    CHECK(lmc_glob(pat, &v, &n, &err) == 0 && n == 1);
    lmc_free_strv(v, n);
    char *nomatch = path_in(dir, "*.nothing");
    CHECK(lmc_glob(nomatch, &v, &n, &err) == LMC_ENOTFOUND);
    CHECK_STR_CONTAINS(err.msg, "no file matches");
    char *a = path_in(dir, "a");
    CHECK(lmc_remove_tree(a, &err) == 0);
    CHECK(!lmc_file_exists(a));
    free(a); free(nomatch); free(pat); free(f); free(deep);
}

static void test_mem(void) {
    lmc_err err = {0};
    void *p = lmc_alloc(100, &err);
    CHECK(p && ((uintptr_t)p % LMC_ALIGN) == 0);
    lmc_free(p);
    CHECK(lmc_alloc_array(SIZE_MAX / 2, 4, &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "overflows");
    size_t out;
    CHECK(lmc_mul_size(SIZE_MAX, 2, &out) == -1);
    CHECK(lmc_add_size(SIZE_MAX, 1, &out) == -1);
    lmc_buf b = {0};
    CHECK(lmc_buf_printf(&b, &err, "%d-%s", 42, "x") == 0 && !strcmp(b.data, "42-x"));
    lmc_buf_free(&b);
    lmc_arena a;
    lmc_arena_init(&a, 64);
    char *s = lmc_arena_strndup(&a, "hello world", 5, &err);
    CHECK(s && !strcmp(s, "hello"));
    void *big = lmc_arena_alloc(&a, 1000, &err); /* larger than a block */
    CHECK(big != NULL);
    lmc_arena_free(&a);
    /* error helpers */
    lmc_err_at(&err, LMC_EFORMAT, "f.json", 3, 7, "expected %s", "a value");
    CHECK(!strcmp(err.msg, "f.json:3:7: expected a value") && err.code == LMC_EFORMAT);
    lmc_err_off(&err, LMC_EFORMAT, "x.bin", 1024, "bad");
    CHECK(!strcmp(err.msg, "x.bin: at byte 1024: bad"));
    lmc_err_wrap(&err, "loading %s", "model");
    CHECK(!strcmp(err.msg, "loading model: x.bin: at byte 1024: bad"));
}

int main(void) {
    char *dir = test_tmpdir();
    test_read_errors(dir);
    test_atomic(dir);
    test_dirs(dir);
    test_mem();
    lmc_remove_tree(dir, NULL);
    free(dir);
    return test_summary("base/io");
}
