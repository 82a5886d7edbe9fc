/* Evaluation-set n-gram index, GPT-3 style decontamination and the train-test overlap report.
 *
 * Words are normalized as in GPT-3's 13-gram method (EleutherAI janitor): lowercased, punctuation
 * ignored (it separates words), split on white space; lmc also strips Latin diacritics. Each word is
 * hashed to 64 bits on the fly with its byte range in the original text kept, so a match maps back to
 * the exact characters to cut. An n-gram key is a polynomial hash of its word hashes. */
#include "data/data.h"
#include "data/hashtab.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct nword { uint32_t start, end; uint64_t h; } nword;

typedef struct entry { uint32_t set, example, next; } entry;

struct data_ngram_index {
    int n, min_n;
    uint64_t lengths;          /* bit L-1 set: some key is an L-gram */
    uint64_t *keys;            /* all added (key, entry) in order */
    entry *entries;
    size_t nentries, cap;
    data_ht ht;                /* key -> head entry (slot.first) */
    uint32_t nsets;
    uint32_t *set_nexamples, *set_too_short;
};

/* Normalized words of s[0..n) with byte ranges. */
static int norm_words(const char *s, size_t n, nword **w, size_t *nw, size_t *cap) {
    *nw = 0;
    size_t i = 0;
    uint64_t h = 0;
    int in = 0;
    uint32_t st = 0;
    while (i <= n) {
        size_t k = i;
        uint32_t c = i < n ? data_utf8_next(s, n, &k) : ' ';
        c = data_lower(c);
        int sep = data_is_space(c) || data_is_punct(c);
        if (sep) {
            if (in) {
                if (*nw == *cap) {
                    size_t nc = *cap ? *cap * 2 : 256;
                    nword *p = realloc(*w, nc * sizeof *p);
                    if (!p) return -1;
                    *w = p;
                    *cap = nc;
                }
                (*w)[*nw].start = st;
                (*w)[*nw].end = (uint32_t)i;
                (*w)[*nw].h = data_mix64(h);
                (*nw)++;
                in = 0;
            }
        } else if (!(c >= 0x300 && c <= 0x36F)) {
            if (!in) { in = 1; st = (uint32_t)i; h = 0xcbf29ce484222325ULL; }
            if (c >= 0xC0 && c <= 0x17F) {
                /* fold the common Latin diacritics (same as simplify_text) */
                static const char base[] = "aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";
                if (c <= 0xFF && base[c - 0xC0]) c = (uint32_t)(unsigned char)base[c - 0xC0];
            }
            h = (h ^ c) * 0x100000001b3ULL;
        }
        if (i >= n) break;
        i = k;
    }
    return 0;
}

#define POLY 0x9E3779B97F4A7C15ULL

static uint64_t key_of(const nword *w, size_t i, size_t len) {
    uint64_t h = 0;
    for (size_t k = 0; k < len; k++) h = h * POLY + w[i + k].h;
    return data_mix64(h ^ (uint64_t)len);
}

data_ngram_index *data_ngram_index_new(int n, int min_n, lmc_err *err) {
    if (n < 1 || n > 64 || min_n < 1 || min_n > n) {
        lmc_errf(err, LMC_EINVAL, "--ngram must be 1..64 and --min-ngram 1..ngram (got %d, %d)", n, min_n);
        return NULL;
    }
    data_ngram_index *ix = calloc(1, sizeof *ix);
    if (!ix) { lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
    ix->n = n;
    ix->min_n = min_n;
    return ix;
}

void data_ngram_index_free(data_ngram_index *ix) {
    if (!ix) return;
    free(ix->keys);
    free(ix->entries);
    data_ht_free(&ix->ht);
    free(ix->set_nexamples);
    free(ix->set_too_short);
    free(ix);
}

size_t data_ngram_index_size(const data_ngram_index *ix) { return ix->ht.n; }
size_t data_ngram_index_memory(const data_ngram_index *ix) {
    return ix->cap * (sizeof(uint64_t) + sizeof(entry)) + ix->ht.cap * sizeof(data_ht_slot);
}

static int push_entry(data_ngram_index *ix, uint64_t key, uint32_t set, uint32_t ex) {
    if (ix->nentries == ix->cap) {
        size_t nc = ix->cap ? ix->cap * 2 : 4096;
        uint64_t *k = realloc(ix->keys, nc * sizeof *k);
        if (!k) return -1;
        ix->keys = k;
        entry *e = realloc(ix->entries, nc * sizeof *e);
        if (!e) return -1;
        ix->entries = e;
        ix->cap = nc;
    }
    ix->keys[ix->nentries] = key;
    ix->entries[ix->nentries] = (entry){set, ex, UINT32_MAX};
    ix->nentries++;
    return 0;
}

int data_ngram_index_add(data_ngram_index *ix, const data_eval_set *set, lmc_err *err) {
    uint32_t sid = ix->nsets;
    uint32_t *a = realloc(ix->set_nexamples, (sid + 1) * sizeof *a);
    if (!a) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    ix->set_nexamples = a;
    uint32_t *b = realloc(ix->set_too_short, (sid + 1) * sizeof *b);
    if (!b) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    ix->set_too_short = b;
    ix->set_nexamples[sid] = (uint32_t)set->nexamples;
    ix->set_too_short[sid] = 0;
    ix->nsets++;
    nword *w = NULL;
    size_t nw = 0, cap = 0;
    for (size_t e = 0; e < set->nexamples; e++) {
        const char *t = set->examples[e];
        int any = 0;
        /* each line of an example (the two sentences of a pair) is indexed on its own */
        while (*t) {
            const char *nl = strchr(t, '\n');
            size_t len = nl ? (size_t)(nl - t) : strlen(t);
            if (norm_words(t, len, &w, &nw, &cap) < 0) { free(w); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
            if (nw >= (size_t)ix->n) {
                for (size_t i = 0; i + (size_t)ix->n <= nw; i++)
                    if (push_entry(ix, key_of(w, i, (size_t)ix->n), sid, (uint32_t)e) < 0) goto oom;
                ix->lengths |= 1ULL << (ix->n - 1);
                any = 1;
            } else if (nw >= (size_t)ix->min_n) {
                if (push_entry(ix, key_of(w, 0, nw), sid, (uint32_t)e) < 0) goto oom;
                ix->lengths |= 1ULL << (nw - 1);
                any = 1;
            }
            t += len;
            if (*t == '\n') t++;
        }
        if (!any) ix->set_too_short[sid]++;
    }
    free(w);
    /* rebuild the lookup table; chains are in insertion order */
    if (data_ht_reset(&ix->ht, ix->nentries) < 0) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    uint32_t *tail = malloc((ix->nentries ? ix->nentries : 1) * sizeof *tail);
    if (!tail) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (size_t i = 0; i < ix->nentries; i++) {
        ix->entries[i].next = UINT32_MAX;
        data_ht_slot *s = data_ht_add(&ix->ht, ix->keys[i], (uint32_t)i);
        if (s->count == 1) tail[i] = (uint32_t)i;
        else {
            ix->entries[tail[s->first]].next = (uint32_t)i;
            tail[s->first] = (uint32_t)i;
        }
    }
    free(tail);
    return 0;
oom:
    free(w);
    return lmc_errf(err, LMC_ENOMEM, "out of memory");
}

void data_nwords_free(data_nwords *s) {
    free(s->w);
    s->w = NULL;
    s->cap = 0;
}

static const data_ht_slot *lookup(const data_ngram_index *ix, uint64_t key) { return data_ht_find(&ix->ht, key); }

int data_ngram_scan(const data_ngram_index *ix, const char *text, size_t len, data_match **m, size_t *nm,
                    size_t *cap, data_nwords *tmp, lmc_err *err) {
    *nm = 0;
    nword *w = tmp->w;
    size_t wcap = tmp->cap, nw;
    int rc = norm_words(text, len, &w, &nw, &wcap);
    tmp->w = w;
    tmp->cap = wcap;
    if (rc < 0) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (int L = 1; L <= 64; L++) {
        if (!(ix->lengths >> (L - 1) & 1) || nw < (size_t)L) continue;
        /* rolling polynomial hash over word hashes */
        uint64_t pw = 1;
        for (int k = 1; k < L; k++) pw *= POLY;
        uint64_t h = 0;
        for (size_t i = 0; i < nw; i++) {
            if (i >= (size_t)L) h -= w[i - (size_t)L].h * pw;
            h = h * POLY + w[i].h;
            if (i + 1 < (size_t)L) continue;
            const data_ht_slot *s = lookup(ix, data_mix64(h ^ (uint64_t)L));
            if (!s) continue;
            if (*nm == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                data_match *p = realloc(*m, nc * sizeof *p);
                if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
                *m = p;
                *cap = nc;
            }
            size_t first = i + 1 - (size_t)L;
            (*m)[*nm].start = w[first].start;
            (*m)[*nm].end = w[i].end;
            (*m)[*nm].entry = s->first;
            (*nm)++;
        }
    }
    return 0;
}

/* Move `k` code points left / right from byte position p. */
static size_t back_chars(const char *s, size_t p, long k) {
    while (k-- > 0 && p > 0) {
        p--;
        while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
    }
    return p;
}
static size_t fwd_chars(const char *s, size_t n, size_t p, long k) {
    while (k-- > 0 && p < n) {
        p++;
        while (p < n && ((unsigned char)s[p] & 0xC0) == 0x80) p++;
    }
    return p;
}

static int cmp_match(const void *a, const void *b) {
    const data_match *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

long data_decont_pieces(const data_decont_cfg *c, const char *text, size_t len, const data_match *m, size_t nm,
                        size_t **starts, size_t **ends, size_t *cap, size_t *npieces_before) {
    data_match *ms = malloc((nm ? nm : 1) * sizeof *ms);
    if (!ms) return -2;
    memcpy(ms, m, nm * sizeof *ms);
    qsort(ms, nm, sizeof *ms, cmp_match);
    size_t np = 0, before = 0, pos = 0;
    size_t i = 0;
    for (;;) {
        size_t cut_a = len, cut_b = len;
        if (i < nm) {
            cut_a = back_chars(text, ms[i].start, c->window);
            cut_b = fwd_chars(text, len, ms[i].end, c->window);
            i++;
            /* merge every following match whose window overlaps */
            while (i < nm && back_chars(text, ms[i].start, c->window) <= cut_b) {
                size_t e = fwd_chars(text, len, ms[i].end, c->window);
                if (e > cut_b) cut_b = e;
                i++;
            }
            if (cut_a < pos) cut_a = pos;
        }
        if (cut_a > pos) {
            before++;
            if (data_utf8_count(text + pos, cut_a - pos) >= (size_t)c->min_slice) {
                if (np == *cap) {
                    size_t nc = *cap ? *cap * 2 : 16;
                    size_t *s2 = realloc(*starts, nc * sizeof *s2);
                    if (!s2) { free(ms); return -2; }
                    *starts = s2;
                    size_t *e2 = realloc(*ends, nc * sizeof *e2);
                    if (!e2) { free(ms); return -2; }
                    *ends = e2;
                    *cap = nc;
                }
                (*starts)[np] = pos;
                (*ends)[np] = cut_a;
                np++;
            }
        }
        if (cut_a >= len) break;
        pos = cut_b;
        if (pos >= len) break;
    }
    free(ms);
    *npieces_before = before;
    if ((long)before > c->too_dirty) return -1;
    return (long)np;
}

/* ---- overlap accounting ---- */

struct data_overlap {
    const data_ngram_index *ix;
    uint64_t **hits;   /* per set, per example: training n-gram occurrences that match it */
    uint64_t total_matches;
};

data_overlap *data_overlap_new(const data_ngram_index *ix, lmc_err *err) {
    data_overlap *o = calloc(1, sizeof *o);
    if (!o) { lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
    o->ix = ix;
    o->hits = calloc(ix->nsets ? ix->nsets : 1, sizeof *o->hits);
    if (!o->hits) { free(o); lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
    for (uint32_t s = 0; s < ix->nsets; s++) {
        o->hits[s] = calloc(ix->set_nexamples[s] ? ix->set_nexamples[s] : 1, sizeof(uint64_t));
        if (!o->hits[s]) { data_overlap_free(o); lmc_errf(err, LMC_ENOMEM, "out of memory"); return NULL; }
    }
    return o;
}

void data_overlap_free(data_overlap *o) {
    if (!o) return;
    if (o->hits)
        for (uint32_t s = 0; s < o->ix->nsets; s++) free(o->hits[s]);
    free(o->hits);
    free(o);
}

void data_overlap_add_matches(data_overlap *o, const data_match *m, size_t nm) {
    for (size_t i = 0; i < nm; i++) {
        o->total_matches++;
        for (uint32_t e = m[i].entry; e != UINT32_MAX; e = o->ix->entries[e].next)
            o->hits[o->ix->entries[e].set][o->ix->entries[e].example]++;
    }
}

json_t *data_overlap_report(const data_overlap *o, const data_eval_set *sets, size_t nsets, size_t max_list) {
    const data_ngram_index *ix = o->ix;
    json_t *arr = json_array();
    for (size_t s = 0; s < nsets && s < ix->nsets; s++) {
        size_t nex = ix->set_nexamples[s], over = 0;
        uint64_t occ = 0;
        json_t *list = json_array();
        for (size_t e = 0; e < nex; e++) {
            if (!o->hits[s][e]) continue;
            over++;
            occ += o->hits[s][e];
            if (json_array_size(list) < max_list) {
                json_t *ex = json_object();
                json_object_set_new(ex, "example", json_integer((json_int_t)e));
                json_object_set_new(ex, "line", json_integer((json_int_t)sets[s].example_line[e]));
                json_object_set_new(ex, "train_ngram_matches", json_integer((json_int_t)o->hits[s][e]));
                size_t tl = strlen(sets[s].examples[e]);
                json_object_set_new(ex, "text", json_stringn(sets[s].examples[e], tl > 300 ? 300 : tl));
                json_array_append_new(list, ex);
            }
        }
        size_t testable = nex - ix->set_too_short[s];
        json_t *r = json_object();
        json_object_set_new(r, "eval_set", json_string(sets[s].name));
        json_object_set_new(r, "examples", json_integer((json_int_t)nex));
        json_object_set_new(r, "testable_examples", json_integer((json_int_t)testable));
        json_object_set_new(r, "too_short_examples", json_integer((json_int_t)ix->set_too_short[s]));
        json_object_set_new(r, "overlapping_examples", json_integer((json_int_t)over));
        json_object_set_new(r, "overlap_share", json_real(nex ? (double)over / (double)nex : 0.0));
        json_object_set_new(r, "overlap_share_of_testable", json_real(testable ? (double)over / (double)testable : 0.0));
        json_object_set_new(r, "matched_train_ngram_occurrences", json_integer((json_int_t)occ));
        json_object_set_new(r, "listed", list);
        json_array_append_new(arr, r);
    }
    return arr;
}

/* ---- evaluation files ---- */

static int push_example(data_eval_set *s, size_t *cap, char *text, uint64_t line) {
    if (s->nexamples == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        char **e = realloc(s->examples, nc * sizeof *e);
        if (!e) return -1;
        s->examples = e;
        uint64_t *l = realloc(s->example_line, nc * sizeof *l);
        if (!l) return -1;
        s->example_line = l;
        *cap = nc;
    }
    s->examples[s->nexamples] = text;
    s->example_line[s->nexamples] = line;
    s->nexamples++;
    return 0;
}

int data_eval_load(const char *path, const char *field, data_eval_set *set, lmc_err *err) {
    memset(set, 0, sizeof *set);
    const char *base = strrchr(path, '/');
    set->name = strdup(base ? base + 1 : path);
    if (!set->name) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    lmc_lines *lr;
    if (lmc_lines_open(&lr, path, err) < 0) { data_eval_free(set); return -1; }
    int jsonl = data_path_is_jsonl(path);
    size_t cap = 0;
    const char *line;
    size_t len;
    int rc;
    while ((rc = lmc_lines_next(lr, &line, &len, err)) > 0) {
        uint64_t ln = lmc_lines_lineno(lr);
        size_t a = 0;
        while (a < len && (line[a] == ' ' || line[a] == '\t' || line[a] == '\r')) a++;
        if (a == len) continue;
        char *text = NULL;
        if (jsonl) {
            json_error_t je;
            json_t *j = json_loadb(line, len, 0, &je);
            if (!j || !json_is_object(j)) {
                json_decref(j);
                rc = lmc_err_at(err, LMC_EFORMAT, path, ln, (uint64_t)(je.column > 0 ? je.column : 0),
                                "evaluation file: expected a JSON object per line");
                break;
            }
            json_t *good = json_object_get(j, "sentence_good"), *bad = json_object_get(j, "sentence_bad");
            json_t *t = field ? json_object_get(j, field) : json_object_get(j, "text");
            if (!field && json_is_string(good) && json_is_string(bad)) {
                size_t g = json_string_length(good), b = json_string_length(bad);
                text = malloc(g + b + 2);
                if (text) {
                    memcpy(text, json_string_value(good), g);
                    text[g] = '\n';
                    memcpy(text + g + 1, json_string_value(bad), b);
                    text[g + b + 1] = 0;
                }
            } else if (json_is_string(t)) {
                text = strndup(json_string_value(t), json_string_length(t));
            } else {
                json_decref(j);
                rc = lmc_err_at(err, LMC_EFORMAT, path, ln, 0, "evaluation file: no string field \"%s\"%s",
                                field ? field : "text", field ? "" : " and no sentence_good/sentence_bad pair");
                break;
            }
            json_decref(j);
        } else {
            text = strndup(line, len);
        }
        if (!text || push_example(set, &cap, text, ln) < 0) {
            free(text);
            rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            break;
        }
    }
    lmc_lines_close(lr);
    if (rc < 0) { data_eval_free(set); return -1; }
    return 0;
}

void data_eval_free(data_eval_set *set) {
    for (size_t i = 0; i < set->nexamples; i++) free(set->examples[i]);
    free(set->examples);
    free(set->example_line);
    free(set->name);
    memset(set, 0, sizeof *set);
}
