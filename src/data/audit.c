/* Filter-bias audit (after "Data Caricatures", ACL 2025): how often each quality filter removes documents
 * of each category (a JSONL field such as source, language or dialect), with Wilson 95% intervals, so a
 * filter that removes one category's documents far more often than another's shows before training.
 *
 * Each rule set is evaluated on its own (would this rule set alone remove the document?), plus "any":
 * the whole chain as `lmc data filter` runs it. Documents are filtered in parallel batches and counted in
 * input order, so the report is the same for any thread count. Nothing is written but the report. */
#include "data/data.h"
#include "data/hashtab.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void data_wilson(uint64_t x, uint64_t n, double z, double *lo, double *hi) {
    if (n == 0) { *lo = 0; *hi = 1; return; }
    double p = (double)x / (double)n, nn = (double)n, z2 = z * z;
    double den = 1 + z2 / nn, mid = (p + z2 / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
    *lo = mid - half < 0 ? 0 : mid - half;
    *hi = mid + half > 1 ? 1 : mid + half;
}

void data_audit_cfg_default(data_audit_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->by = "source";
    data_filter_cfg_default(&c->filter, DATA_RULESET_GOPHER_REP | DATA_RULESET_GOPHER_QUALITY | DATA_RULESET_C4 |
                                            DATA_RULESET_FINEWEB);
    c->max_categories = 10000;
}

enum { NRS = 4, MAXREASONS = 48 };
static const unsigned rs_bit[NRS] = {DATA_RULESET_GOPHER_REP, DATA_RULESET_GOPHER_QUALITY, DATA_RULESET_C4,
                                     DATA_RULESET_FINEWEB};
static const char *const rs_name[NRS] = {"gopher-repetition", "gopher-quality", "c4", "fineweb"};

typedef struct reason_n { const char *r; uint64_t n; } reason_n;

typedef struct category {
    const char *name;                  /* malloc'd, except "(all)" */
    uint64_t docs, removed[NRS + 1];   /* [NRS] = any */
    reason_n reasons[MAXREASONS];      /* first rule that fired, per rule set */
    int nreasons;
} category;

static void count_reason(category *c, const char *r, uint64_t n) {
    for (int i = 0; i < c->nreasons; i++)
        if (c->reasons[i].r == r || !strcmp(c->reasons[i].r, r)) { c->reasons[i].n += n; return; }
    if (c->nreasons < MAXREASONS) c->reasons[c->nreasons++] = (reason_n){r, n};
}

static json_t *rate_json(uint64_t x, uint64_t n) {
    double lo, hi;
    data_wilson(x, n, 1.959964, &lo, &hi);
    json_t *o = json_object();
    json_object_set_new(o, "removed", json_integer((json_int_t)x));
    json_object_set_new(o, "rate", json_real(n ? (double)x / (double)n : 0));
    json_t *ci = json_array();
    json_array_append_new(ci, json_real(lo));
    json_array_append_new(ci, json_real(hi));
    json_object_set_new(o, "ci95", ci);
    return o;
}

/* Find or add the category; past max_categories everything new goes to "(other)". */
static long find_cat(category **cats, size_t *ncat, size_t *cap, data_ht *ht, const char *s, size_t n, size_t max) {
    uint64_t h = XXH3_64bits(s, n);
    const data_ht_slot *sl = data_ht_find(ht, h);
    if (sl) return sl->first;
    if (*ncat >= max) { s = "(other)"; n = 7; h = XXH3_64bits(s, n); if ((sl = data_ht_find(ht, h))) return sl->first; }
    if (*ncat == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        category *p = realloc(*cats, nc * sizeof *p);
        if (!p) return -1;
        *cats = p;
        *cap = nc;
    }
    if (ht->n * 2 + 2 > ht->cap) {  /* grow: rebuild the table from the names */
        data_ht nt = {0};
        if (data_ht_reset(&nt, (*ncat + 1) * 4) < 0) return -1;
        for (size_t i = 0; i < *ncat; i++) data_ht_add(&nt, XXH3_64bits((*cats)[i].name, strlen((*cats)[i].name)), (uint32_t)i);
        data_ht_free(ht);
        *ht = nt;
    }
    category *c = &(*cats)[*ncat];
    memset(c, 0, sizeof *c);
    char *nm = strndup(s, n);
    if (!nm) return -1;
    c->name = nm;
    data_ht_add(ht, h, (uint32_t)*ncat);
    return (long)(*ncat)++;
}

static int cmp_cat(const void *a, const void *b) {
    const category *x = a, *y = b;
    if (x->docs != y->docs) return x->docs > y->docs ? -1 : 1;
    return strcmp(x->name, y->name);
}

int data_audit_run(const data_audit_cfg *c, json_t **report, lmc_err *err) {
    *report = json_object();
    int rc = -1;
    double t0 = lmc_now();
    int nthreads = c->threads > 0 ? c->threads : omp_get_max_threads();
    data_reader *r = NULL;
    category *cats = NULL;
    size_t ncat = 0, catcap = 0;
    data_ht ht = {0};
    lmc_buf val = {0};
    const char **res = NULL;
    size_t rescap = 0;
    data_filter_scratch **fs = calloc((size_t)nthreads, sizeof *fs);
    data_filter_cfg cfg[NRS];
    int use[NRS], nuse = 0;
    for (int k = 0; k < NRS; k++) {
        cfg[k] = c->filter;
        cfg[k].rulesets = rs_bit[k];
        use[k] = (c->filter.rulesets & rs_bit[k]) != 0;
        nuse += use[k];
    }
    if (!fs) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    if (!nuse) { lmc_errf(err, LMC_EINVAL, "audit: no rule set"); goto done; }
    if (!c->by || !*c->by) { lmc_errf(err, LMC_EINVAL, "audit: --by FIELD is required"); goto done; }
    for (int t = 0; t < nthreads; t++)
        if (!(fs[t] = data_filter_scratch_new())) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    if (data_ht_reset(&ht, 64) < 0) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
    data_read_opts ro = c->read;
    ro.threads = nthreads;
    if (data_reader_open(&r, c->inputs, c->ninputs, &ro, err) < 0) goto done;
    uint64_t total = 0;
    for (;;) {
        data_doc *docs;
        long nd = data_reader_batch(r, 4096, (size_t)8 << 20, &docs, err);
        if (nd < 0) goto done;
        if (nd == 0) break;
        if ((size_t)nd * NRS > rescap) {
            rescap = (size_t)nd * NRS;
            const char **p = realloc(res, rescap * sizeof *p);
            if (!p) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
            res = p;
        }
#pragma omp parallel for schedule(dynamic, 16) num_threads(nthreads)
        for (long i = 0; i < nd; i++)
            for (int k = 0; k < NRS; k++)
                res[(size_t)i * NRS + (size_t)k] =
                    use[k] ? data_filter_doc(&cfg[k], docs[i].text, docs[i].text_len, fs[omp_get_thread_num()]) : NULL;
        for (long i = 0; i < nd; i++) {
            const data_doc *d = &docs[i];
            const char *name = "(missing)";
            size_t nl = 9;
            int found = 0;
            if (d->raw) {
                const char *msg;
                size_t col;
                if (data_json_line_field(d->raw, d->raw_len, c->by, &val, &found, &msg, &col) == 0 && found) {
                    name = val.data ? val.data : "";
                    nl = val.len;
                }
            } else {
                name = "(plain text)";
                nl = 12;
            }
            long ci = find_cat(&cats, &ncat, &catcap, &ht, name, nl, c->max_categories);
            if (ci < 0) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
            category *cat = &cats[ci];
            cat->docs++;
            total++;
            int any = 0;
            for (int k = 0; k < NRS; k++) {
                const char *why = res[(size_t)i * NRS + (size_t)k];
                if (!why) continue;
                cat->removed[k]++;
                count_reason(cat, why, 1);
                any = 1;
            }
            cat->removed[NRS] += any;
        }
    }
    /* all categories together first, then each, largest first */
    category all;
    memset(&all, 0, sizeof all);
    all.name = "(all)";
    for (size_t i = 0; i < ncat; i++) {
        all.docs += cats[i].docs;
        for (int k = 0; k <= NRS; k++) all.removed[k] += cats[i].removed[k];
        for (int q = 0; q < cats[i].nreasons; q++)
            count_reason(&all, cats[i].reasons[q].r, cats[i].reasons[q].n);
    }
    if (ncat > 1) qsort(cats, ncat, sizeof *cats, cmp_cat);
    json_t *rep = *report, *arr = json_array();
    for (size_t i = 0; i <= ncat; i++) {
        const category *cat = i == 0 ? &all : &cats[i - 1];
        json_t *o = json_object(), *fl = json_object(), *by = json_object();
        json_object_set_new(o, "category", json_string(cat->name));
        json_object_set_new(o, "documents", json_integer((json_int_t)cat->docs));
        for (int k = 0; k < NRS; k++)
            if (use[k]) json_object_set_new(fl, rs_name[k], rate_json(cat->removed[k], cat->docs));
        json_object_set_new(fl, "any", rate_json(cat->removed[NRS], cat->docs));
        for (int q = 0; q < cat->nreasons; q++) json_object_set_new(by, cat->reasons[q].r, json_integer((json_int_t)cat->reasons[q].n));
        json_object_set_new(o, "filters", fl);
        json_object_set_new(o, "removed_by_rule", by);
        if (i == 0) json_object_set_new(rep, "overall", o);
        else json_array_append_new(arr, o);
    }
    /* disparity per filter: the categories with the highest and lowest rate, and whether their intervals
     * are disjoint (a difference the counts support, not noise) */
    json_t *disp = json_object();
    for (int k = 0; k <= NRS; k++) {
        if (k < NRS && !use[k]) continue;
        size_t hi = 0, lo = 0;
        for (size_t i = 1; i < ncat; i++) {
            double ri = (double)cats[i].removed[k] / (double)cats[i].docs;
            if (ri > (double)cats[hi].removed[k] / (double)cats[hi].docs) hi = i;
            if (ri < (double)cats[lo].removed[k] / (double)cats[lo].docs) lo = i;
        }
        if (ncat < 2) break;
        double hl, hh, ll, lh;
        data_wilson(cats[hi].removed[k], cats[hi].docs, 1.959964, &hl, &hh);
        data_wilson(cats[lo].removed[k], cats[lo].docs, 1.959964, &ll, &lh);
        json_t *o = json_object();
        json_object_set_new(o, "highest", json_string(cats[hi].name));
        json_object_set_new(o, "highest_rate", json_real((double)cats[hi].removed[k] / (double)cats[hi].docs));
        json_object_set_new(o, "lowest", json_string(cats[lo].name));
        json_object_set_new(o, "lowest_rate", json_real((double)cats[lo].removed[k] / (double)cats[lo].docs));
        json_object_set_new(o, "intervals_disjoint", json_boolean(hl > lh));
        json_object_set_new(disp, k < NRS ? rs_name[k] : "any", o);
    }
    json_t *ins = json_array();
    for (size_t i = 0; i < c->ninputs; i++) json_array_append_new(ins, json_string(c->inputs[i]));
    json_object_set_new(rep, "inputs", ins);
    json_object_set_new(rep, "by", json_string(c->by));
    json_object_set_new(rep, "method",
                        json_string("each rule set evaluated on its own (would it alone remove the document?), 'any' is "
                                    "the whole chain; rates per category with Wilson score 95% intervals; "
                                    "documents without the field (or not a string) count as '(missing)'"));
    json_object_set_new(rep, "parameters", data_filter_cfg_json(&c->filter));
    json_object_set_new(rep, "documents_in", json_integer((json_int_t)total));
    json_object_set_new(rep, "skipped_input_lines", json_integer((json_int_t)data_reader_nskipped(r)));
    json_object_set_new(rep, "categories", arr);
    json_object_set_new(rep, "disparity", disp);
    json_object_set_new(rep, "seconds", json_real(lmc_now() - t0));
    rc = 0;
done:
    data_reader_close(r);
    for (size_t i = 0; i < ncat; i++) free((char *)cats[i].name);
    free(cats);
    data_ht_free(&ht);
    lmc_buf_free(&val);
    free(res);
    for (int t = 0; fs && t < nthreads; t++) data_filter_scratch_free(fs[t]);
    free(fs);
    return rc;
}
