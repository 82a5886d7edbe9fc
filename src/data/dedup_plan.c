/* Verified near-dedup: LSH buckets only propose candidates; a document is removed only when a kept
 * document is at least `threshold` similar to it (exact Jaccard of the shingle sets, or the signature
 * estimate). Greedy in input order: keep a document unless a verified candidate was kept. This is what
 * NeMo Curator's Jaccard check does, and unlike union-find over unchecked candidate pairs (datatrove), it
 * cannot chain A~B~C into one cluster that removes C for its similarity to B when C is far from A.
 *
 * Candidates of document i: the kept documents already seen in any of i's buckets. When a document is
 * removed, its partner joins its buckets too, so a later near copy that LSH paired only with the removed
 * copy is still compared with the kept original (verified like any other candidate). A kept document's
 * set is held in memory only until the last member of its buckets has been visited. */
#include "data/dedup_plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct held {
    uint32_t expiry;   /* last document that can compare with this one */
    data_dedup_item it;
} held;

typedef struct heap_ent { uint32_t expiry, doc; } heap_ent;

struct data_dedup_plan {
    size_t n;
    const data_minhash *mh;
    double threshold;
    int verify;
    uint32_t *rep;       /* representative: the first document with the same exact or simplified-text key */
    uint8_t *rep_exact;  /* ... and it has the same exact key (else: equal after simplify_text, J = 1) */
    uint32_t *boff;      /* n + 1 offsets into bid: the buckets of each document */
    uint32_t *bid;
    uint32_t *last;      /* per document: the last member of any of its buckets (NONE: no buckets) */
    uint32_t *blast;     /* per bucket: its last member */
    size_t nbuckets, nmember;
    uint32_t *khead;     /* per bucket: list of kept documents (into kl_*) */
    uint32_t *kl_doc, *kl_next;
    size_t nkl, kl_cap;
    uint32_t *partner;   /* decisions */
    float *sim;
    held **hold;         /* per document: its item while later documents may compare with it */
    heap_ent *heap;      /* min-heap of expiries, for freeing held items */
    size_t nheap, heap_cap;
    size_t held_bytes, held_peak;
    uint32_t *cand;      /* scratch: candidates of the current document */
    size_t cand_cap;
    /* counts */
    uint64_t compared, verified, rejected_pairs, removed_near, removed_exact;
    /* both: the estimate against the exact Jaccard over every compared pair */
    double err_sum, err_max;
    uint64_t disagree;
};

static int cmp_edge(const void *x, const void *y) {
    const data_dedup_edge *a = x, *b = y;
    if (a->tag != b->tag) return a->tag < b->tag ? -1 : 1;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

static void *zalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

int data_dedup_plan_new(data_dedup_plan **pp, size_t n, data_dedup_edge *e, size_t ne, const data_minhash *mh,
                        double threshold, int verify, lmc_err *err) {
    *pp = NULL;
    if (n >= NONE) return lmc_errf(err, LMC_EINVAL, "dedup: more than 2^32 - 1 documents");
    data_dedup_plan *p = calloc(1, sizeof *p);
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup plan)");
    p->n = n;
    p->mh = mh;
    p->threshold = threshold;
    p->verify = verify;
    p->rep = zalloc(n, sizeof *p->rep);
    p->rep_exact = zalloc(n, 1);
    p->boff = zalloc(n + 1, sizeof *p->boff);
    p->last = zalloc(n, sizeof *p->last);
    p->partner = zalloc(n, sizeof *p->partner);
    p->sim = zalloc(n, sizeof *p->sim);
    p->hold = zalloc(n, sizeof *p->hold);
    if (!p->rep || !p->rep_exact || !p->boff || !p->last || !p->partner || !p->sim || !p->hold) goto oom;
    for (size_t i = 0; i < n; i++) {
        p->rep[i] = (uint32_t)i;
        p->partner[i] = (uint32_t)i;
        p->last[i] = NONE;
    }
    if (ne > 1) qsort(e, ne, sizeof *e, cmp_edge);
    uint32_t simp = (uint32_t)mh->cfg.bands + 1;  /* tag of the simplified-text key */
    for (size_t i = 0; i < ne; i++) {
        if (e[i].a >= n || e[i].b >= n || e[i].b <= e[i].a)
            return data_dedup_plan_free(p), lmc_errf(err, LMC_EINVAL, "dedup: bad edge %u-%u", e[i].a, e[i].b);
        /* the simplified-text run contains the exact run, so its first document is never later */
        uint32_t b = e[i].b;
        if (e[i].tag == 0 || e[i].tag == simp) {
            if (e[i].a < p->rep[b]) { p->rep[b] = e[i].a; p->rep_exact[b] = e[i].tag == 0; }
            else if (e[i].a == p->rep[b] && e[i].tag == 0) p->rep_exact[b] = 1;
        }
    }
    /* buckets: runs of band edges with the same (tag, a); members that are exact copies of an earlier
     * document leave (they have the same shingles as their representative, which is a member itself).
     * Two sweeps: count memberships, then fill. */
    for (int sweep = 0; sweep < 2; sweep++) {
        size_t nb = 0;
        for (size_t i = 0; i < ne;) {
            if (e[i].tag == 0 || e[i].tag == simp) { i++; continue; }
            size_t j = i;
            while (j < ne && e[j].tag == e[i].tag && e[j].a == e[i].a) j++;
            /* members: e[i].a, then e[i..j).b (ascending) */
            size_t live = p->rep[e[i].a] == e[i].a;
            uint32_t lastm = e[i].a;
            for (size_t k = i; k < j; k++)
                if (p->rep[e[k].b] == e[k].b) { live++; lastm = e[k].b; }
            if (live >= 2) {
                if (sweep == 0) {
                    if (p->rep[e[i].a] == e[i].a) p->boff[e[i].a + 1]++;
                    for (size_t k = i; k < j; k++)
                        if (p->rep[e[k].b] == e[k].b) p->boff[e[k].b + 1]++;
                } else {
                    p->blast[nb] = lastm;
                    for (size_t k = i; k <= j; k++) {  /* k == j stands for e[i].a */
                        uint32_t m = k == j ? e[i].a : e[k].b;
                        if (p->rep[m] != m) continue;
                        p->bid[p->boff[m] + p->last[m]++] = (uint32_t)nb;  /* last[] counts the fill for now */
                    }
                }
                nb++;
            }
            i = j;
        }
        if (sweep == 0) {
            uint64_t total = 0;
            for (size_t d = 0; d < n; d++) total += p->boff[d + 1];
            if (total >= NONE || nb >= NONE) {
                data_dedup_plan_free(p);
                return lmc_errf(err, LMC_EINVAL, "dedup: %llu bucket memberships, more than 2^32 - 1 (split the corpus)",
                                (unsigned long long)total);
            }
            for (size_t d = 0; d < n; d++) p->boff[d + 1] += p->boff[d];
            p->nbuckets = nb;
            p->nmember = p->boff[n];
            p->bid = zalloc(p->nmember, sizeof *p->bid);
            p->blast = zalloc(nb, sizeof *p->blast);
            p->khead = zalloc(nb, sizeof *p->khead);
            if (!p->bid || !p->blast || !p->khead) goto oom;
            for (size_t b = 0; b < nb; b++) p->khead[b] = NONE;
            for (size_t d = 0; d < n; d++) p->last[d] = 0;
        }
    }
    for (size_t d = 0; d < n; d++) {
        uint32_t l = NONE;
        for (uint32_t k = p->boff[d]; k < p->boff[d + 1]; k++) {
            uint32_t bl = p->blast[p->bid[k]];
            if (l == NONE || bl > l) l = bl;
        }
        p->last[d] = l;
    }
    *pp = p;
    return 0;
oom:
    data_dedup_plan_free(p);
    return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup plan)");
}

int data_dedup_plan_needs(const data_dedup_plan *p, uint32_t i) {
    return p->rep[i] == i && p->boff[i + 1] > p->boff[i];
}

int data_dedup_item_compute(const data_dedup_plan *p, const char *text, size_t len, data_dedup_item *it,
                            lmc_buf *tmp, lmc_err *err) {
    memset(it, 0, sizeof *it);
    if (p->verify != DATA_VERIFY_SIGNATURE) {
        long k = data_minhash_shingle_set(p->mh, text, len, &it->set, tmp, err);
        if (k < 0) return -1;
        it->nset = (size_t)k;
    }
    if (p->verify != DATA_VERIFY_JACCARD) {
        size_t k = (size_t)p->mh->cfg.bands * (size_t)p->mh->cfg.rows;
        it->sig = malloc(k * sizeof *it->sig);
        if (!it->sig) { data_dedup_item_free(it); return lmc_errf(err, LMC_ENOMEM, "out of memory (signature)"); }
        if (data_minhash_signature(p->mh, text, len, it->sig, tmp, err) < 0) { data_dedup_item_free(it); return -1; }
    }
    return 0;
}

void data_dedup_item_free(data_dedup_item *it) {
    if (!it) return;
    free(it->set);
    free(it->sig);
    it->set = it->sig = NULL;
    it->nset = 0;
}

static size_t item_bytes(const data_dedup_plan *p, const data_dedup_item *it) {
    return sizeof(held) + it->nset * sizeof(uint64_t) +
           (it->sig ? (size_t)p->mh->cfg.bands * (size_t)p->mh->cfg.rows * sizeof(uint64_t) : 0);
}

/* ---- held items and their expiry heap ---- */

static int heap_push(data_dedup_plan *p, uint32_t expiry, uint32_t doc) {
    if (p->nheap == p->heap_cap) {
        size_t nc = p->heap_cap ? p->heap_cap * 2 : 256;
        heap_ent *h = realloc(p->heap, nc * sizeof *h);
        if (!h) return -1;
        p->heap = h;
        p->heap_cap = nc;
    }
    size_t i = p->nheap++;
    while (i > 0 && p->heap[(i - 1) / 2].expiry > expiry) {
        p->heap[i] = p->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->heap[i] = (heap_ent){expiry, doc};
    return 0;
}

static heap_ent heap_pop(data_dedup_plan *p) {
    heap_ent top = p->heap[0], x = p->heap[--p->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= p->nheap) break;
        if (c + 1 < p->nheap && p->heap[c + 1].expiry < p->heap[c].expiry) c++;
        if (p->heap[c].expiry >= x.expiry) break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (p->nheap) p->heap[i] = x;
    return top;
}

static void release(data_dedup_plan *p, uint32_t d) {
    held *h = p->hold[d];
    if (!h) return;
    p->held_bytes -= item_bytes(p, &h->it);
    data_dedup_item_free(&h->it);
    free(h);
    p->hold[d] = NULL;
}

/* Free what no document from i on can compare with. */
static void expire(data_dedup_plan *p, uint32_t i) {
    while (p->nheap && p->heap[0].expiry < i) {
        heap_ent t = heap_pop(p);
        if (p->hold[t.doc] && p->hold[t.doc]->expiry == t.expiry) release(p, t.doc);
    }
}

/* Make d (kept) a candidate in the buckets of document i, held until i's last bucket-mate. */
static int join_buckets(data_dedup_plan *p, uint32_t d, uint32_t i) {
    for (uint32_t k = p->boff[i]; k < p->boff[i + 1]; k++) {
        uint32_t b = p->bid[k];
        int there = 0;
        for (uint32_t x = p->khead[b]; x != NONE && !there; x = p->kl_next[x]) there = p->kl_doc[x] == d;
        if (there) continue;
        if (p->nkl >= NONE - 1) return -1;  /* uint32 list links */
        if (p->nkl == p->kl_cap) {
            size_t nc = p->kl_cap ? p->kl_cap * 2 : 1024;
            uint32_t *a = realloc(p->kl_doc, nc * sizeof *a);
            if (!a) return -1;
            p->kl_doc = a;
            uint32_t *b2 = realloc(p->kl_next, nc * sizeof *b2);
            if (!b2) return -1;
            p->kl_next = b2;
            p->kl_cap = nc;
        }
        p->kl_doc[p->nkl] = d;
        p->kl_next[p->nkl] = p->khead[b];
        p->khead[b] = (uint32_t)p->nkl++;
    }
    held *h = p->hold[d];
    if (h && p->last[i] != NONE && p->last[i] > h->expiry) {
        h->expiry = p->last[i];
        if (heap_push(p, h->expiry, d) < 0) return -1;
    }
    return 0;
}

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

int data_dedup_plan_visit(data_dedup_plan *p, uint32_t i, data_dedup_item *it, lmc_err *err) {
    uint32_t r = p->rep[i];
    if (r != i) {  /* a copy: removed, with the partner (and similarity) of its representative */
        p->partner[i] = p->partner[r];
        p->sim[i] = p->partner[r] == r ? 1.0f : p->sim[r];
        if (p->partner[r] == r && p->rep_exact[i]) p->removed_exact++;
        else p->removed_near++;
        data_dedup_item_free(it);
        return 0;
    }
    if (!data_dedup_plan_needs(p, i)) { data_dedup_item_free(it); return 0; }
    if (!it) return lmc_errf(err, LMC_EINVAL, "dedup: document %u was not prepared for verification", i);
    expire(p, i);
    /* candidates: distinct kept documents in i's buckets (all earlier than i) */
    size_t nc = 0;
    for (uint32_t k = p->boff[i]; k < p->boff[i + 1]; k++)
        for (uint32_t x = p->khead[p->bid[k]]; x != NONE; x = p->kl_next[x]) {
            if (nc == p->cand_cap) {
                size_t cap = p->cand_cap ? p->cand_cap * 2 : 64;
                uint32_t *c = realloc(p->cand, cap * sizeof *c);
                if (!c) { data_dedup_item_free(it); return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup)"); }
                p->cand = c;
                p->cand_cap = cap;
            }
            p->cand[nc++] = p->kl_doc[x];
        }
    if (nc > 1) qsort(p->cand, nc, sizeof *p->cand, cmp_u32);
    uint32_t best = NONE;
    double best_sim = -1;
    for (size_t k = 0; k < nc; k++) {
        if (k && p->cand[k] == p->cand[k - 1]) continue;
        const held *h = p->hold[p->cand[k]];
        if (!h) { data_dedup_item_free(it); return lmc_errf(err, LMC_EINVAL, "dedup: candidate %u expired", p->cand[k]); }
        double j = -1, est = -1;
        if (p->verify != DATA_VERIFY_SIGNATURE) j = data_jaccard_sorted(h->it.set, h->it.nset, it->set, it->nset);
        if (p->verify != DATA_VERIFY_JACCARD) est = data_minhash_estimate(p->mh, h->it.sig, it->sig);
        if (p->verify == DATA_VERIFY_BOTH) {
            double d = est > j ? est - j : j - est;
            p->err_sum += d;
            if (d > p->err_max) p->err_max = d;
            p->disagree += (j >= p->threshold) != (est >= p->threshold);
        }
        double s = p->verify == DATA_VERIFY_SIGNATURE ? est : j;
        p->compared++;
        if (s >= p->threshold) p->verified++;
        else p->rejected_pairs++;
        if (s > best_sim) {  /* ascending order: ties go to the first document */
            best_sim = s;
            best = p->cand[k];
        }
    }
    if (best != NONE && best_sim >= p->threshold) {
        p->partner[i] = best;
        p->sim[i] = (float)best_sim;
        p->removed_near++;
        data_dedup_item_free(it);
        if (join_buckets(p, best, i) < 0) return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup)");
        return 0;
    }
    /* kept: a candidate for the rest of its buckets */
    if (p->last[i] > i) {
        held *h = malloc(sizeof *h);
        if (!h) { data_dedup_item_free(it); return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup)"); }
        h->expiry = p->last[i];
        h->it = *it;
        memset(it, 0, sizeof *it);
        p->hold[i] = h;
        p->held_bytes += item_bytes(p, &h->it);
        if (p->held_bytes > p->held_peak) p->held_peak = p->held_bytes;
        if (heap_push(p, h->expiry, i) < 0 || join_buckets(p, i, i) < 0)
            return lmc_errf(err, LMC_ENOMEM, "out of memory (dedup)");
    } else {
        data_dedup_item_free(it);
    }
    return 0;
}

uint32_t data_dedup_partner(const data_dedup_plan *p, uint32_t i) { return p->partner[i]; }
double data_dedup_similarity(const data_dedup_plan *p, uint32_t i) { return p->partner[i] == i ? 1.0 : p->sim[i]; }
int data_dedup_is_exact(const data_dedup_plan *p, uint32_t i) {
    return p->rep[i] != i && p->rep_exact[i] && p->partner[i] == p->rep[i];
}

size_t data_dedup_plan_bytes(const data_dedup_plan *p) {
    return p->n * (4 * 4 + 1 + sizeof(float) + sizeof(held *)) + p->nmember * 4 + p->nbuckets * 8 + p->kl_cap * 8 +
           p->heap_cap * sizeof(heap_ent) + p->held_peak;
}

json_t *data_dedup_plan_json(const data_dedup_plan *p) {
    json_t *o = json_object();
    static const char *const names[] = {"jaccard", "signature", "both"};
    json_object_set_new(o, "verify", json_string(names[p->verify]));
    json_object_set_new(o, "threshold", json_real(p->threshold));
    json_object_set_new(o, "buckets_with_candidates", json_integer((json_int_t)p->nbuckets));
    json_object_set_new(o, "pairs_compared", json_integer((json_int_t)p->compared));
    json_object_set_new(o, "pairs_at_or_above_threshold", json_integer((json_int_t)p->verified));
    json_object_set_new(o, "pairs_below_threshold", json_integer((json_int_t)p->rejected_pairs));
    json_object_set_new(o, "held_sets_peak_bytes", json_integer((json_int_t)p->held_peak));
    json_object_set_new(o, "plan_bytes", json_integer((json_int_t)data_dedup_plan_bytes(p)));
    if (p->verify != DATA_VERIFY_JACCARD) {
        size_t k = (size_t)p->mh->cfg.bands * (size_t)p->mh->cfg.rows;
        json_object_set_new(o, "signature_permutations", json_integer((json_int_t)k));
        json_object_set_new(o, "signature_std_error_at_threshold",
                            json_real(sqrt(p->threshold * (1 - p->threshold) / (double)k)));
    }
    if (p->verify == DATA_VERIFY_BOTH) {
        json_object_set_new(o, "estimate_mean_abs_error", json_real(p->compared ? p->err_sum / (double)p->compared : 0));
        json_object_set_new(o, "estimate_max_abs_error", json_real(p->err_max));
        json_object_set_new(o, "estimate_decisions_differing", json_integer((json_int_t)p->disagree));
    }
    return o;
}

void data_dedup_plan_free(data_dedup_plan *p) {
    if (!p) return;
    for (size_t i = 0; p->hold && i < p->n; i++) release(p, (uint32_t)i);
    free(p->rep);
    free(p->rep_exact);
    free(p->boff);
    free(p->bid);
    free(p->last);
    free(p->blast);
    free(p->khead);
    free(p->kl_doc);
    free(p->kl_next);
    free(p->partner);
    free(p->sim);
    free(p->hold);
    free(p->heap);
    free(p->cand);
    free(p);
}
