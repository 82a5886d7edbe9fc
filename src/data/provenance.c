/* Provenance and licences (Common Corpus, ICLR 2026): every document's licence and source fields are
 * counted on the way in and on the way out of a `lmc data` run, and --licence-allow keeps only documents
 * under the listed licences. The fields themselves travel with the document: kept documents are written
 * byte-for-byte (decontaminated pieces keep every field but the text), so every later stage sees them. */
#include "data/data.h"
#include "data/hashtab.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

typedef struct value_n { char *name; uint64_t n; } value_n;

struct data_counter {
    value_n *v;
    size_t n, cap, max;
    data_ht ht;
    uint64_t other;     /* values past max */
};

data_counter *data_counter_new(size_t max_values) {
    data_counter *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max = max_values;
    if (data_ht_reset(&c->ht, 64) < 0) { free(c); return NULL; }
    return c;
}

void data_counter_free(data_counter *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->v[i].name);
    free(c->v);
    data_ht_free(&c->ht);
    free(c);
}

/* Distinct values are told apart by a 64-bit hash (a collision, ~n^2 / 2^65, would merge two counts). */
int data_counter_add(data_counter *c, const char *s, size_t len, uint64_t k) {
    uint64_t h = XXH3_64bits(s, len);
    const data_ht_slot *sl = data_ht_find(&c->ht, h);
    if (sl) { c->v[sl->first].n += k; return 0; }
    if (c->n >= c->max) { c->other += k; return 0; }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        value_n *p = realloc(c->v, nc * sizeof *p);
        if (!p) return -1;
        c->v = p;
        c->cap = nc;
    }
    if (c->ht.n * 2 + 2 > c->ht.cap) {  /* grow: rebuild from the names */
        data_ht nt = {0};
        if (data_ht_reset(&nt, (c->n + 1) * 4) < 0) return -1;
        for (size_t i = 0; i < c->n; i++) data_ht_add(&nt, XXH3_64bits(c->v[i].name, strlen(c->v[i].name)), (uint32_t)i);
        data_ht_free(&c->ht);
        c->ht = nt;
    }
    char *nm = strndup(s, len);
    if (!nm) return -1;
    c->v[c->n] = (value_n){nm, k};
    data_ht_add(&c->ht, h, (uint32_t)c->n++);
    return 0;
}

static int cmp_value(const void *a, const void *b) {
    const value_n *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

json_t *data_counter_json(const data_counter *c) {
    json_t *o = json_object();
    value_n *v = malloc((c->n ? c->n : 1) * sizeof *v);
    if (!v) return o;
    memcpy(v, c->v, c->n * sizeof *v);
    qsort(v, c->n, sizeof *v, cmp_value);  /* most frequent first */
    for (size_t i = 0; i < c->n; i++) json_object_set_new(o, v[i].name, json_integer((json_int_t)v[i].n));
    if (c->other) json_object_set_new(o, "(other values)", json_integer((json_int_t)c->other));
    free(v);
    return o;
}

int data_doc_field(const data_doc *d, const char *field, lmc_buf *out) {
    out->len = 0;
    if (!d->raw) return 0;
    int found = 0;
    const char *msg;
    size_t col;
    if (data_json_line_field(d->raw, d->raw_len, field, out, &found, &msg, &col) != 0) return 0;
    return found;
}

/* Licence names are matched without regard to case ("cc-by" is "CC-BY"), otherwise exactly; each allow
 * entry may itself be a comma-separated list ("CC-BY,CC0,PD"). */
const char *data_licence_check(const data_pipeline_cfg *c, const char *licence, size_t len) {
    if (c->nlicence_allow <= 0) return NULL;
    if (!licence) return "licence/missing";
    for (int i = 0; i < c->nlicence_allow; i++)
        for (const char *p = c->licence_allow[i]; *p;) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n == len && !strncasecmp(p, licence, len)) return NULL;
            p += n;
            if (*p == ',') p++;
        }
    return "licence/not_allowed";
}
