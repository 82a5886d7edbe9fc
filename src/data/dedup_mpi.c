/* Dedup over several processes with MPI (built when CMake finds MPI: LMC_HAVE_MPI=1).
 *
 * Pass 1 is split by batches of documents: every rank reads the inputs, but computes exact keys and
 * MinHash band keys only for the batches it owns (batch number mod ranks). Each (key, document) record is
 * then sent to the rank that owns its key (hash mod ranks, MPI_Alltoallv), which sorts what it received and
 * turns every run of equal keys into edges "first document -- other document", tagged with the key kind
 * (exact, or the band). The edges (few: only duplicates make them) are gathered on rank 0, which verifies
 * the candidates and writes the output in a second pass exactly as one process does: the edge set is the
 * same (the same key equalities) and the plan built from it does not depend on the edges' order. */
#include "data/data.h"
#include "data/dedup_mpi.h"
#include "data/dedup_plan.h"
#include "data/hashtab.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#if LMC_HAVE_MPI
#include <mpi.h>

int data_mpi_world(int *rank, int *size) {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin) { *rank = 0; *size = 1; return 0; }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return *size > 1;
}

typedef struct rec { uint64_t k0, k1, doc; uint32_t tag, pad; } rec;

static int cmp_rec(const void *a, const void *b) {
    const rec *x = a, *y = b;
    if (x->tag != y->tag) return x->tag < y->tag ? -1 : 1;
    if (x->k0 != y->k0) return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

typedef struct recv_buf { rec *r; size_t n, cap; } recv_buf;

static int push_rec(recv_buf *b, rec r) {
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        rec *p = realloc(b->r, nc * sizeof *p);
        if (!p) return -1;
        b->r = p;
        b->cap = nc;
    }
    b->r[b->n++] = r;
    return 0;
}

int data_dedup_mpi_pass1(const data_pipeline_cfg *c, const data_minhash *mh, int nthreads, data_dedup_edge **edges_out,
                         size_t *nedges_out, uint64_t *ndocs, lmc_err *err) {
    *edges_out = NULL;
    *nedges_out = 0;
    int rank, size;
    data_mpi_world(&rank, &size);
    *ndocs = 0;
    int rc = -1;
    data_reader *r = NULL;
    recv_buf *out = calloc((size_t)size, sizeof *out);
    size_t stride = 4 + (size_t)mh->cfg.bands, nthr = (size_t)nthreads;
    uint64_t *keys = NULL;
    uint8_t *has = NULL;
    size_t kcap = 0;
    uint64_t **sig = calloc(nthr, sizeof *sig);
    lmc_buf *tmp = calloc(nthr, sizeof *tmp);
    rec *sendbuf = NULL, *recvbuf = NULL;
    data_dedup_edge *edges = NULL, *all_edges = NULL;
    int *scount = NULL, *sdispl = NULL, *rcount = NULL, *rdispl = NULL;
    if (!out || !sig || !tmp) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    for (size_t t = 0; t < nthr; t++)
        if (!(sig[t] = calloc((size_t)(mh->cfg.bands * mh->cfg.rows), sizeof(uint64_t)))) {
            lmc_errf(err, LMC_ENOMEM, "out of memory");
            goto done;
        }
    data_read_opts ro = c->read;
    ro.threads = nthreads;
    if (data_reader_open(&r, c->inputs, c->ninputs, &ro, err) < 0) goto done;
    uint64_t batch = 0, n = 0;
    int failed = 0;
    for (;; batch++) {
        data_doc *docs;
        long nd = data_reader_batch(r, 4096, (size_t)8 << 20, &docs, err);
        if (nd < 0) { failed = 1; break; }
        if (nd == 0) break;
        n += (uint64_t)nd;
        if ((int)(batch % (uint64_t)size) != rank) continue;
        if ((size_t)nd > kcap) {
            free(keys);
            free(has);
            kcap = (size_t)nd;
            keys = calloc(kcap * stride, sizeof *keys);
            has = calloc(kcap, 1);
            if (!keys || !has) { lmc_errf(err, LMC_ENOMEM, "out of memory"); failed = 1; break; }
        }
        int oom = 0;
#pragma omp parallel for schedule(dynamic, 16) num_threads(nthreads) reduction(| : oom)
        for (long i = 0; i < nd; i++) {
            int t = omp_get_thread_num();
            uint64_t *k = keys + (size_t)i * stride;
            has[i] = 0;
            if (c->dedup_exact) data_exact_key(docs[i].text, docs[i].text_len, k, &tmp[t]);
            if (c->dedup_minhash) {
                long nsh = data_minhash_keys(mh, docs[i].text, docs[i].text_len, sig[t], k + 2, &tmp[t], NULL);
                if (nsh < 0) oom = 1;
                else has[i] = nsh > 0;
            }
        }
        if (oom) { lmc_errf(err, LMC_ENOMEM, "out of memory"); failed = 1; break; }
        for (long i = 0; i < nd; i++) {
            const uint64_t *k = keys + (size_t)i * stride;
            if (c->dedup_exact) {
                rec e = {k[0], k[1], docs[i].index, 0, 0};
                if (push_rec(&out[data_mix64(k[0]) % (uint64_t)size], e) < 0) { failed = 1; break; }
            }
            if (c->dedup_minhash && has[i]) {
                int nb = mh->cfg.bands;
                for (int b = 0; b < nb && !failed; b++) {
                    rec e = {k[2 + b], 0, docs[i].index, (uint32_t)b + 1, 0};
                    if (push_rec(&out[(data_mix64(k[2 + b]) ^ (uint64_t)b) % (uint64_t)size], e) < 0) failed = 1;
                }
                rec e = {k[2 + nb], k[3 + nb], docs[i].index, (uint32_t)nb + 1, 0};  /* simplified-text key */
                if (!failed && push_rec(&out[data_mix64(k[2 + nb]) % (uint64_t)size], e) < 0) failed = 1;
            }
        }
        if (failed) { lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
    }
    /* every rank must reach the collectives: agree on failure first */
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_failed) {
        if (!failed) lmc_errf(err, LMC_EIO, "dedup: another MPI rank failed");
        goto done;
    }
    /* exchange records by key owner */
    scount = calloc((size_t)size, sizeof *scount);
    sdispl = calloc((size_t)size, sizeof *sdispl);
    rcount = calloc((size_t)size, sizeof *rcount);
    rdispl = calloc((size_t)size, sizeof *rdispl);
    if (!scount || !sdispl || !rcount || !rdispl) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    size_t total = 0;
    for (int p = 0; p < size; p++) total += out[p].n;
    if (total * sizeof(rec) > (size_t)0x7fffffff) {
        lmc_errf(err, LMC_EINVAL, "dedup over MPI: more than 2 GB of keys on one rank (use more ranks)");
        goto done;
    }
    sendbuf = malloc((total ? total : 1) * sizeof *sendbuf);
    if (!sendbuf) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    size_t off = 0;
    for (int p = 0; p < size; p++) {
        if (out[p].n) memcpy(sendbuf + off, out[p].r, out[p].n * sizeof(rec));
        scount[p] = (int)(out[p].n * sizeof(rec));
        sdispl[p] = (int)(off * sizeof(rec));
        off += out[p].n;
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, MPI_COMM_WORLD);
    size_t rtotal = 0;
    for (int p = 0; p < size; p++) {
        rdispl[p] = (int)rtotal;
        rtotal += (size_t)rcount[p];
    }
    recvbuf = malloc(rtotal ? rtotal : 1);
    if (!recvbuf) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    MPI_Alltoallv(sendbuf, scount, sdispl, MPI_BYTE, recvbuf, rcount, rdispl, MPI_BYTE, MPI_COMM_WORLD);
    size_t nrec = rtotal / sizeof(rec);
    qsort(recvbuf, nrec, sizeof(rec), cmp_rec);
    /* edges: each run of equal keys links its first (smallest) document to the others */
    size_t ne = 0;
    edges = malloc((nrec ? nrec : 1) * sizeof *edges);
    if (!edges) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    for (size_t i = 1, first = 0; i < nrec; i++) {
        if (recvbuf[i].tag == recvbuf[first].tag && recvbuf[i].k0 == recvbuf[first].k0 &&
            recvbuf[i].k1 == recvbuf[first].k1) {
            edges[ne++] = (data_dedup_edge){recvbuf[i].tag, (uint32_t)recvbuf[first].doc, (uint32_t)recvbuf[i].doc};
        } else {
            first = i;
        }
    }
    if (ne * 3 > 0x7fffffff) { lmc_errf(err, LMC_EINVAL, "dedup over MPI: too many edges on one rank"); goto done; }
    int my = (int)(ne * 3);
    MPI_Gather(&my, 1, MPI_INT, rcount, 1, MPI_INT, 0, MPI_COMM_WORLD);
    size_t etotal = 0;
    if (rank == 0)
        for (int p = 0; p < size; p++) {
            rdispl[p] = (int)etotal;
            etotal += (size_t)rcount[p];
        }
    if (rank == 0) {
        all_edges = malloc((etotal ? etotal : 3) * sizeof(uint32_t));
        if (!all_edges) { lmc_errf(err, LMC_ENOMEM, "out of memory"); /* still join the collective */ }
    }
    MPI_Gatherv(edges, my, MPI_UINT32_T, all_edges, rcount, rdispl, MPI_UINT32_T, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        if (!all_edges) goto done;
        if (n >= UINT32_MAX) { lmc_errf(err, LMC_EINVAL, "dedup: more than 2^32 - 1 documents"); goto done; }
        *edges_out = all_edges;
        *nedges_out = etotal / 3;
        all_edges = NULL;
    }
    *ndocs = n;
    rc = 0;
done:
    data_reader_close(r);
    if (out)
        for (int p = 0; p < size; p++) free(out[p].r);
    free(out);
    free(keys);
    free(has);
    for (size_t t = 0; sig && t < nthr; t++) free(sig[t]);
    free(sig);
    for (size_t t = 0; tmp && t < nthr; t++) lmc_buf_free(&tmp[t]);
    free(tmp);
    free(sendbuf);
    free(recvbuf);
    free(edges);
    free(all_edges);
    free(scount);
    free(sdispl);
    free(rcount);
    free(rdispl);
    return rc;
}

#else

int data_mpi_world(int *rank, int *size) {
    *rank = 0;
    *size = 1;
    return 0;
}

int data_dedup_mpi_pass1(const data_pipeline_cfg *c, const data_minhash *mh, int nthreads, data_dedup_edge **edges,
                         size_t *nedges, uint64_t *ndocs, lmc_err *err) {
    (void)c; (void)mh; (void)nthreads; (void)edges; (void)nedges; (void)ndocs;
    return lmc_errf(err, LMC_EINVAL, "this lmc was built without MPI");
}

#endif
