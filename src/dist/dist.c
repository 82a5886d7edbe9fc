/* Deterministic collectives over MPI with deadlines (see dist.h). */
#include "dist/dist.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "base/mem.h"

#if LMC_HAVE_MPI
#include <mpi.h>
#endif

int dist_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") ||
           getenv("MPI_LOCALNRANKS");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void parse_crash(dist_ctx *d) {
    d->crash_step = -1;
    const char *s = getenv("LMC_DIST_CRASH");
    int r, st;
    char mode[8] = "";
    if (s && sscanf(s, "%d:%d:%7s", &r, &st, mode) >= 2 && r == d->rank) {
        d->crash_step = st;
        d->crash_hang = !strcmp(mode, "hang");
    }
}

void dist_crash_point(dist_ctx *d, int64_t step) {
    if (d->crash_step < 0 || step != d->crash_step) return;
    if (d->crash_hang) {
        for (;;) pause();
    }
    raise(SIGKILL);
}

/* Split [lo, hi) at a chunk boundary near its middle (the lower part gets the rounding). */
static size_t split_mid(size_t lo, size_t hi, size_t align) {
    size_t half = (hi - lo) / 2;
    size_t mid = lo + (half + align - 1) / align * align;
    return mid > hi ? hi : mid;
}

void dist_slice(int size, int rank, size_t n, size_t align, size_t *lo_out, size_t *hi_out) {
    size_t lo = 0, hi = n;
    for (int dd = 1; dd < size; dd <<= 1) {
        size_t mid = split_mid(lo, hi, align);
        if (rank & dd) lo = mid;
        else hi = mid;
    }
    *lo_out = lo;
    *hi_out = hi;
}

#if LMC_HAVE_MPI

static int mpi_fail(lmc_err *err, int rc, const dist_ctx *d, const char *what) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return lmc_errf(err, LMC_EIO, "rank %d: %s failed: %s", d->rank, what, msg);
}

/* Poll until every request completes or the deadline passes. Spins briefly, then sleeps 50 us between
 * polls, so an oversubscribed machine (more ranks than cores) keeps its cores for computing. */
static int wait_all(dist_ctx *d, MPI_Request *req, int n, const char *what, int peer, lmc_err *err) {
    double t0 = now_s();
    for (long spins = 0;; spins++) {
        int flag = 0;
        int rc = MPI_Testall(n, req, &flag, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(err, rc, d, what);
        if (flag) return 0;
        if (d->timeout_s > 0 && now_s() - t0 > d->timeout_s) {
            if (peer >= 0)
                return lmc_errf(err, LMC_EIO,
                                "rank %d: %s with rank %d timed out after %.0f s: that rank died or hangs "
                                "(train.dist_timeout_s sets the limit)", d->rank, what, peer, d->timeout_s);
            return lmc_errf(err, LMC_EIO,
                            "rank %d: %s timed out after %.0f s: a rank died or hangs (train.dist_timeout_s sets the limit)",
                            d->rank, what, d->timeout_s);
        }
        if (spins > 2000) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
}

int dist_init(dist_ctx *d, double timeout_s, lmc_err *err) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (dist_launched()) {
        int init = 0;
        MPI_Initialized(&init);
        if (!init) {
            int prov;
            /* FUNNELED: only the main thread calls MPI; the OpenMP threads compute */
            if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &prov) != MPI_SUCCESS)
                return lmc_errf(err, LMC_EIO, "MPI_Init_thread failed");
            d->mpi = 1;
        }
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    }
    parse_crash(d);
    return 0;
}

void dist_finalize(dist_ctx *d) {
    if (d->mpi) MPI_Finalize();
    d->mpi = 0;
}

void dist_abort(dist_ctx *d, int code) {
    if (d->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

const char *dist_library(void) {
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    char *nl = strchr(v, ',');
    if (nl) *nl = 0;
    return v;
}

/* Messages are cut into pieces MPI's int counts can hold. */
#define PIECE ((size_t)1 << 26)

static int post_pieces(MPI_Request **req, int *nreq, int *cap, void *buf, size_t n, int send, int peer,
                       lmc_err *err) {
    for (size_t off = 0; off < n || (n == 0 && off == 0); off += PIECE) {
        size_t c = n - off < PIECE ? n - off : PIECE;
        if (*nreq == *cap) {
            int nc = *cap ? 2 * *cap : 8;
            MPI_Request *r = realloc(*req, (size_t)nc * sizeof *r);
            if (!r) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            *req = r;
            *cap = nc;
        }
        float *p = (float *)buf + off;
        int rc = send ? MPI_Isend(p, (int)c, MPI_FLOAT, peer, 7, MPI_COMM_WORLD, &(*req)[*nreq])
                      : MPI_Irecv(p, (int)c, MPI_FLOAT, peer, 7, MPI_COMM_WORLD, &(*req)[*nreq]);
        if (rc != MPI_SUCCESS) return lmc_errf(err, LMC_EIO, "MPI %s to rank %d failed", send ? "send" : "receive", peer);
        (*nreq)++;
        if (n == 0) break;
    }
    return 0;
}

int dist_reduce_scatter_tree(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err) {
    if (d->size == 1) return 0;
    if (d->size & (d->size - 1))
        return lmc_errf(err, LMC_EINVAL, "the deterministic reduction needs a power-of-two number of ranks (got %d)",
                        d->size);
    double t0 = now_s();
    float *tmp = lmc_alloc_array(n / 2 + align + 1, sizeof *tmp, err);
    if (!tmp) return -1;
    MPI_Request *req = NULL;
    int cap = 0, rc = 0;
    size_t lo = 0, hi = n;
    for (int dd = 1; dd < d->size && !rc; dd <<= 1) {
        int partner = d->rank ^ dd, nreq = 0;
        size_t mid = split_mid(lo, hi, align);
        size_t klo = (d->rank & dd) ? mid : lo, khi = (d->rank & dd) ? hi : mid;
        size_t slo = (d->rank & dd) ? lo : mid, shi = (d->rank & dd) ? mid : hi;
        rc = post_pieces(&req, &nreq, &cap, tmp, khi - klo, 0, partner, err);
        if (!rc) rc = post_pieces(&req, &nreq, &cap, buf + slo, shi - slo, 1, partner, err);
        if (!rc) rc = wait_all(d, req, nreq, "gradient reduce-scatter", partner, err);
        if (rc) break;
        d->bytes_sent += (shi - slo) * sizeof(float);
        float *dst = buf + klo;
        size_t m = khi - klo;
        /* x + y == y + x exactly: which rank of the pair adds does not matter */
#pragma omp parallel for simd schedule(static)
        for (size_t i = 0; i < m; i++) dst[i] += tmp[i];
        lo = klo;
        hi = khi;
    }
    free(req);
    lmc_free(tmp);
    d->comm_s += now_s() - t0;
    return rc;
}

/* counts / displs of every rank's slice, as ints (checked). */
static int slice_table(const dist_ctx *d, size_t n, size_t align, int **counts, int **displs, lmc_err *err) {
    if (n > (size_t)INT_MAX)
        return lmc_errf(err, LMC_EINVAL, "rank %d: %zu floats are more than one MPI message can describe (2^31)",
                        d->rank, n);
    *counts = malloc((size_t)d->size * sizeof(int));
    *displs = malloc((size_t)d->size * sizeof(int));
    if (!*counts || !*displs) {
        free(*counts);
        free(*displs);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    for (int r = 0; r < d->size; r++) {
        size_t lo, hi;
        dist_slice(d->size, r, n, align, &lo, &hi);
        (*counts)[r] = (int)(hi - lo);
        (*displs)[r] = (int)lo;
    }
    return 0;
}

int dist_allgather_slices(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err) {
    if (d->size == 1) return 0;
    double t0 = now_s();
    int *counts, *displs;
    if (slice_table(d, n, align, &counts, &displs, err)) return -1;
    MPI_Request r;
    int rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, MPI_FLOAT, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "parameter all-gather") : wait_all(d, &r, 1, "parameter all-gather", -1, err);
    d->bytes_sent += (size_t)counts[d->rank] * sizeof(float) * (size_t)(d->size - 1);
    free(counts);
    free(displs);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_gather_slices(dist_ctx *d, const float *mine, float *full, size_t n, size_t align, int root, lmc_err *err) {
    if (d->size == 1) {
        if (full != mine) memcpy(full, mine, n * sizeof(float));
        return 0;
    }
    double t0 = now_s();
    int *counts, *displs;
    if (slice_table(d, n, align, &counts, &displs, err)) return -1;
    MPI_Request r;
    int rc = MPI_Igatherv(mine, counts[d->rank], MPI_FLOAT, full, counts, displs, MPI_FLOAT, root, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "optimizer-state gather") : wait_all(d, &r, 1, "optimizer-state gather", -1, err);
    free(counts);
    free(displs);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_combine_disjoint(dist_ctx *d, double *v, int n, lmc_err *err) {
    if (d->size == 1) return 0;
    double t0 = now_s();
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "loss gather") : wait_all(d, &r, 1, "loss gather", -1, err);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_allgatherv_f64(dist_ctx *d, double *v, const int *counts, const int *displs, lmc_err *err) {
    if (d->size == 1) return 0;
    double t0 = now_s();
    MPI_Request r;
    int rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, counts, displs, MPI_DOUBLE, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "gradient-norm gather") : wait_all(d, &r, 1, "gradient-norm gather", -1, err);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_max_int(dist_ctx *d, int *v, lmc_err *err) {
    if (d->size == 1) return 0;
    double t0 = now_s();
    MPI_Request r;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "stop-flag exchange") : wait_all(d, &r, 1, "stop-flag exchange", -1, err);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_bcast(dist_ctx *d, void *buf, size_t bytes, int root, lmc_err *err) {
    if (d->size == 1) return 0;
    if (bytes > (size_t)INT_MAX) return lmc_errf(err, LMC_EINVAL, "rank %d: broadcast of %zu bytes is too large", d->rank, bytes);
    double t0 = now_s();
    MPI_Request r;
    int rc = MPI_Ibcast(buf, (int)bytes, MPI_BYTE, root, MPI_COMM_WORLD, &r);
    rc = rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "broadcast") : wait_all(d, &r, 1, "broadcast", root, err);
    d->comm_s += now_s() - t0;
    return rc;
}

int dist_barrier(dist_ctx *d, lmc_err *err) {
    if (d->size == 1) return 0;
    MPI_Request r;
    int rc = MPI_Ibarrier(MPI_COMM_WORLD, &r);
    return rc != MPI_SUCCESS ? mpi_fail(err, rc, d, "barrier") : wait_all(d, &r, 1, "barrier", -1, err);
}

#else /* no MPI: one process */

int dist_init(dist_ctx *d, double timeout_s, lmc_err *err) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    if (dist_launched())
        return lmc_errf(err, LMC_EINVAL, "started by an MPI launcher, but this lmc was built without MPI "
                                         "(install libopenmpi-dev and rebuild)");
    parse_crash(d);
    return 0;
}
void dist_finalize(dist_ctx *d) { (void)d; }
void dist_abort(dist_ctx *d, int code) { (void)d; (void)code; }
const char *dist_library(void) { return "none"; }
int dist_reduce_scatter_tree(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err) {
    (void)d; (void)buf; (void)n; (void)align; (void)err;
    return 0;
}
int dist_allgather_slices(dist_ctx *d, float *buf, size_t n, size_t align, lmc_err *err) {
    (void)d; (void)buf; (void)n; (void)align; (void)err;
    return 0;
}
int dist_gather_slices(dist_ctx *d, const float *mine, float *full, size_t n, size_t align, int root, lmc_err *err) {
    (void)d; (void)align; (void)root; (void)err;
    if (full != mine) memcpy(full, mine, n * sizeof(float));
    return 0;
}
int dist_combine_disjoint(dist_ctx *d, double *v, int n, lmc_err *err) {
    (void)d; (void)v; (void)n; (void)err;
    return 0;
}
int dist_allgatherv_f64(dist_ctx *d, double *v, const int *counts, const int *displs, lmc_err *err) {
    (void)d; (void)v; (void)counts; (void)displs; (void)err;
    return 0;
}
int dist_max_int(dist_ctx *d, int *v, lmc_err *err) {
    (void)d; (void)v; (void)err;
    return 0;
}
int dist_bcast(dist_ctx *d, void *buf, size_t bytes, int root, lmc_err *err) {
    (void)d; (void)buf; (void)bytes; (void)root; (void)err;
    return 0;
}
int dist_barrier(dist_ctx *d, lmc_err *err) {
    (void)d; (void)err;
    return 0;
}
#endif
