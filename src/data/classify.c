/* fastText-style supervised classifier: training, prediction, model file (see classify.h). */
#include "data/classify.h"
#include "base/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = {'L', 'M', 'C', 'F', 'T', 0, 0, 1};
#define EOS "</s>"
#define MAX_DIM 4096
#define MAX_LABELS 65536
#define MAX_WORD 1024     /* longer vocabulary entries are rejected by the loader */

struct data_clf {
    int dim, word_ngrams;
    uint32_t bucket, nwords, nlabels;
    char **words, **labels;
    uint32_t *wlen;
    uint32_t *tab;        /* open addressing: word id + 1, 0 = empty */
    uint32_t tabsize;
    float *in, *out;      /* (nwords + bucket) x dim, nlabels x dim */
};

void data_clf_params_default(data_clf_params *p) {
    p->dim = 100;
    p->epoch = 5;
    p->lr = 0.1;
    p->word_ngrams = 2;
    p->min_count = 1;
    p->bucket = 2000000;
    p->lr_update_rate = 100;
    p->seed = 0;
}

uint32_t data_clf_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)(int32_t)(int8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0; }

/* Next word of s[*i..n): its range, or 0 at the end. */
static int next_word(const char *s, size_t n, size_t *i, size_t *ws, size_t *we) {
    while (*i < n && is_ws(s[*i])) (*i)++;
    if (*i >= n) return 0;
    *ws = *i;
    while (*i < n && !is_ws(s[*i])) (*i)++;
    *we = *i;
    return 1;
}

/* ---- word table ---- */

static int64_t tab_find(const data_clf *m, const char *w, size_t n, uint32_t h) {
    if (!m->tabsize) return -1;
    for (uint32_t k = h % m->tabsize;; k = (k + 1) % m->tabsize) {
        uint32_t e = m->tab[k];
        if (!e) return -(int64_t)k - 2;   /* free slot k */
        e--;
        if (m->wlen[e] == n && !memcmp(m->words[e], w, n)) return e;
    }
}

static int tab_build(data_clf *m, lmc_err *err) {
    m->tabsize = m->nwords < 8 ? 16 : (uint32_t)((uint64_t)m->nwords * 10 / 7 + 1);
    m->tab = calloc(m->tabsize, sizeof *m->tab);
    if (!m->tab) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory for the word table");
    for (uint32_t i = 0; i < m->nwords; i++) {
        int64_t k = tab_find(m, m->words[i], m->wlen[i], data_clf_hash(m->words[i], m->wlen[i]));
        if (k >= 0) return lmc_errf(err, LMC_EFORMAT, "classifier: word %u (\"%.40s\") appears twice", i, m->words[i]);
        m->tab[-k - 2] = i + 1;
    }
    return 0;
}

void data_clf_free(data_clf *m) {
    if (!m) return;
    for (uint32_t i = 0; m->words && i < m->nwords; i++) free(m->words[i]);
    for (uint32_t i = 0; m->labels && i < m->nlabels; i++) free(m->labels[i]);
    free(m->words);
    free(m->labels);
    free(m->wlen);
    free(m->tab);
    free(m->in);
    free(m->out);
    free(m);
}

int data_clf_nlabels(const data_clf *m) { return (int)m->nlabels; }
const char *data_clf_label(const data_clf *m, int i) { return i >= 0 && (uint32_t)i < m->nlabels ? m->labels[i] : NULL; }
int data_clf_dim(const data_clf *m) { return m->dim; }
uint32_t data_clf_nwords(const data_clf *m) { return m->nwords; }
int data_clf_label_index(const data_clf *m, const char *label) {
    for (uint32_t i = 0; i < m->nlabels; i++)
        if (!strcmp(m->labels[i], label)) return (int)i;
    return -1;
}

void data_clf_scratch_free(data_clf_scratch *s) {
    free(s->ids);
    free(s->hashes);
    free(s->hidden);
    memset(s, 0, sizeof *s);
}

/* The input ids of a text (fastText's getLine + addWordNgrams): in-vocab words, then word n-grams. */
static long line_ids(const data_clf *m, const char *t, size_t n, data_clf_scratch *s, lmc_err *err) {
    size_t nw = 0, nid = 0, i = 0, ws, we;
    for (;;) {
        int more = next_word(t, n, &i, &ws, &we);
        const char *w = more ? t + ws : EOS;
        size_t wl = more ? we - ws : 4;
        size_t need = (nw + 1) * (size_t)(m->word_ngrams > 1 ? m->word_ngrams : 1) + 1;
        if (need > s->cap) {
            size_t c = s->cap ? s->cap * 2 : 256;
            while (c < need) c *= 2;
            int32_t *a = realloc(s->ids, c * sizeof *a);
            if (a) s->ids = a;
            uint32_t *b = realloc(s->hashes, c * sizeof *b);
            if (b) s->hashes = b;
            if (!a || !b) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
            s->cap = c;
        }
        uint32_t h = data_clf_hash(w, wl);
        int64_t id = tab_find(m, w, wl, h);
        if (id >= 0) s->ids[nid++] = (int32_t)id;
        s->hashes[nw++] = h;
        if (!more) break;
    }
    for (size_t a = 0; a < nw; a++) {
        uint64_t h = (uint64_t)(int64_t)(int32_t)s->hashes[a];
        for (size_t b = a + 1; b < nw && b < a + (size_t)m->word_ngrams; b++) {
            h = h * 116049371u + (uint64_t)(int64_t)(int32_t)s->hashes[b];
            s->ids[nid++] = (int32_t)(m->nwords + (uint32_t)(h % m->bucket));
        }
    }
    return (long)nid;
}

static int ensure_hidden(data_clf_scratch *s, int d, lmc_err *err) {
    if (s->hidden_dim >= d) return 0;
    float *h = realloc(s->hidden, (size_t)d * sizeof *h);
    if (!h) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
    s->hidden = h;
    s->hidden_dim = d;
    return 0;
}

static void hidden_of(const data_clf *m, const int32_t *ids, long nid, float *hid) {
    int d = m->dim;
    memset(hid, 0, (size_t)d * sizeof *hid);
    for (long k = 0; k < nid; k++) {
        const float *r = m->in + (size_t)ids[k] * (size_t)d;
        for (int j = 0; j < d; j++) hid[j] += r[j];
    }
    float inv = 1.0f / (float)nid;
    for (int j = 0; j < d; j++) hid[j] *= inv;
}

static void softmax_out(const data_clf *m, const float *hid, float *p) {
    int d = m->dim;
    for (uint32_t i = 0; i < m->nlabels; i++) {
        const float *b = m->out + (size_t)i * (size_t)d;
        float z = 0;
        for (int j = 0; j < d; j++) z += b[j] * hid[j];
        p[i] = z;
    }
    float mx = p[0], z = 0;
    for (uint32_t i = 0; i < m->nlabels; i++) mx = p[i] > mx ? p[i] : mx;
    for (uint32_t i = 0; i < m->nlabels; i++) {
        p[i] = expf(p[i] - mx);
        z += p[i];
    }
    for (uint32_t i = 0; i < m->nlabels; i++) p[i] /= z;
}

int data_clf_predict(const data_clf *m, const char *text, size_t len, float *prob, data_clf_scratch *s, lmc_err *err) {
    long nid = line_ids(m, text, len, s, err);
    if (nid < 0) return -1;
    if (ensure_hidden(s, m->dim, err) < 0) return -1;
    if (nid == 0) {  /* nothing known: uniform (cannot happen once "</s>" is in the vocabulary) */
        for (uint32_t i = 0; i < m->nlabels; i++) prob[i] = 1.0f / (float)m->nlabels;
        return 0;
    }
    hidden_of(m, s->ids, nid, s->hidden);
    softmax_out(m, s->hidden, prob);
    return 0;
}

/* ---- training ---- */

typedef struct vocab_e { const char *s; uint32_t n, first; uint64_t count; } vocab_e;

static int by_count(const void *a, const void *b) {
    const vocab_e *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* A growable string -> count table used while counting (then sorted into the model). */
typedef struct counter { vocab_e *e; size_t n, cap; uint32_t *tab; size_t tabsize; } counter;

static int counter_add(counter *c, const char *s, uint32_t n, lmc_err *err) {
    if ((c->n + 1) * 10 > c->tabsize * 7) {
        size_t ts = c->tabsize ? c->tabsize * 2 : 1024;
        uint32_t *t = calloc(ts, sizeof *t);
        if (!t) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory counting words");
        for (size_t i = 0; i < c->n; i++) {
            size_t k = data_clf_hash(c->e[i].s, c->e[i].n) % ts;
            while (t[k]) k = (k + 1) % ts;
            t[k] = (uint32_t)i + 1;
        }
        free(c->tab);
        c->tab = t;
        c->tabsize = ts;
    }
    size_t k = data_clf_hash(s, n) % c->tabsize;
    for (; c->tab[k]; k = (k + 1) % c->tabsize) {
        vocab_e *e = &c->e[c->tab[k] - 1];
        if (e->n == n && !memcmp(e->s, s, n)) {
            e->count++;
            return 0;
        }
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        vocab_e *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory counting words");
        c->e = ne;
        c->cap = nc;
    }
    if (c->n >= UINT32_MAX - 1) return lmc_errf(err, LMC_EINVAL, "classifier: too many distinct words");
    c->e[c->n] = (vocab_e){s, n, (uint32_t)c->n, 1};
    c->tab[k] = (uint32_t)++c->n;
    return 0;
}

static char *dupn(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static data_clf *alloc_model(int dim, int ngr, uint32_t bucket, uint32_t nwords, uint32_t nlabels, lmc_err *err) {
    data_clf *m = calloc(1, sizeof *m);
    if (!m) { lmc_errf(err, LMC_ENOMEM, "classifier: out of memory"); return NULL; }
    m->dim = dim;
    m->word_ngrams = ngr;
    m->bucket = bucket;
    m->nwords = nwords;
    m->nlabels = nlabels;
    m->words = calloc(nwords ? nwords : 1, sizeof *m->words);
    m->wlen = calloc(nwords ? nwords : 1, sizeof *m->wlen);
    m->labels = calloc(nlabels, sizeof *m->labels);
    size_t rows = (size_t)nwords + bucket;
    m->in = malloc(rows * (size_t)dim * sizeof *m->in);
    m->out = calloc((size_t)nlabels * (size_t)dim, sizeof *m->out);
    if (!m->words || !m->wlen || !m->labels || !m->in || !m->out) {
        lmc_errf(err, LMC_ENOMEM, "classifier: out of memory for %zu x %d input rows", rows, dim);
        data_clf_free(m);
        return NULL;
    }
    return m;
}

int data_clf_train(const data_clf_params *p, const data_clf_example *ex, size_t n, data_clf **out, double *loss,
                   lmc_err *err) {
    *out = NULL;
    if (p->dim < 1 || p->dim > MAX_DIM) return lmc_errf(err, LMC_EINVAL, "classifier: dim must be 1..%d", MAX_DIM);
    if (p->epoch < 1 || p->word_ngrams < 1 || p->word_ngrams > 8 || p->bucket < 1 || p->min_count < 1 ||
        !(p->lr > 0) || p->lr_update_rate < 1)
        return lmc_errf(err, LMC_EINVAL, "classifier: epoch, min_count, bucket, lr, lr_update_rate must be > 0 and word_ngrams 1..8");
    if (!n) return lmc_errf(err, LMC_EINVAL, "classifier: no training examples");
    counter wc = {0}, lc = {0};
    uint64_t ntokens = 0;
    int rc = 0;
    for (size_t e = 0; e < n && !rc; e++) {
        size_t i = 0, ws, we;
        while (!rc && next_word(ex[e].text, ex[e].text_len, &i, &ws, &we)) {
            if (we - ws > UINT32_MAX / 2) { rc = lmc_errf(err, LMC_EINVAL, "classifier: word too long"); break; }
            rc = counter_add(&wc, ex[e].text + ws, (uint32_t)(we - ws), err);
            ntokens++;
        }
        if (!rc) rc = counter_add(&wc, EOS, 4, err);
        if (!rc) rc = counter_add(&lc, ex[e].label, (uint32_t)ex[e].label_len, err);
        ntokens += 2;  /* "</s>" and the label, as fastText counts them */
    }
    data_clf *m = NULL;
    size_t kept = 0;
    if (!rc && lc.n > MAX_LABELS) rc = lmc_errf(err, LMC_EINVAL, "classifier: more than %d labels", MAX_LABELS);
    if (!rc) {
        qsort(wc.e, wc.n, sizeof *wc.e, by_count);
        qsort(lc.e, lc.n, sizeof *lc.e, by_count);
        for (size_t i = 0; i < wc.n; i++) kept += wc.e[i].count >= (uint64_t)p->min_count;
        m = alloc_model(p->dim, p->word_ngrams, p->bucket, (uint32_t)kept, (uint32_t)lc.n, err);
        if (!m) rc = -1;
    }
    if (!rc) {
        for (size_t i = 0, k = 0; i < wc.n && !rc; i++) {
            if (wc.e[i].count < (uint64_t)p->min_count) continue;
            if (!(m->words[k] = dupn(wc.e[i].s, wc.e[i].n))) rc = lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
            m->wlen[k++] = wc.e[i].n;
        }
        for (size_t i = 0; i < lc.n && !rc; i++)
            if (!(m->labels[i] = dupn(lc.e[i].s, lc.e[i].n))) rc = lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
        if (!rc) rc = tab_build(m, err);
    }
    /* label id of every example (via the label counter's order) */
    uint32_t *lab = NULL;
    if (!rc && !(lab = malloc(n * sizeof *lab))) rc = lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
    for (size_t e = 0; e < n && !rc; e++) {
        uint32_t j = 0;
        while (j < m->nlabels && !(strlen(m->labels[j]) == ex[e].label_len && !memcmp(m->labels[j], ex[e].label, ex[e].label_len))) j++;
        lab[e] = j;
    }
    free(wc.e); free(wc.tab); free(lc.e); free(lc.tab);
    if (rc) {
        free(lab);
        data_clf_free(m);
        return rc;
    }
    /* input rows uniform in (-1/d, 1/d), output rows 0 */
    lmc_rng rng;
    lmc_rng_init(&rng, p->seed);
    size_t total = ((size_t)m->nwords + m->bucket) * (size_t)m->dim;
    float sc = 1.0f / (float)m->dim;
    for (size_t i = 0; i < total; i++) m->in[i] = (2.0f * lmc_rng_uniform(&rng) - 1.0f) * sc;

    data_clf_scratch s = {0};
    float *grad = malloc((size_t)m->dim * sizeof *grad), *prob = malloc(m->nlabels * sizeof *prob);
    if (!grad || !prob || ensure_hidden(&s, m->dim, err) < 0) {
        free(grad); free(prob); free(lab); data_clf_scratch_free(&s); data_clf_free(m);
        return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
    }
    const uint64_t goal = (uint64_t)p->epoch * ntokens;
    uint64_t token_count = 0, local = 0, nex = 0;
    double loss_sum = 0;
    int d = m->dim;
    for (size_t e = 0; token_count < goal; e = (e + 1) % n) {
        float lr = (float)(p->lr * (1.0 - (double)token_count / (double)goal));
        long nid = line_ids(m, ex[e].text, ex[e].text_len, &s, err);
        if (nid < 0) { rc = -1; break; }
        /* tokens of the line: its words, "</s>" and the label */
        size_t i = 0, ws, we;
        uint64_t nt = 2;
        while (next_word(ex[e].text, ex[e].text_len, &i, &ws, &we)) nt++;
        local += nt;
        if (nid > 0) {
            hidden_of(m, s.ids, nid, s.hidden);
            softmax_out(m, s.hidden, prob);
            memset(grad, 0, (size_t)d * sizeof *grad);
            for (uint32_t k = 0; k < m->nlabels; k++) {
                float alpha = lr * ((k == lab[e] ? 1.0f : 0.0f) - prob[k]);
                float *b = m->out + (size_t)k * (size_t)d;
                for (int j = 0; j < d; j++) grad[j] += alpha * b[j];
                for (int j = 0; j < d; j++) b[j] += alpha * s.hidden[j];
            }
            loss_sum += -log((double)prob[lab[e]] > 1e-30 ? (double)prob[lab[e]] : 1e-30);
            nex++;
            float inv = 1.0f / (float)nid;
            for (int j = 0; j < d; j++) grad[j] *= inv;
            for (long k = 0; k < nid; k++) {
                float *r = m->in + (size_t)s.ids[k] * (size_t)d;
                for (int j = 0; j < d; j++) r[j] += grad[j];
            }
        }
        if (local > (uint64_t)p->lr_update_rate) {
            token_count += local;
            local = 0;
        }
    }
    free(grad);
    free(prob);
    free(lab);
    data_clf_scratch_free(&s);
    if (rc) {
        data_clf_free(m);
        return rc;
    }
    if (loss) *loss = nex ? loss_sum / (double)nex : 0;
    *out = m;
    return 0;
}

/* ---- file ---- */

static int put_u32(lmc_buf *b, uint32_t v, lmc_err *err) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    return lmc_buf_append(b, x, 4, err);
}

static int put_floats(lmc_atomic *w, const float *f, size_t n, lmc_err *err) {
    unsigned char buf[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, &f[i], 4);
        buf[k++] = (unsigned char)v; buf[k++] = (unsigned char)(v >> 8);
        buf[k++] = (unsigned char)(v >> 16); buf[k++] = (unsigned char)(v >> 24);
        if (k == sizeof buf || i + 1 == n) {
            if (fwrite(buf, 1, k, w->fp) != k) return lmc_errf(err, LMC_EIO, "%s: write failed", w->path);
            k = 0;
        }
    }
    return 0;
}

int data_clf_save(const data_clf *m, const char *path, lmc_err *err) {
    lmc_buf h = {0};
    int rc = lmc_buf_append(&h, MAGIC, 8, err);
    uint32_t hdr[6] = {(uint32_t)m->dim, (uint32_t)m->word_ngrams, m->bucket, m->nwords, m->nlabels, 0};
    for (int i = 0; i < 6 && !rc; i++) rc = put_u32(&h, hdr[i], err);
    for (uint32_t i = 0; i < m->nlabels && !rc; i++) {
        uint32_t l = (uint32_t)strlen(m->labels[i]);
        rc = put_u32(&h, l, err);
        if (!rc) rc = lmc_buf_append(&h, m->labels[i], l, err);
    }
    for (uint32_t i = 0; i < m->nwords && !rc; i++) {
        rc = put_u32(&h, m->wlen[i], err);
        if (!rc) rc = lmc_buf_append(&h, m->words[i], m->wlen[i], err);
    }
    lmc_atomic w;
    if (!rc) rc = lmc_atomic_open(&w, path, err);
    if (rc) {
        lmc_buf_free(&h);
        return rc;
    }
    if (fwrite(h.data, 1, h.len, w.fp) != h.len) rc = lmc_errf(err, LMC_EIO, "%s: write failed", path);
    lmc_buf_free(&h);
    if (!rc) rc = put_floats(&w, m->in, ((size_t)m->nwords + m->bucket) * (size_t)m->dim, err);
    if (!rc) rc = put_floats(&w, m->out, (size_t)m->nlabels * (size_t)m->dim, err);
    if (rc) {
        lmc_atomic_abort(&w);
        return rc;
    }
    return lmc_atomic_commit(&w, err);
}

typedef struct rd { const unsigned char *p; size_t n, i; const char *name; } rd;

static int get_u32(rd *r, uint32_t *v, const char *what, lmc_err *err) {
    if (r->n - r->i < 4)
        return lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated, expected %s (4 bytes)", r->name, r->i, what);
    const unsigned char *q = r->p + r->i;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    r->i += 4;
    return 0;
}

static int get_str(rd *r, char **out, uint32_t *len, const char *what, uint32_t idx, lmc_err *err) {
    uint32_t l = 0;
    if (get_u32(r, &l, what, err) < 0) return -1;
    if (l == 0 || l > MAX_WORD)
        return lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: %s %u has length %u, expected 1..%d", r->name, r->i - 4,
                        what, idx, l, MAX_WORD);
    if (r->n - r->i < l)
        return lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated inside %s %u", r->name, r->i, what, idx);
    if (memchr(r->p + r->i, 0, l))
        return lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: %s %u contains a NUL byte", r->name, r->i, what, idx);
    if (!(*out = dupn((const char *)r->p + r->i, l))) return lmc_errf(err, LMC_ENOMEM, "classifier: out of memory");
    if (len) *len = l;
    r->i += l;
    return 0;
}

static void get_floats(rd *r, float *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const unsigned char *q = r->p + r->i + 4 * i;
        uint32_t v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        memcpy(&f[i], &v, 4);
    }
    r->i += 4 * n;
}

/* ---- fastText .bin (supervised, softmax, no subwords, not quantized; TECHNIQUES §23c) ---- */

#define FT_MAGIC 793712314
#define FT_MAX_WORD 65536

static int get_i32(rd *r, int32_t *v, const char *what, lmc_err *err) {
    uint32_t u = 0;
    if (get_u32(r, &u, what, err) < 0) return -1;
    memcpy(v, &u, 4);
    return 0;
}

static int get_i64(rd *r, int64_t *v, const char *what, lmc_err *err) {
    uint32_t lo = 0, hi = 0;
    if (get_u32(r, &lo, what, err) < 0 || get_u32(r, &hi, what, err) < 0) return -1;
    uint64_t u = (uint64_t)hi << 32 | lo;
    memcpy(v, &u, 8);
    return 0;
}

static int load_fasttext(rd *r, data_clf **out, lmc_err *err) {
    int32_t a[14];
    static const char *const names[14] = {"magic", "version", "dim", "ws", "epoch", "minCount", "neg", "wordNgrams",
                                          "loss", "model", "bucket", "minn", "maxn", "lrUpdateRate"};
    for (int i = 0; i < 14; i++)
        if (get_i32(r, &a[i], names[i], err) < 0) return -1;
    if (a[1] != 12) return lmc_errf(err, LMC_EFORMAT, "%s: fastText model version %d, expected 12", r->name, a[1]);
    if (a[9] != 3) return lmc_errf(err, LMC_EFORMAT, "%s: fastText model %d is not a supervised model (model 3)", r->name, a[9]);
    if (a[8] != 3)
        return lmc_errf(err, LMC_EFORMAT, "%s: fastText loss %d (%s) is not supported, only softmax (3)", r->name, a[8],
                        a[8] == 1 ? "hs" : a[8] == 2 ? "ns" : a[8] == 4 ? "ova" : "unknown");
    if (a[12] > 0) return lmc_errf(err, LMC_EFORMAT, "%s: subword n-grams (maxn %d) are not supported", r->name, a[12]);
    if (a[2] < 1 || a[2] > MAX_DIM) return lmc_errf(err, LMC_EFORMAT, "%s: dim %d, expected 1..%d", r->name, a[2], MAX_DIM);
    if (a[7] < 1 || a[7] > 8) return lmc_errf(err, LMC_EFORMAT, "%s: wordNgrams %d, expected 1..8", r->name, a[7]);
    if (a[10] < 1) return lmc_errf(err, LMC_EFORMAT, "%s: bucket %d, expected >= 1", r->name, a[10]);
    if (r->n - r->i < 8) return lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated, expected the double t", r->name, r->i);
    r->i += 8;
    int32_t size, nwords, nlabels;
    int64_t ntokens, prune;
    if (get_i32(r, &size, "dictionary size", err) < 0 || get_i32(r, &nwords, "nwords", err) < 0 ||
        get_i32(r, &nlabels, "nlabels", err) < 0 || get_i64(r, &ntokens, "ntokens", err) < 0 ||
        get_i64(r, &prune, "pruneidx_size", err) < 0)
        return -1;
    if (nwords < 0 || nlabels < 1 || nlabels > MAX_LABELS || (int64_t)size != (int64_t)nwords + nlabels)
        return lmc_errf(err, LMC_EFORMAT, "%s: dictionary of %d entries with %d words and %d labels", r->name, size, nwords, nlabels);
    if (prune > 0) return lmc_errf(err, LMC_EFORMAT, "%s: pruned (quantized) fastText models are not supported", r->name);
    /* each entry takes >= 10 bytes (a byte, NUL, count, type), the matrices 4 (nwords + bucket + nlabels) dim */
    uint64_t floats = ((uint64_t)nwords + (uint64_t)a[10] + (uint64_t)nlabels) * (uint64_t)a[2];
    if (10 * (uint64_t)size + 4 * floats + 34 > r->n - r->i)
        return lmc_errf(err, LMC_EFORMAT, "%s: %zu bytes, too few for %d dictionary entries and (%d + %d + %d) x %d weights",
                        r->name, r->n, size, nwords, a[10], nlabels, a[2]);
    data_clf *m = alloc_model(a[2], a[7], (uint32_t)a[10], (uint32_t)nwords, (uint32_t)nlabels, err);
    if (!m) return -1;
    int rc = 0;
    uint32_t nw = 0, nl = 0;
    for (int32_t e = 0; e < size && !rc; e++) {
        const unsigned char *p = r->p + r->i;
        const unsigned char *z = memchr(p, 0, r->n - r->i < FT_MAX_WORD + 1 ? r->n - r->i : FT_MAX_WORD + 1);
        if (!z || z == p) { rc = lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: dictionary entry %d: expected a non-empty NUL-terminated word", r->name, r->i, e); break; }
        size_t wl = (size_t)(z - p);
        r->i += wl + 1;
        if (r->n - r->i < 9) { rc = lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated in dictionary entry %d", r->name, r->i, e); break; }
        r->i += 8;   /* count */
        int type = r->p[r->i++];
        char *w = dupn((const char *)p, wl);
        if (!w) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
        for (size_t k = 0; k < wl && !rc; k++)
            if (is_ws(w[k])) rc = lmc_errf(err, LMC_EFORMAT, "%s: dictionary entry %d contains white space", r->name, e);
        if (!rc && type == 0 && nw < m->nwords) { m->words[nw] = w; m->wlen[nw++] = (uint32_t)wl; }
        else if (!rc && type == 1 && nl < m->nlabels) m->labels[nl++] = w;
        else {
            free(w);
            if (!rc) rc = lmc_errf(err, LMC_EFORMAT, "%s: dictionary entry %d: type %d, or more words/labels than the header says", r->name, e, type);
        }
    }
    for (uint32_t i = 0; i < nl && !rc; i++)
        for (uint32_t j = 0; j < i && !rc; j++)
            if (!strcmp(m->labels[i], m->labels[j])) rc = lmc_errf(err, LMC_EFORMAT, "%s: label \"%.40s\" appears twice", r->name, m->labels[i]);
    if (!rc) rc = tab_build(m, err);
    for (int k = 0; k < 2 && !rc; k++) {
        if (r->n - r->i < 17) { rc = lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated before a matrix", r->name, r->i); break; }
        if (r->p[r->i++]) { rc = lmc_errf(err, LMC_EFORMAT, "%s: quantized fastText matrices are not supported", r->name); break; }
        int64_t rows = 0, cols = 0;
        get_i64(r, &rows, "rows", err);
        get_i64(r, &cols, "cols", err);
        int64_t want = k ? (int64_t)m->nlabels : (int64_t)m->nwords + m->bucket;
        if (rows != want || cols != m->dim) {
            rc = lmc_errf(err, LMC_EFORMAT, "%s: %s matrix is %lld x %lld, expected %lld x %d", r->name, k ? "output" : "input",
                          (long long)rows, (long long)cols, (long long)want, m->dim);
            break;
        }
        size_t nf = (size_t)rows * (size_t)cols;
        if ((r->n - r->i) / 4 < nf) { rc = lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: truncated in the %s matrix", r->name, r->i, k ? "output" : "input"); break; }
        float *dst = k ? m->out : m->in;
        get_floats(r, dst, nf);
        for (size_t i = 0; i < nf && !rc; i++)
            if (!isfinite(dst[i])) rc = lmc_errf(err, LMC_EFORMAT, "%s: %s weight %zu is not finite", r->name, k ? "output" : "input", i);
    }
    if (!rc && r->i != r->n) rc = lmc_errf(err, LMC_EFORMAT, "%s: %zu bytes after the output matrix", r->name, r->n - r->i);
    if (rc) {
        data_clf_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static int load_mem(const void *buf, size_t len, const char *name, data_clf **out, lmc_err *err);

/* Every failure names the file: the table builders below the parser (a word given twice, memory) do
 * not know it, so their messages get it as a prefix here. */
int data_clf_load_mem(const void *buf, size_t len, const char *name, data_clf **out, lmc_err *err) {
    int rc = load_mem(buf, len, name, out, err);
    const char *nm = name ? name : "(model)";
    if (rc && err && !strstr(err->msg, nm)) lmc_err_wrap(err, "%s", nm);
    return rc;
}

static int load_mem(const void *buf, size_t len, const char *name, data_clf **out, lmc_err *err) {
    *out = NULL;
    rd r = {buf, len, 0, name ? name : "(model)"};
    if (len >= 4) {
        uint32_t mg = 0;
        rd probe = r;
        get_u32(&probe, &mg, "magic", err);
        if (mg == FT_MAGIC) return load_fasttext(&r, out, err);
    }
    if (len < 8 || memcmp(buf, MAGIC, 5) || r.p[5] || r.p[6])
        return lmc_errf(err, LMC_EFORMAT, "%s: not an lmc classifier model (expected magic \"LMCFT\")", r.name);
    if (r.p[7] != 1)
        return lmc_errf(err, LMC_EFORMAT, "%s: model format version %u, expected 1", r.name, (unsigned)r.p[7]);
    r.i = 8;
    uint32_t h[6];
    static const char *const what[6] = {"dim", "word_ngrams", "bucket", "nwords", "nlabels", "reserved"};
    for (int i = 0; i < 6; i++)
        if (get_u32(&r, &h[i], what[i], err) < 0) return -1;
    if (h[0] < 1 || h[0] > MAX_DIM) return lmc_errf(err, LMC_EFORMAT, "%s: offset 8: dim %u, expected 1..%d", r.name, h[0], MAX_DIM);
    if (h[1] < 1 || h[1] > 8) return lmc_errf(err, LMC_EFORMAT, "%s: offset 12: word_ngrams %u, expected 1..8", r.name, h[1]);
    if (h[2] < 1) return lmc_errf(err, LMC_EFORMAT, "%s: offset 16: bucket 0, expected >= 1", r.name);
    if (h[4] < 1 || h[4] > MAX_LABELS)
        return lmc_errf(err, LMC_EFORMAT, "%s: offset 24: nlabels %u, expected 1..%d", r.name, h[4], MAX_LABELS);
    if (h[5]) return lmc_errf(err, LMC_EFORMAT, "%s: offset 28: reserved field %u, expected 0", r.name, h[5]);
    /* every string takes >= 5 bytes and the matrices exactly 4 (nwords + bucket + nlabels) dim bytes:
     * check the sizes against the file before allocating anything */
    uint64_t floats = ((uint64_t)h[3] + h[2] + h[4]) * h[0];
    uint64_t minimum = 32 + 5 * ((uint64_t)h[3] + h[4]) + 4 * floats;
    if (minimum > len)
        return lmc_errf(err, LMC_EFORMAT, "%s: %zu bytes, but the header (dim %u, bucket %u, %u words, %u labels) needs at least %llu",
                        r.name, len, h[0], h[2], h[3], h[4], (unsigned long long)minimum);
    data_clf *m = alloc_model((int)h[0], (int)h[1], h[2], h[3], h[4], err);
    if (!m) return -1;
    int rc = 0;
    for (uint32_t i = 0; i < m->nlabels && !rc; i++) {
        rc = get_str(&r, &m->labels[i], NULL, "label", i, err);
        for (uint32_t j = 0; j < i && !rc; j++)
            if (!strcmp(m->labels[i], m->labels[j]))
                rc = lmc_errf(err, LMC_EFORMAT, "%s: label %u (\"%.40s\") appears twice", r.name, i, m->labels[i]);
    }
    for (uint32_t i = 0; i < m->nwords && !rc; i++) {
        rc = get_str(&r, &m->words[i], &m->wlen[i], "word", i, err);
        if (!rc)
            for (uint32_t k = 0; k < m->wlen[i]; k++)
                if (is_ws(m->words[i][k])) {
                    rc = lmc_errf(err, LMC_EFORMAT, "%s: word %u contains white space (a word never does)", r.name, i);
                    break;
                }
    }
    if (!rc && len - r.i != 4 * floats)
        rc = lmc_errf(err, LMC_EFORMAT, "%s: offset %zu: %zu bytes of weights left, expected %llu", r.name, r.i, len - r.i,
                      (unsigned long long)(4 * floats));
    if (!rc) rc = tab_build(m, err);
    if (!rc) {
        size_t nin = ((size_t)m->nwords + m->bucket) * (size_t)m->dim;
        get_floats(&r, m->in, nin);
        get_floats(&r, m->out, (size_t)m->nlabels * (size_t)m->dim);
        for (size_t i = 0; i < nin + (size_t)m->nlabels * (size_t)m->dim && !rc; i++) {
            float v = i < nin ? m->in[i] : m->out[i - nin];
            if (!isfinite(v)) rc = lmc_errf(err, LMC_EFORMAT, "%s: weight %zu is not finite", r.name, i);
        }
    }
    if (rc) {
        data_clf_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int data_clf_load(const char *path, data_clf **out, lmc_err *err) {
    char *buf;
    size_t len;
    if (lmc_read_file(path, &buf, &len, err) < 0) return -1;
    int rc = data_clf_load_mem(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- Nemotron-CC bucketing ---- */

static const double *g_sc;
static int by_score(const void *a, const void *b) {
    double x = g_sc[*(const size_t *)a], y = g_sc[*(const size_t *)b];
    if (x != y) return x < y ? -1 : 1;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return i < j ? -1 : i > j;
}

void data_weighted_percentiles(const double *score, const double *weight, size_t n, int nthr, double *thr,
                               size_t *idx) {
    for (size_t i = 0; i < n; i++) idx[i] = i;
    g_sc = score;   /* single-threaded callers only */
    qsort(idx, n, sizeof *idx, by_score);
    double total = 0;
    for (size_t i = 0; i < n; i++) total += weight[idx[i]];
    double cum = 0;
    size_t k = 0;
    for (int t = 0; t < nthr; t++) {
        double q = (double)(t + 1) / (double)(nthr + 1) * total;
        while (k < n) {
            if (cum + weight[idx[k]] >= q) break;
            cum += weight[idx[k]];
            k++;
        }
        thr[t] = n ? score[idx[k < n ? k : n - 1]] : 0;
    }
}

int data_digitize(double score, const double *thr, int nthr) {
    int b = 0;
    while (b < nthr && thr[b] <= score) b++;
    return b;
}
