/* Error records: every fallible library function returns int (0 = ok, <0 = error) and fills an
 * lmc_err with one human-readable line that names the file, the position and what was expected.
 * The library never prints and never exits; the command line prints err.msg and picks the exit code. */
#ifndef LMC_BASE_ERROR_H
#define LMC_BASE_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* the CUDA sources are compiled as C++ */
#endif

enum lmc_errcode {
    LMC_OK = 0,
    LMC_EIO = -1,      /* open/read/write/rename failed: the OS said no */
    LMC_EFORMAT = -2,  /* the bytes are not what the format says they must be */
    LMC_ENOMEM = -3,   /* an allocation failed */
    LMC_EINVAL = -4,   /* a caller-supplied value is out of range or inconsistent */
    LMC_ENOTFOUND = -5,/* a named thing (file, tensor, key) does not exist */
    LMC_EINTR = -6,    /* stopped on request (signal) */
    LMC_ENUMERIC = -7, /* non-finite values where finite ones are required */
};

#define LMC_ERR_MSG_MAX 1024

typedef struct lmc_err {
    int code;                     /* one of enum lmc_errcode, LMC_OK when no error */
    char msg[LMC_ERR_MSG_MAX];    /* "file:line:col: what was wrong" */
} lmc_err;

/* Fill err (may be NULL) and return code, so callers can write `return lmc_errf(err, LMC_EIO, ...)`. */
int lmc_errf(lmc_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, prefixed with a position: "path:line:col: ". line/col are 1-based; 0 omits them. */
int lmc_err_at(lmc_err *err, int code, const char *path, uint64_t line, uint64_t col,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Same, with a byte offset: "path: at byte N: ". */
int lmc_err_off(lmc_err *err, int code, const char *path, uint64_t offset,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* "path: <strerror(errno)>" for a failed system call; `what` says which ("open", "read", ...). */
int lmc_err_sys(lmc_err *err, const char *path, const char *what);

/* Prepend context to an existing message: "context: old message". Keeps the code. */
int lmc_err_wrap(lmc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void lmc_err_clear(lmc_err *err);

#ifdef __cplusplus
}
#endif
#endif
