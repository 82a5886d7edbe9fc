/* Error records. See error.h. */
#include "base/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fill(lmc_err *err, int code, const char *prefix, const char *fmt, va_list ap) {
    if (!err) return code;
    err->code = code;
    size_t n = 0;
    if (prefix) {
        n = strlen(prefix);
        if (n >= sizeof err->msg) n = sizeof err->msg - 1;
        memcpy(err->msg, prefix, n);
    }
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
    return code;
}

int lmc_errf(lmc_err *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int lmc_err_at(lmc_err *err, int code, const char *path, uint64_t line, uint64_t col,
               const char *fmt, ...) {
    char prefix[512];
    if (line && col)
        snprintf(prefix, sizeof prefix, "%s:%" PRIu64 ":%" PRIu64 ": ", path, line, col);
    else if (line)
        snprintf(prefix, sizeof prefix, "%s:%" PRIu64 ": ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, prefix, fmt, ap);
    va_end(ap);
    return code;
}

int lmc_err_off(lmc_err *err, int code, const char *path, uint64_t offset, const char *fmt, ...) {
    char prefix[512];
    snprintf(prefix, sizeof prefix, "%s: at byte %" PRIu64 ": ", path, offset);
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, prefix, fmt, ap);
    va_end(ap);
    return code;
}

int lmc_err_sys(lmc_err *err, const char *path, const char *what) {
    int e = errno;
    return lmc_errf(err, LMC_EIO, "%s: %s failed: %s", path, what, strerror(e));
}

int lmc_err_wrap(lmc_err *err, const char *fmt, ...) {
    if (!err) return LMC_EINVAL;
    char prefix[512], old[LMC_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is acceptable (messages are for people), so build it by hand. */
    size_t np = strlen(prefix), no = strnlen(old, sizeof old - 1), cap = sizeof err->msg - 1, n = 0;
    if (np > cap) np = cap;
    memcpy(err->msg, prefix, np);
    n = np;
    if (n + 2 <= cap) { memcpy(err->msg + n, ": ", 2); n += 2; }
    if (no > cap - n) no = cap - n;
    memcpy(err->msg + n, old, no);
    err->msg[n + no] = 0;
    return err->code ? err->code : LMC_EINVAL;
}

void lmc_err_clear(lmc_err *err) {
    if (!err) return;
    err->code = 0;
    err->msg[0] = 0;
}
