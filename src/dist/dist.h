/* Data-parallel communication over MPI (the module's contract; src/dist/dist.c).
 *
 * Every collective here is deterministic: its result does not depend on timing, message arrival order
 * or the MPI library's internal algorithms, because sums are never left to MPI. Float sums are taken
 * in one fixed binary tree over the ranks (dist_reduce_scatter_tree); everything else MPI does for us
 * is data movement (gather, broadcast), which is exact.
 *
 * The tree: with N = 2^k ranks, stage s = 0..k-1 pairs rank r with r ^ 2^s; the two split their current
 * range at a chunk-aligned midpoint, and each adds the partner's half of the part it keeps. After k
 * stages rank r holds the sum ((R0 + R1) + (R2 + R3)) + ... over its final slice, the same tree for
 * every element, so a training step's gradient equals the one-process sum of the same micro-batch
 * gradients in the same tree (src/train/dp.c). Slices are unions of whole chunks (align floats), so
 * chunked reductions (k_sumsq) can be split along them.
 *
 * Failure: every wait polls with a deadline (timeout_s): a rank that died or hangs makes the others
 * return an error naming the operation and the peer instead of blocking forever. Errors from MPI
 * itself are returned too (MPI_ERRORS_RETURN), never left to abort silently.
 *
 * Without MPI (not built, or not launched by mpirun/srun) the context has rank 0, size 1, and every
 * collective is the identity. */
#ifndef LMC_DIST_DIST_H
#define LMC_DIST_DIST_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct dist_ctx {
    int rank, size;     /* 0, 1 without MPI */
    int mpi;            /* 1 when this context initialized MPI (dist_finalize shuts it down) */
    double timeout_s;   /* deadline of every wait (<= 0: wait forever) */
    double comm_s;      /* seconds spent inside collectives (accumulated; for the step metrics) */
    uint64_t bytes_sent;/* payload bytes this rank sent (accumulated) */
    int crash_step;     /* tests: LMC_DIST_CRASH=RANK:STEP[:hang] -- this rank dies (or hangs) at STEP */
    int crash_hang;
} dist_ctx;

/* 1 when the environment says an MPI launcher (mpirun, srun with PMI/PMIx) started this process. */
int dist_launched(void);
/* Initialize: MPI when launched by one (and built with it), else the one-process context. */
int dist_init(dist_ctx *d, double timeout_s, lmc_err *err);
void dist_finalize(dist_ctx *d);
/* Stop every rank of the job now (after an error on one of them); returns only without MPI. */
void dist_abort(dist_ctx *d, int code);
/* MPI library version line ("Open MPI v4.1.4, ...") or "none". */
const char *dist_library(void);

/* Rank r's final slice [*lo, *hi) of n floats under the tree (chunk size align). Empty slices are
 * possible when n is small. */
void dist_slice(int size, int rank, size_t n, size_t align, size_t *lo, size_t *hi);

/* buf[n] on every rank -> on rank r, buf[slice r] holds the tree sum over ranks (other parts of buf
 * are scratch afterwards). size must be a power of two. */
int dist_reduce_scatter_tree(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err);
/* Every rank's slice of buf to every rank (the inverse data movement of the reduce-scatter). */
int dist_allgather_slices(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err);
/* Rank root receives every rank's slice of `full` (n floats) from the ranks' `mine` (their slice,
 * contiguous); other ranks may pass full = NULL. */
int dist_gather_slices(dist_ctx *d, const float *mine, float *full, size_t n, size_t align, int root, lmc_err *err);

/* Element-wise sum of doubles where, for every element, at most one rank holds a nonzero value:
 * the result is exact (x + 0 = x), so it is a gather written as a reduction. */
int dist_combine_disjoint(dist_ctx *d, double *v, int n, lmc_err *err);
/* Variable-count gather of doubles to all: rank r contributes counts[r] values at displs[r]. */
int dist_allgatherv_f64(dist_ctx *d, double *v, const int *counts, const int *displs, lmc_err *err);
/* Maximum of an int over ranks (stop flags). */
int dist_max_int(dist_ctx *d, int *v, lmc_err *err);
/* Bytes from root to all. */
int dist_bcast(dist_ctx *d, void *buf, size_t bytes, int root, lmc_err *err);
int dist_barrier(dist_ctx *d, lmc_err *err);

/* Tests: called at the start of every step; makes this rank SIGKILL itself (or hang) when
 * LMC_DIST_CRASH names this rank and step. */
void dist_crash_point(dist_ctx *d, int64_t step);

#endif
