/* The pipeline driver: read documents in batches, run the streaming stages on each document in
 * parallel (OpenMP), then apply the results serially in input order (counts, reports, output), so the
 * output is byte-identical for any thread count. Dedup, when asked, runs after the streaming stages:
 * pass 1 computes keys and signatures of every surviving document while streaming, equal keys become
 * candidate edges (dedup_plan.c), and pass 2 verifies the candidates in input order and writes the
 * documents that no kept document is a near (or exact) duplicate of. */
#include "data/data.h"
#include "data/dedup_mpi.h"
#include "data/dedup_plan.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void data_decont_cfg_default(data_decont_cfg *c) {
    c->ngram = 13;
    c->min_ngram = 8;
    c->window = 200;
    c->min_slice = 200;
    c->too_dirty = 10;
}

int data_verify_parse(const char *s, int *out) {
    if (!strcmp(s, "jaccard")) *out = DATA_VERIFY_JACCARD;
    else if (!strcmp(s, "signature")) *out = DATA_VERIFY_SIGNATURE;
    else if (!strcmp(s, "both")) *out = DATA_VERIFY_BOTH;
    else return -1;
    return 0;
}

void data_pipeline_cfg_default(data_pipeline_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->dedup_exact = c->dedup_minhash = 1;
    c->minhash.ngram = 5;
    c->minhash.bands = 14;
    c->minhash.rows = 8;
    c->minhash.seed = 1;
    c->dedup_threshold = 0.8;
    c->dedup_verify = DATA_VERIFY_JACCARD;
    c->substring_min_len = 50;
    c->substring_keep_first = 1;
    c->licence_field = "license";
    c->source_field = "source";
    c->max_listed = 1000;
}

/* ---- per-run state ---- */

typedef struct reason_count { const char *reason; uint64_t n; } reason_count;

typedef struct stage_rt {
    data_stage_cfg cfg;
    data_eval_set *sets;
    size_t nsets;
    data_ngram_index *ix;
    data_overlap *ov;
    data_stats *stats;
    reason_count reasons[64];
    int nreasons;
    uint64_t removed, cut_docs, pieces_dropped, contaminated;
    json_t *listed;     /* contaminated documents (DECONT) */
} stage_rt;

typedef struct piece { size_t a, b; } piece;

/* What happened to one document in the parallel phase. */
typedef struct doc_res {
    piece *p;                 /* surviving pieces */
    size_t np, pcap;
    int modified;             /* pieces are not the one whole document */
    const char *reason;       /* why the (whole) document went, when np == 0 */
    int reason_stage;
    /* per stage (index by stage): */
    data_match *m[DATA_MAX_STAGES];   /* OVERLAP matches */
    size_t nm[DATA_MAX_STAGES];
    piece *snap[DATA_MAX_STAGES];     /* STATS: pieces at that point */
    size_t nsnap[DATA_MAX_STAGES];
    uint64_t nmatch[DATA_MAX_STAGES]; /* DECONT: matches found */
    uint32_t pieces_dropped[DATA_MAX_STAGES];
    /* dedup keys per surviving piece */
    uint64_t *keys;           /* np * (4 + bands): exact key, band keys, simplified-text key */
    uint8_t *has_sig;
    /* provenance: the licence and source values (NULL: absent) */
    char *lic, *src;
    size_t lic_len, src_len;
    int licence_removed;      /* reason is a licence reason, from before every stage */
} doc_res;

typedef struct thread_scratch {
    data_filter_scratch *fs;
    data_nwords nw;
    data_match *m;
    size_t mcap;
    size_t *ps, *pe, pcap;
    lmc_buf tmp;
    uint64_t *sig;
} thread_scratch;

typedef struct dedup_rt {
    uint64_t *keys;      /* per output document: exact key (2) + band keys (bands) */
    uint8_t *has_sig;
    uint32_t *file_id;
    uint64_t *line;
    size_t n, cap;
    size_t stride;
} dedup_rt;

static void count_reason(stage_rt *s, const char *r) {
    for (int i = 0; i < s->nreasons; i++)
        if (s->reasons[i].reason == r || strcmp(s->reasons[i].reason, r) == 0) { s->reasons[i].n++; return; }
    if (s->nreasons < 64) s->reasons[s->nreasons++] = (reason_count){r, 1};
}

static int piece_push(doc_res *d, size_t a, size_t b) {
    if (d->np == d->pcap) {
        size_t nc = d->pcap ? d->pcap * 2 : 4;
        piece *p = realloc(d->p, nc * sizeof *p);
        if (!p) return -1;
        d->p = p;
        d->pcap = nc;
    }
    d->p[d->np++] = (piece){a, b};
    return 0;
}

static void res_clear(doc_res *d, int nstages) {
    for (int s = 0; s < nstages; s++) {
        free(d->m[s]);
        free(d->snap[s]);
    }
    free(d->p);
    free(d->keys);
    free(d->has_sig);
    free(d->lic);
    free(d->src);
    memset(d, 0, sizeof *d);
}

/* Run the streaming stages (and dedup keys) on one document. Returns 0 or -1 (out of memory). */
static int process_doc(const data_pipeline_cfg *c, stage_rt *st, const data_minhash *mh, const data_doc *doc,
                       doc_res *d, thread_scratch *ts) {
    if (c->provenance || c->nlicence_allow > 0) {
        if (data_doc_field(doc, c->licence_field, &ts->tmp)) {
            if (!(d->lic = strndup(ts->tmp.data ? ts->tmp.data : "", ts->tmp.len))) return -1;
            d->lic_len = ts->tmp.len;
        }
        if (data_doc_field(doc, c->source_field, &ts->tmp)) {
            if (!(d->src = strndup(ts->tmp.data ? ts->tmp.data : "", ts->tmp.len))) return -1;
            d->src_len = ts->tmp.len;
        }
        const char *why = data_licence_check(c, d->lic, d->lic_len);
        if (why) {  /* before every stage: nothing else is computed for it */
            d->reason = why;
            d->licence_removed = 1;
            return 0;
        }
    }
    if (piece_push(d, 0, doc->text_len) < 0) return -1;
    const char *t = doc->text;
    for (int s = 0; s < c->nstages && d->np > 0; s++) {
        const data_stage_cfg *sc = &st[s].cfg;
        if (sc->kind == DATA_STAGE_FILTER && sc->filter.nscore) {  /* rules on the line's number columns */
            const char *r = doc->raw ? data_score_rules_check(&sc->filter, doc->raw, doc->raw_len) : sc->filter.score[0].missing;
            if (r) {
                d->reason = r;
                d->reason_stage = s;
                d->np = 0;
                break;
            }
        }
        if (sc->kind == DATA_STAGE_FILTER) {
            size_t k = 0;
            for (size_t i = 0; i < d->np; i++) {
                const char *r = data_filter_doc(&sc->filter, t + d->p[i].a, d->p[i].b - d->p[i].a, ts->fs);
                if (r) {
                    if (d->np == 1) { d->reason = r; d->reason_stage = s; }
                    else d->pieces_dropped[s]++;
                } else {
                    d->p[k++] = d->p[i];
                }
            }
            d->np = k;
        } else if (sc->kind == DATA_STAGE_DECONT || sc->kind == DATA_STAGE_OVERLAP) {
            size_t nin = d->np;
            piece *in = malloc(nin * sizeof *in);
            if (!in) return -1;
            memcpy(in, d->p, nin * sizeof *in);
            d->np = 0;
            for (size_t i = 0; i < nin; i++) {
                size_t nm;
                if (data_ngram_scan(st[s].ix, t + in[i].a, in[i].b - in[i].a, &ts->m, &nm, &ts->mcap, &ts->nw, NULL) < 0) {
                    free(in);
                    return -1;
                }
                if (sc->kind == DATA_STAGE_OVERLAP) {
                    if (nm) {
                        data_match *nmv = realloc(d->m[s], (d->nm[s] + nm) * sizeof *nmv);
                        if (!nmv) { free(in); return -1; }
                        memcpy(nmv + d->nm[s], ts->m, nm * sizeof *nmv);
                        d->m[s] = nmv;
                        d->nm[s] += nm;
                    }
                    if (piece_push(d, in[i].a, in[i].b) < 0) { free(in); return -1; }
                    continue;
                }
                d->nmatch[s] += nm;
                if (!nm || sc->report_only) {
                    if (piece_push(d, in[i].a, in[i].b) < 0) { free(in); return -1; }
                    continue;
                }
                size_t before;
                long np = data_decont_pieces(&sc->decont, t + in[i].a, in[i].b - in[i].a, ts->m, nm, &ts->ps, &ts->pe,
                                             &ts->pcap, &before);
                if (np == -2) { free(in); return -1; }
                d->modified = 1;
                if (np <= 0) {
                    if (nin == 1) {
                        d->reason = np < 0 ? "decontaminate/too_dirty" : "decontaminate/no_clean_slice";
                        d->reason_stage = s;
                    } else {
                        d->pieces_dropped[s]++;
                    }
                    continue;
                }
                for (long k = 0; k < np; k++)
                    if (piece_push(d, in[i].a + ts->ps[k], in[i].a + ts->pe[k]) < 0) { free(in); return -1; }
            }
            free(in);
        }
        if (d->np == 0 && !d->reason) {  /* every piece went, one by one */
            d->reason = sc->kind == DATA_STAGE_FILTER ? "filter/all_pieces_removed" : "decontaminate/no_clean_slice";
            d->reason_stage = s;
        }
        if (sc->kind == DATA_STAGE_STATS) {
            d->snap[s] = malloc((d->np ? d->np : 1) * sizeof(piece));
            if (!d->snap[s]) return -1;
            memcpy(d->snap[s], d->p, d->np * sizeof(piece));
            d->nsnap[s] = d->np;
        }
    }
    if (c->dedup && d->np > 0) {
        size_t stride = 4 + (size_t)mh->cfg.bands;
        d->keys = calloc(d->np * stride, sizeof(uint64_t));
        d->has_sig = calloc(d->np, 1);
        if (!d->keys || !d->has_sig) return -1;
        for (size_t i = 0; i < d->np; i++) {
            const char *pt = t + d->p[i].a;
            size_t pl = d->p[i].b - d->p[i].a;
            uint64_t *k = d->keys + i * stride;
            if (c->dedup_exact) data_exact_key(pt, pl, k, &ts->tmp);
            if (c->dedup_minhash) {
                long nsh = data_minhash_keys(mh, pt, pl, ts->sig, k + 2, &ts->tmp, NULL);
                if (nsh < 0) return -1;
                d->has_sig[i] = nsh > 0;
            }
        }
    }
    return 0;
}

static json_t *doc_ref(const data_reader *r, uint32_t file_id, uint64_t line, uint64_t index) {
    json_t *o = json_object();
    json_object_set_new(o, "doc", json_integer((json_int_t)index));
    json_object_set_new(o, "file", json_string(data_reader_path(r, file_id)));
    json_object_set_new(o, "line", json_integer((json_int_t)line));
    return o;
}

/* ---- dedup clustering ---- */

typedef struct kd { uint64_t k0, k1; uint32_t doc; } kd;

static int cmp_kd(const void *a, const void *b) {
    const kd *x = a, *y = b;
    if (x->k0 != y->k0) return x->k0 < y->k0 ? -1 : 1;
    if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Pass 1's key equalities as edges "first document of a run of equal keys -- another member" (tag 0:
 * exact key, 1 + b: band b), the same set the MPI ranks produce. */
static int push_edge(data_dedup_edge **e, size_t *n, size_t *cap, uint32_t tag, uint32_t a, uint32_t b) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        data_dedup_edge *p = realloc(*e, nc * sizeof *p);
        if (!p) return -1;
        *e = p;
        *cap = nc;
    }
    (*e)[(*n)++] = (data_dedup_edge){tag, a, b};
    return 0;
}

static int collect_edges(const data_pipeline_cfg *c, const dedup_rt *dd, data_dedup_edge **e, size_t *ne, lmc_err *err) {
    size_t cap = 0;
    *e = NULL;
    *ne = 0;
    kd *a = malloc((dd->n ? dd->n : 1) * sizeof *a);
    if (!a) return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup index)");
    /* b = -1: exact key (tag 0); 0..bands-1: band b (tag b + 1); bands: simplified-text key (tag bands + 1) */
    int nb = c->minhash.bands;
    for (int b = c->dedup_exact ? -1 : 0; b < (c->dedup_minhash ? nb + 1 : 0); b++) {
        size_t m = 0;
        for (size_t i = 0; i < dd->n; i++) {
            const uint64_t *k = dd->keys + i * dd->stride;
            if (b < 0) a[m++] = (kd){k[0], k[1], (uint32_t)i};
            else if (!dd->has_sig[i]) continue;
            else if (b < nb) a[m++] = (kd){k[2 + b], 0, (uint32_t)i};
            else a[m++] = (kd){k[2 + nb], k[3 + nb], (uint32_t)i};
        }
        qsort(a, m, sizeof *a, cmp_kd);
        for (size_t i = 1, first = 0; i < m; i++) {
            if (a[i].k0 == a[first].k0 && a[i].k1 == a[first].k1) {
                if (push_edge(e, ne, &cap, (uint32_t)(b + 1), a[first].doc, a[i].doc) < 0) {
                    free(a);
                    return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup edges)");
                }
            } else {
                first = i;
            }
        }
    }
    free(a);
    return 0;
}

static int dd_push(dedup_rt *dd, const uint64_t *keys, uint8_t has_sig, uint32_t file_id, uint64_t line) {
    if (dd->n == dd->cap) {
        size_t nc = dd->cap ? dd->cap * 2 : 4096;
        uint64_t *k = realloc(dd->keys, nc * dd->stride * sizeof *k);
        if (!k) return -1;
        dd->keys = k;
        uint8_t *h = realloc(dd->has_sig, nc);
        if (!h) return -1;
        dd->has_sig = h;
        uint32_t *f = realloc(dd->file_id, nc * sizeof *f);
        if (!f) return -1;
        dd->file_id = f;
        uint64_t *l = realloc(dd->line, nc * sizeof *l);
        if (!l) return -1;
        dd->line = l;
        dd->cap = nc;
    }
    if (dd->n >= UINT32_MAX) return -1;
    memcpy(dd->keys + dd->n * dd->stride, keys, dd->stride * sizeof *keys);
    dd->has_sig[dd->n] = has_sig;
    dd->file_id[dd->n] = file_id;
    dd->line[dd->n] = line;
    dd->n++;
    return 0;
}

static const char *stage_name(data_stage_kind k) {
    switch (k) {
    case DATA_STAGE_FILTER: return "filter";
    case DATA_STAGE_DECONT: return "decontaminate";
    case DATA_STAGE_OVERLAP: return "overlap";
    case DATA_STAGE_STATS: return "stats";
    }
    return "?";
}

static int stages_change_docs(const data_pipeline_cfg *c) {
    if (c->nlicence_allow > 0) return 1;  /* the licence check removes documents before every stage */
    for (int s = 0; s < c->nstages; s++)
        if (c->stages[s].kind == DATA_STAGE_FILTER || (c->stages[s].kind == DATA_STAGE_DECONT && !c->stages[s].report_only))
            return 1;
    return 0;
}

/* Count a written document's licence and source (dedup's pass 2 reads the fields again). */
static int count_out(const data_pipeline_cfg *c, const data_doc *d, data_counter *lic, data_counter *src, lmc_buf *tmp,
                     lmc_err *err) {
    int rc = data_doc_field(d, c->licence_field, tmp) ? data_counter_add(lic, tmp->data ? tmp->data : "", tmp->len, 1)
                                                       : data_counter_add(lic, "(missing)", 9, 1);
    if (rc == 0)
        rc = data_doc_field(d, c->source_field, tmp) ? data_counter_add(src, tmp->data ? tmp->data : "", tmp->len, 1)
                                                     : data_counter_add(src, "(missing)", 9, 1);
    return rc < 0 ? lmc_errf(err, LMC_ENOMEM, "out of memory") : 0;
}

int data_pipeline_run(const data_pipeline_cfg *c, json_t **report, lmc_err *err) {
    *report = json_object();
    double t0 = lmc_now();
    int rc = -1;
    int nthreads = c->threads > 0 ? c->threads : omp_get_max_threads();
    stage_rt *st = calloc((size_t)(c->nstages ? c->nstages : 1), sizeof *st);
    thread_scratch *ts = calloc((size_t)nthreads, sizeof *ts);
    data_reader *r = NULL, *r2 = NULL;
    data_writer *out = NULL, *rej = NULL, *spool = NULL;
    char *spool_path = NULL;
    data_minhash mh = {0};
    dedup_rt dd = {0};
    data_dedup_plan *plan = NULL;
    data_dedup_edge *edges = NULL;
    size_t nedges = 0;
    int prov_on = c->provenance || c->nlicence_allow > 0;
    data_counter *lic_in = NULL, *lic_out = NULL, *src_in = NULL, *src_out = NULL;
    uint64_t lic_missing = 0, lic_denied = 0;
    data_dedup_item *items = NULL;  /* pass 2: what the batch's candidates need for verification */
    size_t items_cap = 0;
    long items_live = 0;
    doc_res *res = NULL;
    size_t res_cap = 0;
    long res_live = 0;  /* entries of res holding allocations */
    if (!st || !ts) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    if (prov_on && (!(lic_in = data_counter_new(1000)) || !(lic_out = data_counter_new(1000)) ||
                    !(src_in = data_counter_new(1000)) || !(src_out = data_counter_new(1000)))) {
        lmc_errf(err, LMC_ENOMEM, "out of memory");
        goto done;
    }
    if (c->nstages > DATA_MAX_STAGES) { lmc_errf(err, LMC_EINVAL, "too many stages"); goto done; }

    /* stage set-up */
    for (int s = 0; s < c->nstages; s++) {
        stage_rt *sr = &st[s];
        sr->cfg = c->stages[s];
        sr->listed = json_array();
        if (sr->cfg.kind == DATA_STAGE_DECONT || sr->cfg.kind == DATA_STAGE_OVERLAP) {
            if (sr->cfg.neval <= 0) { lmc_errf(err, LMC_EINVAL, "%s: no evaluation files (--eval)", stage_name(sr->cfg.kind)); goto done; }
            if (sr->cfg.decont.window < 0 || sr->cfg.decont.min_slice < 0 || sr->cfg.decont.too_dirty < 0) {
                lmc_errf(err, LMC_EINVAL, "decontaminate: window, min slice and too-dirty cutoff must be >= 0");
                goto done;
            }
            sr->ix = data_ngram_index_new(sr->cfg.decont.ngram, sr->cfg.decont.min_ngram, err);
            if (!sr->ix) goto done;
            sr->sets = calloc((size_t)sr->cfg.neval, sizeof *sr->sets);
            if (!sr->sets) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
            for (int e = 0; e < sr->cfg.neval; e++) {
                if (data_eval_load(sr->cfg.eval[e], sr->cfg.eval_field, &sr->sets[e], err) < 0) goto done;
                sr->nsets++;
                if (data_ngram_index_add(sr->ix, &sr->sets[e], err) < 0) goto done;
            }
            if (sr->cfg.kind == DATA_STAGE_OVERLAP && !(sr->ov = data_overlap_new(sr->ix, err))) goto done;
        } else if (sr->cfg.kind == DATA_STAGE_STATS) {
            if (!(sr->stats = data_stats_new(err))) goto done;
        }
    }
    if (c->dedup) {
        if (!c->dedup_exact && !c->dedup_minhash) { lmc_errf(err, LMC_EINVAL, "dedup: neither exact nor MinHash"); goto done; }
        if (data_minhash_init(&mh, &c->minhash, err) < 0) goto done;
        if (!(c->dedup_threshold > 0 && c->dedup_threshold <= 1)) {
            lmc_errf(err, LMC_EINVAL, "dedup: --threshold must be in (0, 1], got %g", c->dedup_threshold);
            goto done;
        }
        if (c->dedup_verify < DATA_VERIFY_JACCARD || c->dedup_verify > DATA_VERIFY_BOTH) {
            lmc_errf(err, LMC_EINVAL, "dedup: unknown verification mode %d", c->dedup_verify);
            goto done;
        }
        dd.stride = 4 + (size_t)c->minhash.bands;
    }
    for (int i = 0; i < nthreads; i++) {
        ts[i].fs = data_filter_scratch_new();
        ts[i].sig = calloc((size_t)(c->dedup ? c->minhash.bands * c->minhash.rows : 1), sizeof(uint64_t));
        if (!ts[i].fs || !ts[i].sig) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    }

    int mrank = 0, msize = 1, distributed = c->dedup && data_mpi_world(&mrank, &msize);
    data_read_opts ropts = c->read;
    ropts.threads = nthreads;
    if (data_reader_open(&r, c->inputs, c->ninputs, &ropts, err) < 0) goto done;
    int use_spool = c->dedup && c->output && stages_change_docs(c);
    for (size_t i = 0; i < c->ninputs; i++)
        if (c->dedup && strcmp(c->inputs[i], "-") == 0) use_spool = 1;
    if (c->output && !c->dedup && data_writer_open(&out, c->output, err) < 0) goto done;
    if (c->rejected && mrank == 0 && data_writer_open(&rej, c->rejected, err) < 0) goto done;
    if (use_spool) {
        size_t n = strlen(c->output) + 64;
        spool_path = malloc(n);
        if (!spool_path) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
        snprintf(spool_path, n, "%s.spool.%ld.jsonl.zst", c->output, (long)getpid());
        if (data_writer_open(&spool, spool_path, err) < 0) goto done;
    }
    const char *field = c->read.field ? c->read.field : "text";

    /* ---- pass 1: stream (or, under mpirun, the distributed key exchange) ---- */
    uint64_t docs_in = 0, docs_out = 0, bytes_in = 0;
    if (distributed && (c->nstages > 0 || use_spool)) {
        lmc_errf(err, LMC_EINVAL, "under MPI, dedup runs as a stage of its own (no other stages, no stdin, no "
                                  "--licence-allow: run `lmc data filter --licence-allow` first)");
        goto done;
    }
    if (c->progress && !distributed) lmc_progress_start(c->progress, "data", 0, "B");
    if (distributed) {
        uint64_t n;
        if (data_dedup_mpi_pass1(c, &mh, nthreads, &edges, &nedges, &n, err) < 0) goto done;
        if (mrank != 0) {  /* rank 0 verifies, writes the output and the report */
            json_object_set_new(*report, "mpi_rank", json_integer(mrank));
            rc = 0;
            goto done;
        }
        dd.n = dd.cap = (size_t)n;  /* rank 0 fills file and line in pass 2 */
        dd.file_id = calloc(n ? n : 1, sizeof *dd.file_id);
        dd.line = calloc(n ? n : 1, sizeof *dd.line);
        if (!dd.file_id || !dd.line) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
        json_object_set_new(*report, "mpi_ranks", json_integer(msize));
    }
    for (; !distributed;) {
        data_doc *docs;
        long nd = data_reader_batch(r, 4096, (size_t)8 << 20, &docs, err);
        if (nd < 0) goto done;
        if (nd == 0) break;
        if ((size_t)nd > res_cap) {
            doc_res *p = realloc(res, (size_t)nd * sizeof *p);
            if (!p) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
            res = p;
            res_cap = (size_t)nd;
        }
        memset(res, 0, (size_t)nd * sizeof *res);
        res_live = nd;
        int oom = 0;
#pragma omp parallel for schedule(dynamic, 16) num_threads(nthreads) reduction(| : oom)
        for (long i = 0; i < nd; i++)
            if (process_doc(c, st, &mh, &docs[i], &res[i], &ts[omp_get_thread_num()]) < 0) oom = 1;
        if (oom) { lmc_errf(err, LMC_ENOMEM, "out of memory processing documents"); goto done; }
        /* serial: apply in input order */
        for (long i = 0; i < nd; i++) {
            const data_doc *doc = &docs[i];
            doc_res *d = &res[i];
            docs_in++;
            bytes_in += doc->text_len;
            for (int s = 0; s < c->nstages; s++) {
                stage_rt *sr = &st[s];
                if (sr->cfg.kind == DATA_STAGE_OVERLAP && d->nm[s]) data_overlap_add_matches(sr->ov, d->m[s], d->nm[s]);
                if (sr->cfg.kind == DATA_STAGE_STATS)
                    for (size_t k = 0; k < d->nsnap[s]; k++)
                        if (data_stats_add(sr->stats, doc->text + d->snap[s][k].a, d->snap[s][k].b - d->snap[s][k].a, err) < 0)
                            goto done;
                if (sr->cfg.kind == DATA_STAGE_DECONT && d->nmatch[s]) {
                    sr->contaminated++;
                    if (json_array_size(sr->listed) < c->max_listed) {
                        json_t *o = doc_ref(r, doc->file_id, doc->line, doc->index);
                        json_object_set_new(o, "ngram_matches", json_integer((json_int_t)d->nmatch[s]));
                        json_array_append_new(sr->listed, o);
                    }
                    if (!sr->cfg.report_only && d->np > 0) sr->cut_docs++;
                }
                sr->pieces_dropped += d->pieces_dropped[s];
            }
            if (prov_on) {
                if (data_counter_add(lic_in, d->lic ? d->lic : "(missing)", d->lic ? d->lic_len : 9, 1) < 0 ||
                    data_counter_add(src_in, d->src ? d->src : "(missing)", d->src ? d->src_len : 9, 1) < 0) {
                    lmc_errf(err, LMC_ENOMEM, "out of memory");
                    goto done;
                }
                if (d->licence_removed) {
                    if (!strcmp(d->reason, "licence/missing")) lic_missing++;
                    else lic_denied++;
                    if (rej && data_writer_doc_tagged(rej, doc, field, "lmc_reason", d->reason, err) < 0) goto done;
                    continue;
                }
                if (!c->dedup && d->np > 0 &&
                    (data_counter_add(lic_out, d->lic ? d->lic : "(missing)", d->lic ? d->lic_len : 9, 1) < 0 ||
                     data_counter_add(src_out, d->src ? d->src : "(missing)", d->src ? d->src_len : 9, 1) < 0)) {
                    lmc_errf(err, LMC_ENOMEM, "out of memory");
                    goto done;
                }
            }
            if (d->np == 0) {
                stage_rt *sr = &st[d->reason_stage];
                sr->removed++;
                count_reason(sr, d->reason);
                if (rej && data_writer_doc_tagged(rej, doc, field, "lmc_reason", d->reason, err) < 0) goto done;
                continue;
            }
            for (size_t k = 0; k < d->np; k++) {
                data_writer *w = c->dedup ? spool : out;
                if (w) {
                    if (!d->modified) {
                        if (data_writer_doc(w, doc, field, err) < 0) goto done;
                    } else if (data_writer_doc_text(w, doc, field, doc->text + d->p[k].a, d->p[k].b - d->p[k].a, err) < 0) {
                        goto done;
                    }
                }
                if (c->dedup && dd_push(&dd, d->keys + k * dd.stride, d->has_sig[k], doc->file_id, doc->line) < 0) {
                    lmc_errf(err, LMC_ENOMEM, "out of memory (dedup index)");
                    goto done;
                }
                docs_out++;
            }
        }
        for (long i = 0; i < nd; i++) res_clear(&res[i], c->nstages);
        res_live = 0;
        if (c->progress) lmc_progress_set(c->progress, data_reader_bytes(r));
    }
    uint64_t skipped = data_reader_nskipped(r);

    /* ---- dedup: candidates from the keys, then pass 2 verifies them in input order ---- */
    json_t *dedup_rep = NULL;
    if (c->dedup) {
        size_t index_bytes = 0;
        if (!distributed) {
            index_bytes = dd.n * (dd.stride * 8 + 1 + 4 + 8) + dd.n * sizeof(kd);
            if (collect_edges(c, &dd, &edges, &nedges, err) < 0) goto done;
            /* the keys have done their work; pass 2 needs only file and line */
            free(dd.keys);
            dd.keys = NULL;
        }
        if (data_dedup_plan_new(&plan, dd.n, edges, nedges, &mh, c->dedup_threshold, c->dedup_verify, err) < 0) goto done;
        free(edges);
        edges = NULL;
        dedup_rep = json_object();
        json_object_set_new(*report, "dedup", dedup_rep);
        const data_reader *names = r;
        if (spool) {
            if (data_writer_commit(spool, err) < 0) { spool = NULL; goto done; }
            spool = NULL;
            const char *sp = spool_path;
            data_read_opts ro;
            data_read_opts_default(&ro);
            ro.field = field;
            ro.format = DATA_FMT_JSONL;
            ro.max_doc_bytes = 0;
            ro.threads = nthreads;
            if (data_reader_open(&r2, &sp, 1, &ro, err) < 0) goto done;
        } else if (data_reader_rewind(r, err) < 0) {
            goto done;
        }
        data_reader *rr = r2 ? r2 : r;
        if (c->output && data_writer_open(&out, c->output, err) < 0) goto done;
        uint64_t k = 0, removed_exact = 0, removed_near = 0;
        for (;;) {
            data_doc *docs;
            long nd = data_reader_batch(rr, 4096, (size_t)8 << 20, &docs, err);
            if (nd < 0) goto done;
            if (nd == 0) break;
            if (k + (uint64_t)nd > dd.n) { lmc_errf(err, LMC_EFORMAT, "dedup: the input changed between the two passes"); goto done; }
            if ((size_t)nd > items_cap) {
                data_dedup_item *p = realloc(items, (size_t)nd * sizeof *p);
                if (!p) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
                items = p;
                items_cap = (size_t)nd;
            }
            memset(items, 0, (size_t)nd * sizeof *items);
            items_live = nd;
            /* shingle sets (or signatures) of this batch's candidates, in parallel; decisions in order */
            int bad = 0;
#pragma omp parallel for schedule(dynamic, 16) num_threads(nthreads) reduction(| : bad)
            for (long i = 0; i < nd; i++)
                if (data_dedup_plan_needs(plan, (uint32_t)(k + (uint64_t)i)) &&
                    data_dedup_item_compute(plan, docs[i].text, docs[i].text_len, &items[i], &ts[omp_get_thread_num()].tmp, NULL) < 0)
                    bad = 1;
            if (bad) { lmc_errf(err, LMC_ENOMEM, "out of memory (dedup verification)"); goto done; }
            for (long i = 0; i < nd; i++, k++) {
                if (distributed) {
                    dd.file_id[k] = docs[i].file_id;
                    dd.line[k] = docs[i].line;
                    docs_in++;
                    bytes_in += docs[i].text_len;
                    if (prov_on && count_out(c, &docs[i], lic_in, src_in, &ts[0].tmp, err) < 0) goto done;
                }
                uint32_t d = (uint32_t)k;
                if (data_dedup_plan_visit(plan, d, data_dedup_plan_needs(plan, d) ? &items[i] : NULL, err) < 0) goto done;
                uint32_t keep = data_dedup_partner(plan, d);
                if (keep == d) {
                    if (out && data_writer_doc(out, &docs[i], field, err) < 0) goto done;
                    if (prov_on && count_out(c, &docs[i], lic_out, src_out, &ts[0].tmp, err) < 0) goto done;
                    continue;
                }
                int exact = data_dedup_is_exact(plan, d);
                if (exact) removed_exact++;
                else removed_near++;
                if (rej) {
                    char why[600];
                    snprintf(why, sizeof why, "dedup/%s_duplicate of document %u (%s:%llu), similarity %.4f",
                             exact ? "exact" : "near", keep, data_reader_path(names, dd.file_id[keep]),
                             (unsigned long long)dd.line[keep], data_dedup_similarity(plan, d));
                    if (data_writer_doc_tagged(rej, &docs[i], field, "lmc_reason", why, err) < 0) goto done;
                }
            }
            for (long i = 0; i < nd; i++) data_dedup_item_free(&items[i]);
            items_live = 0;
        }
        if (k != dd.n) { lmc_errf(err, LMC_EFORMAT, "dedup: the input changed between the two passes"); goto done; }
        if (distributed) {
            skipped = data_reader_nskipped(rr);
            index_bytes = dd.n * (sizeof(uint32_t) + sizeof(uint64_t) + 1);  /* rank 0: file, line */
        }
        /* clusters: each kept document with the documents removed for it, each with its similarity */
        uint32_t *cnt = calloc(dd.n ? dd.n : 1, sizeof *cnt);
        json_t **byroot = calloc(dd.n ? dd.n : 1, sizeof *byroot);
        if (!cnt || !byroot) { free(cnt); free(byroot); lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
        for (size_t i = 0; i < dd.n; i++) cnt[data_dedup_partner(plan, (uint32_t)i)]++;
        json_t *clusters = json_array();
        uint64_t nclusters = 0;
        for (size_t i = 0; i < dd.n; i++) {
            uint32_t keep = data_dedup_partner(plan, (uint32_t)i);
            if (cnt[keep] < 2) continue;
            if (keep == i) {
                nclusters++;
                json_t *cl = json_object();
                json_object_set_new(cl, "size", json_integer(cnt[keep]));
                json_object_set_new(cl, "kept", doc_ref(names, dd.file_id[i], dd.line[i], i));
                byroot[i] = json_array();
                json_object_set_new(cl, "removed", byroot[i]);
                json_array_append_new(clusters, cl);
            } else {
                json_t *o = doc_ref(names, dd.file_id[i], dd.line[i], i);
                int exact = data_dedup_is_exact(plan, (uint32_t)i);
                json_object_set_new(o, "match", json_string(exact ? "exact" : "minhash"));
                json_object_set_new(o, "similarity", json_real(data_dedup_similarity(plan, (uint32_t)i)));
                json_array_append_new(byroot[keep], o);
            }
        }
        free(byroot);
        free(cnt);
        static const char *const vnames[] = {"exact Jaccard of the shingle sets", "MinHash signature estimate",
                                             "exact Jaccard of the shingle sets (signature estimate measured too)"};
        char method[1024];
        snprintf(method, sizeof method,
                 "exact: XXH3-128 of white-space-normalized text; near: MinHash-LSH over word n-grams of simplify_text "
                 "(lowercase, no punctuation, numbers->0, no diacritics), h(x)=((a*x+b) mod 2^64) mod (2^61-1), bands "
                 "of rows hashed to 64-bit bucket keys; LSH candidates verified by %s >= %.3g; greedy in input order: "
                 "a document is kept unless a kept candidate is at or above the threshold",
                 vnames[c->dedup_verify], c->dedup_threshold);
        json_object_set_new(dedup_rep, "method", json_string(method));
        json_object_set_new(dedup_rep, "exact", json_boolean(c->dedup_exact));
        json_object_set_new(dedup_rep, "minhash", json_boolean(c->dedup_minhash));
        json_object_set_new(dedup_rep, "ngram", json_integer(c->minhash.ngram));
        json_object_set_new(dedup_rep, "bands", json_integer(c->minhash.bands));
        json_object_set_new(dedup_rep, "rows", json_integer(c->minhash.rows));
        json_object_set_new(dedup_rep, "seed", json_integer((json_int_t)c->minhash.seed));
        json_object_set_new(dedup_rep, "threshold", json_real(c->dedup_threshold));
        json_object_set_new(dedup_rep, "verification", data_dedup_plan_json(plan));
        json_object_set_new(dedup_rep, "documents", json_integer((json_int_t)dd.n));
        json_object_set_new(dedup_rep, "removed_exact", json_integer((json_int_t)removed_exact));
        json_object_set_new(dedup_rep, "removed_near", json_integer((json_int_t)removed_near));
        json_object_set_new(dedup_rep, "kept", json_integer((json_int_t)(dd.n - removed_exact - removed_near)));
        json_object_set_new(dedup_rep, "clusters_count", json_integer((json_int_t)nclusters));
        json_object_set_new(dedup_rep, "index_bytes", json_integer((json_int_t)index_bytes));
        json_object_set_new(dedup_rep, "index_bytes_per_document",
                            json_integer((json_int_t)(dd.n ? index_bytes / dd.n : 0)));
        json_object_set_new(dedup_rep, "verification_bytes", json_integer((json_int_t)data_dedup_plan_bytes(plan)));
        json_object_set_new(dedup_rep, "clusters", clusters);
        docs_out = dd.n - removed_exact - removed_near;
    }

    if (out) {
        if (data_writer_commit(out, err) < 0) { out = NULL; goto done; }
        out = NULL;
    }
    if (rej) {
        if (data_writer_commit(rej, err) < 0) { rej = NULL; goto done; }
        rej = NULL;
    }
    if (c->progress && !distributed) lmc_progress_finish(c->progress);

    /* ---- report ---- */
    {
        json_t *rep = *report;
        json_t *ins = json_array();
        for (size_t i = 0; i < c->ninputs; i++) json_array_append_new(ins, json_string(c->inputs[i]));
        json_object_set_new(rep, "inputs", ins);
        if (c->output) json_object_set_new(rep, "output", json_string(c->output));
        json_object_set_new(rep, "documents_in", json_integer((json_int_t)docs_in));
        json_object_set_new(rep, "bytes_in", json_integer((json_int_t)bytes_in));
        json_object_set_new(rep, "documents_out", json_integer((json_int_t)docs_out));
        json_object_set_new(rep, "skipped_input_lines", json_integer((json_int_t)skipped));
        size_t nsk;
        const data_skip *sk = data_reader_skips(r, &nsk);
        json_t *ska = json_array();
        for (size_t i = 0; i < nsk; i++) {
            json_t *o = json_object();
            json_object_set_new(o, "file", json_string(data_reader_path(r, sk[i].file_id)));
            json_object_set_new(o, "line", json_integer((json_int_t)sk[i].line));
            json_object_set_new(o, "reason", json_string(sk[i].reason));
            json_array_append_new(ska, o);
        }
        json_object_set_new(rep, "skipped", ska);
        json_t *stages = json_array();
        for (int s = 0; s < c->nstages; s++) {
            stage_rt *sr = &st[s];
            json_t *o = json_object();
            json_object_set_new(o, "stage", json_string(stage_name(sr->cfg.kind)));
            if (sr->cfg.kind == DATA_STAGE_FILTER) {
                json_object_set_new(o, "parameters", data_filter_cfg_json(&sr->cfg.filter));
            }
            if (sr->cfg.kind == DATA_STAGE_FILTER || sr->cfg.kind == DATA_STAGE_DECONT) {
                json_object_set_new(o, "removed", json_integer((json_int_t)sr->removed));
                json_t *by = json_object();
                for (int k = 0; k < sr->nreasons; k++)
                    json_object_set_new(by, sr->reasons[k].reason, json_integer((json_int_t)sr->reasons[k].n));
                json_object_set_new(o, "removed_by_rule", by);
            }
            if (sr->cfg.kind == DATA_STAGE_DECONT || sr->cfg.kind == DATA_STAGE_OVERLAP) {
                char method[512];
                snprintf(method, sizeof method,
                         "word %d-grams, lowercased, punctuation removed, split on white space, Latin diacritics "
                         "folded; examples shorter than %d words use their whole word sequence when it has at least "
                         "%d words; 64-bit hashed n-grams (exact match of the hash)",
                         sr->cfg.decont.ngram, sr->cfg.decont.ngram, sr->cfg.decont.min_ngram);
                json_object_set_new(o, "method", json_string(method));
                json_object_set_new(o, "ngram", json_integer(sr->cfg.decont.ngram));
                json_object_set_new(o, "min_ngram", json_integer(sr->cfg.decont.min_ngram));
                json_object_set_new(o, "eval_ngrams_indexed", json_integer((json_int_t)data_ngram_index_size(sr->ix)));
                json_object_set_new(o, "index_bytes", json_integer((json_int_t)data_ngram_index_memory(sr->ix)));
            }
            if (sr->cfg.kind == DATA_STAGE_DECONT) {
                json_object_set_new(o, "report_only", json_boolean(sr->cfg.report_only));
                json_object_set_new(o, "window", json_integer(sr->cfg.decont.window));
                json_object_set_new(o, "min_slice", json_integer(sr->cfg.decont.min_slice));
                json_object_set_new(o, "too_dirty", json_integer(sr->cfg.decont.too_dirty));
                json_object_set_new(o, "contaminated_documents", json_integer((json_int_t)sr->contaminated));
                json_object_set_new(o, "cut_documents", json_integer((json_int_t)sr->cut_docs));
                json_object_set_new(o, "listed", sr->listed);
                sr->listed = NULL;
            }
            if (sr->cfg.kind == DATA_STAGE_OVERLAP)
                json_object_set_new(o, "eval_sets", data_overlap_report(sr->ov, sr->sets, sr->nsets, c->max_listed));
            if (sr->cfg.kind == DATA_STAGE_STATS) json_object_set_new(o, "stats", data_stats_json(sr->stats));
            json_array_append_new(stages, o);
        }
        json_object_set_new(rep, "stages", stages);
        if (prov_on) {
            json_t *pv = json_object(), *al = json_array(), *rm = json_object();
            json_object_set_new(pv, "licence_field", json_string(c->licence_field));
            json_object_set_new(pv, "source_field", json_string(c->source_field));
            for (int i = 0; i < c->nlicence_allow; i++) json_array_append_new(al, json_string(c->licence_allow[i]));
            json_object_set_new(pv, "licence_allow", al);
            json_object_set_new(rm, "licence/missing", json_integer((json_int_t)lic_missing));
            json_object_set_new(rm, "licence/not_allowed", json_integer((json_int_t)lic_denied));
            json_object_set_new(pv, "removed_by_rule", rm);
            json_object_set_new(pv, "licences_in", data_counter_json(lic_in));
            json_object_set_new(pv, "licences_out", data_counter_json(lic_out));
            json_object_set_new(pv, "sources_in", data_counter_json(src_in));
            json_object_set_new(pv, "sources_out", data_counter_json(src_out));
            json_object_set_new(rep, "provenance", pv);
        }
        json_object_set_new(rep, "threads", json_integer(nthreads));
    }
    if (c->substring && c->output) {
        /* reads the output it rewrites: safe, since the writer only renames its temp file into place at
         * commit, after both of data_substr_run's passes */
        data_substr_cfg sc;
        data_substr_cfg_default(&sc);
        const char *sin[1] = {c->output};
        sc.inputs = sin;
        sc.ninputs = 1;
        sc.read.field = field;
        sc.read.format = DATA_FMT_JSONL;
        sc.read.max_doc_bytes = 0;
        sc.threads = nthreads;
        sc.output = c->output;
        sc.min_len = c->substring_min_len;
        sc.keep_first = c->substring_keep_first;
        sc.max_listed = c->max_listed;
        json_t *sr = NULL;
        if (data_substr_run(&sc, &sr, err) < 0) {
            json_decref(sr);
            lmc_err_wrap(err, "substring stage");
            goto done;
        }
        json_object_set(*report, "substring_dedup", json_object_get(sr, "substring_dedup"));
        json_object_set(*report, "documents_out", json_object_get(sr, "documents_out"));
        json_decref(sr);
    }
    if (c->npost && c->output) {  /* classify / score / select, each rewriting the output */
        json_t *pa = json_array();
        uint64_t nout = 0;
        if (data_pipeline_post_run(c, pa, &nout, err) < 0) {
            json_decref(pa);
            goto done;
        }
        json_object_set_new(*report, "post_stages", pa);
        json_object_set_new(*report, "documents_out", json_integer((json_int_t)nout));
    }
    json_object_set_new(*report, "seconds", json_real(lmc_now() - t0));
    rc = 0;
done:
    if (out) data_writer_abort(out);
    if (rej) data_writer_abort(rej);
    if (spool) data_writer_abort(spool);
    if (spool_path) { unlink(spool_path); free(spool_path); }
    for (long i = 0; i < res_live; i++) res_clear(&res[i], c->nstages);
    free(res);
    data_reader_close(r);
    data_reader_close(r2);
    for (int i = 0; ts && i < nthreads; i++) {
        data_filter_scratch_free(ts[i].fs);
        data_nwords_free(&ts[i].nw);
        free(ts[i].m);
        free(ts[i].ps);
        free(ts[i].pe);
        lmc_buf_free(&ts[i].tmp);
        free(ts[i].sig);
    }
    free(ts);
    for (int s = 0; st && s < c->nstages; s++) {
        for (size_t e = 0; e < st[s].nsets; e++) data_eval_free(&st[s].sets[e]);
        free(st[s].sets);
        data_overlap_free(st[s].ov);  /* before the index it refers to */
        data_ngram_index_free(st[s].ix);
        data_stats_free(st[s].stats);
        json_decref(st[s].listed);
    }
    free(st);
    data_minhash_free(&mh);
    free(dd.keys);
    free(dd.has_sig);
    free(dd.file_id);
    free(dd.line);
    data_counter_free(lic_in);
    data_counter_free(lic_out);
    data_counter_free(src_in);
    data_counter_free(src_out);
    for (long i = 0; i < items_live; i++) data_dedup_item_free(&items[i]);
    free(items);
    free(edges);
    data_dedup_plan_free(plan);
    return rc;
}
