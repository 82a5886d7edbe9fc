/* File io: whole-file reads, mmap, atomic writes, directories, globbing. See io.h. */
#include "base/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int lmc_read_file(const char *path, char **data, size_t *len, lmc_err *err) {
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lmc_err_sys(err, path, "open");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lmc_err_sys(err, path, "stat");
        close(fd);
        return LMC_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return lmc_errf(err, LMC_EIO, "%s: is a directory, expected a file", path);
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return lmc_errf(err, LMC_ENOMEM, "%s: out of memory reading %zu bytes", path, cap);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                close(fd);
                return lmc_errf(err, LMC_ENOMEM, "%s: out of memory", path);
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            lmc_err_sys(err, path, "read");
            free(buf);
            close(fd);
            return LMC_EIO;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

int lmc_map_file(const char *path, lmc_map *m, lmc_err *err) {
    m->data = NULL;
    m->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lmc_err_sys(err, path, "open");
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lmc_err_sys(err, path, "stat");
        close(fd);
        return LMC_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lmc_errf(err, LMC_EIO, "%s: not a regular file, cannot map it", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            lmc_err_sys(err, path, "mmap");
            close(fd);
            return LMC_EIO;
        }
        m->data = p;
        m->len = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void lmc_unmap(lmc_map *m) {
    if (m->data) munmap(m->data, m->len);
    m->data = NULL;
    m->len = 0;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int lmc_fsync_dir(const char *dir, lmc_err *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return lmc_err_sys(err, dir, "open directory");
    if (fsync(fd) != 0 && errno != EINVAL) { /* some filesystems refuse fsync on dirs */
        lmc_err_sys(err, dir, "fsync directory");
        close(fd);
        return LMC_EIO;
    }
    close(fd);
    return 0;
}

/* The temporary files of writers not yet committed or aborted, so that a signal handler can remove
 * them (lmc_atomic_unlink_all). A fixed table of atomic pointers: registering never allocates, and
 * the handler only reads pointers and calls unlink, both async-signal-safe. A writer that finds the
 * table full is simply not registered. */
#define LIVE_SLOTS 64
static char *_Atomic live_tmp[LIVE_SLOTS];

static void live_add(char *tmp) {
    for (int i = 0; i < LIVE_SLOTS; i++) {
        char *expect = NULL;
        if (atomic_compare_exchange_strong(&live_tmp[i], &expect, tmp)) return;
    }
}

static void live_remove(char *tmp) {
    for (int i = 0; tmp && i < LIVE_SLOTS; i++) {
        char *expect = tmp;
        if (atomic_compare_exchange_strong(&live_tmp[i], &expect, NULL)) return;
    }
}

void lmc_atomic_unlink_all(void) {
    for (int i = 0; i < LIVE_SLOTS; i++) {
        char *p = atomic_load(&live_tmp[i]);
        if (p) unlink(p);
    }
}

int lmc_atomic_open(lmc_atomic *w, const char *path, lmc_err *err) {
    static atomic_uint counter;
    memset(w, 0, sizeof *w);
    size_t n = strlen(path) + 64;
    w->path = strdup(path);
    w->tmp_path = malloc(n);
    if (!w->path || !w->tmp_path) {
        lmc_atomic_abort(w);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    snprintf(w->tmp_path, n, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    int fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        lmc_err_sys(err, path, "create"); /* the user's path: the temporary name means nothing to them */
        free(w->path);
        free(w->tmp_path);
        memset(w, 0, sizeof *w);
        return LMC_EIO;
    }
    w->fp = fdopen(fd, "wb");
    if (!w->fp) {
        close(fd);
        unlink(w->tmp_path);
        lmc_err_sys(err, path, "fdopen");
        free(w->path);
        free(w->tmp_path);
        memset(w, 0, sizeof *w);
        return LMC_EIO;
    }
    live_add(w->tmp_path);
    return 0;
}

int lmc_atomic_commit(lmc_atomic *w, lmc_err *err) {
    if (!w->fp) return lmc_errf(err, LMC_EINVAL, "atomic writer is not open");
    int bad = ferror(w->fp);
    if (!bad && fflush(w->fp) != 0) bad = 1;
    if (!bad && fsync(fileno(w->fp)) != 0) bad = 1;
    if (bad) {
        lmc_err_sys(err, w->path, "write");
        lmc_atomic_abort(w);
        return LMC_EIO;
    }
    if (fclose(w->fp) != 0) {
        w->fp = NULL;
        lmc_err_sys(err, w->path, "close");
        lmc_atomic_abort(w);
        return LMC_EIO;
    }
    w->fp = NULL;
    if (rename(w->tmp_path, w->path) != 0) {
        lmc_err_sys(err, w->path, "rename into place");
        lmc_atomic_abort(w);
        return LMC_EIO;
    }
    live_remove(w->tmp_path);
    char *dir = dir_of(w->path);
    int rc = lmc_fsync_dir(dir, err);
    free(dir);
    free(w->path);
    free(w->tmp_path);
    memset(w, 0, sizeof *w);
    return rc;
}

void lmc_atomic_abort(lmc_atomic *w) {
    if (w->fp) fclose(w->fp);
    live_remove(w->tmp_path);
    if (w->tmp_path) unlink(w->tmp_path);
    free(w->path);
    free(w->tmp_path);
    memset(w, 0, sizeof *w);
}

int lmc_write_file_atomic(const char *path, const void *data, size_t len, lmc_err *err) {
    lmc_atomic w;
    int rc = lmc_atomic_open(&w, path, err);
    if (rc) return rc;
    if (len && fwrite(data, 1, len, w.fp) != len) {
        lmc_err_sys(err, path, "write");
        lmc_atomic_abort(&w);
        return LMC_EIO;
    }
    return lmc_atomic_commit(&w, err);
}

int lmc_mkdirs(const char *path, lmc_err *err) {
    char *p = strdup(path);
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            lmc_err_sys(err, p, "mkdir");
            free(p);
            return LMC_EIO;
        }
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        lmc_err_sys(err, p, "mkdir");
        free(p);
        return LMC_EIO;
    }
    free(p);
    if (!lmc_is_dir(path)) return lmc_errf(err, LMC_EIO, "%s: exists and is not a directory", path);
    return 0;
}

int lmc_remove_tree(const char *path, lmc_err *err) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : lmc_err_sys(err, path, "stat");
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return lmc_err_sys(err, path, "opendir");
        struct dirent *e;
        int rc = 0;
        while (!rc && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *child = lmc_path_join(path, e->d_name);
            rc = lmc_remove_tree(child, err);
            free(child);
        }
        closedir(d);
        if (rc) return rc;
        if (rmdir(path) != 0) return lmc_err_sys(err, path, "rmdir");
        return 0;
    }
    if (unlink(path) != 0) return lmc_err_sys(err, path, "unlink");
    return 0;
}

int lmc_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int lmc_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *lmc_path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    size_t n = la;
    if (la && a[la - 1] != '/') p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

int lmc_glob(const char *pattern, char ***paths, size_t *n, lmc_err *err) {
    *paths = NULL;
    *n = 0;
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g); /* glob sorts by default */
    if (rc == GLOB_NOMATCH) return lmc_errf(err, LMC_ENOTFOUND, "%s: no file matches", pattern);
    if (rc != 0) return lmc_errf(err, LMC_EIO, "%s: glob failed", pattern);
    char **v = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *v);
    if (!v) {
        globfree(&g);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < g.gl_pathc; i++) v[i] = strdup(g.gl_pathv[i]);
    *paths = v;
    *n = g.gl_pathc;
    globfree(&g);
    return 0;
}

void lmc_free_strv(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}
