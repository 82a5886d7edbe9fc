/* Input documents and parallel encoding of a corpus into a token shard. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "base/reader.h"
#include "data/shard.h"
#include "tokenizer/tok_internal.h"

struct tok_docs {
    char *path, *field;
    int jsonl;
    lmc_lines *lines;   /* jsonl */
    char *all;          /* plain text: the whole file (read, or mapped when uncompressed) */
    size_t all_len;
    lmc_map map;        /* the mapping, when mapped */
    int done;
    uint64_t bytes;
    char *text;         /* current jsonl document (a copy of the string field) */
};

int tok_path_is_jsonl(const char *path) {
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".gz")) n -= 3;
    else if (n > 4 && !strcmp(path + n - 4, ".zst")) n -= 4;
    return (n > 6 && !strncmp(path + n - 6, ".jsonl", 6)) || (n > 7 && !strncmp(path + n - 7, ".ndjson", 7));
}

int tok_docs_open(tok_docs **out, const char *path, const char *field, lmc_err *err) {
    *out = NULL;
    tok_docs *d = calloc(1, sizeof *d);
    if (!d) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    d->path = strdup(path);
    d->field = strdup(field ? field : "text");
    d->jsonl = tok_path_is_jsonl(path);
    int rc;
    if (!d->path || !d->field) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    else if (d->jsonl) rc = lmc_lines_open(&d->lines, path, err);
    else {
        /* Map an uncompressed regular file (no copy); read gzip/zstd (magic bytes) and pipes. */
        const unsigned char *m;
        if (strcmp(path, "-") && lmc_map_file(path, &d->map, NULL) == 0 &&
            !(d->map.len >= 2 && (m = d->map.data, m[0] == 0x1f && m[1] == 0x8b)) &&
            !(d->map.len >= 4 && (m = d->map.data, m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd))) {
            d->all_len = d->map.len;
            rc = 0;
        } else {
            if (d->map.data) lmc_unmap(&d->map);
            memset(&d->map, 0, sizeof d->map);
            rc = lmc_read_all(path, &d->all, &d->all_len, err);
        }
    }
    if (rc) {
        tok_docs_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

int tok_docs_stable(const tok_docs *d) { return !d->jsonl; }

int tok_docs_next(tok_docs *d, const char **text, size_t *len, lmc_err *err) {
    if (!d->jsonl) {
        if (d->done) return 0;
        d->done = 1;
        *text = d->map.data ? (const char *)d->map.data : d->all ? d->all : "";
        *len = d->all_len;
        d->bytes = d->all_len;
        return 1;
    }
    for (;;) {
        const char *line;
        size_t n;
        int rc = lmc_lines_next(d->lines, &line, &n, err);
        if (rc <= 0) return rc;
        d->bytes += n + 1;
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r')) k++;
        if (k == n) continue; /* blank line */
        json_error_t je;
        json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &je);
        if (!j)
            return lmc_err_at(err, LMC_EFORMAT, d->path, lmc_lines_lineno(d->lines), (uint64_t)je.column, "%s",
                              je.text);
        const json_t *f = json_is_object(j) ? json_object_get(j, d->field) : NULL;
        if (!json_is_string(f)) {
            json_decref(j);
            return lmc_err_at(err, LMC_EFORMAT, d->path, lmc_lines_lineno(d->lines), 0,
                              "expected an object with a string field \"%s\"", d->field);
        }
        free(d->text);
        d->text = malloc(json_string_length(f) + 1);
        if (!d->text) {
            json_decref(j);
            return lmc_errf(err, LMC_ENOMEM, "out of memory");
        }
        memcpy(d->text, json_string_value(f), json_string_length(f) + 1);
        *len = json_string_length(f);
        *text = d->text;
        json_decref(j);
        return 1;
    }
}

uint64_t tok_docs_bytes(const tok_docs *d) { return d->bytes; }

void tok_docs_close(tok_docs *d) {
    if (!d) return;
    if (d->lines) lmc_lines_close(d->lines);
    free(d->all);
    if (d->map.data) lmc_unmap(&d->map);
    free(d->text);
    free(d->path);
    free(d->field);
    free(d);
}

/* ---- parallel shard encoding ---- */

typedef struct item {
    size_t doc;          /* index in the batch */
    size_t from, stop;   /* encode pieces starting in [from, stop) */
    tok_ids ids;
} item;

typedef struct batch {
    char **docs;
    unsigned char *owned;  /* 1 = docs[i] is a copy to free; 0 = borrowed (valid until the batch runs) */
    size_t *lens;
    size_t n, cap, bytes;
    item *items;
    size_t n_items, items_cap;
} batch;

#define CHUNK_BYTES (1u << 20)
#define BATCH_BYTES (64u << 20)
#define BATCH_DOCS 65536

static int batch_add_item(batch *b, size_t doc, size_t from, size_t stop, lmc_err *err) {
    if (b->n_items == b->items_cap) {
        size_t cap = b->items_cap ? b->items_cap * 2 : 1024;
        item *it = realloc(b->items, cap * sizeof *it);
        if (!it) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        b->items = it;
        b->items_cap = cap;
    }
    item *it = &b->items[b->n_items++];
    memset(it, 0, sizeof *it);
    it->doc = doc;
    it->from = from;
    it->stop = stop;
    return 0;
}

static int batch_add_doc(batch *b, const tok_tokenizer *t, const char *text, size_t len, int stable, lmc_err *err) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        char **d = realloc(b->docs, cap * sizeof *d);
        if (!d) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        b->docs = d;
        size_t *l = realloc(b->lens, cap * sizeof *l);
        if (!l) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        b->lens = l;
        unsigned char *o = realloc(b->owned, cap);
        if (!o) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        b->owned = o;
        b->cap = cap;
    }
    char *c = (char *)text;
    if (!stable) {
        c = malloc(len + 1);
        if (!c) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        memcpy(c, text, len);
        c[len] = 0;
    }
    size_t di = b->n++;
    b->owned[di] = !stable;
    b->docs[di] = c;
    b->lens[di] = len;
    b->bytes += len;
    /* Cut long documents at guaranteed piece boundaries; the result equals encoding them whole. */
    size_t from = 0;
    while (len - from > 2 * (size_t)CHUNK_BYTES) {
        size_t cut = tok_safe_split(t, c, len, from + CHUNK_BYTES);
        if (cut >= len) break;
        if (batch_add_item(b, di, from, cut, err)) return err ? err->code : LMC_ENOMEM;
        from = cut;
    }
    return batch_add_item(b, di, from, len, err);
}

static void batch_clear(batch *b) {
    for (size_t i = 0; i < b->n; i++)
        if (b->owned[i]) free(b->docs[i]);
    for (size_t i = 0; i < b->n_items; i++) tok_ids_free(&b->items[i].ids);
    b->n = b->n_items = b->bytes = 0;
}

static void batch_free(batch *b) {
    batch_clear(b);
    free(b->docs);
    free(b->owned);
    free(b->lens);
    free(b->items);
}

/* Write item i (its ids, and <|endoftext|> when it ends its document), then free its ids. */
static int write_item(batch *b, size_t i, uint32_t eot, lmc_shard_writer *w, tok_shard_stats *st, lmc_err *err) {
    item *it = &b->items[i];
    if (lmc_shard_writer_put(w, it->ids.v, it->ids.n, err)) return err && err->code ? err->code : LMC_EIO;
    st->tokens += it->ids.n;
    if (it->stop == b->lens[it->doc]) {
        if (lmc_shard_writer_put(w, &eot, 1, err)) return err && err->code ? err->code : LMC_EIO;
        st->tokens++;
        st->docs++;
    }
    tok_ids_free(&it->ids);
    return 0;
}

/* Encode the items in parallel; whichever thread finishes an item writes every finished item from the
 * write cursor on, in order, so writing overlaps encoding and the output order never depends on the
 * schedule. */
static int batch_run(batch *b, tok_encoder **enc, int threads, uint32_t eot, lmc_shard_writer *w, tok_shard_stats *st,
                     lmc_err *err) {
    int failed = 0;
    lmc_err first = {0};
    size_t cursor = 0;
    unsigned char *done = calloc(b->n_items ? b->n_items : 1, 1);
    if (!done) return lmc_errf(err, LMC_ENOMEM, "out of memory");
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (size_t i = 0; i < b->n_items; i++) {
        if (__atomic_load_n(&failed, __ATOMIC_RELAXED)) continue;
        item *it = &b->items[i];
        const char *d = b->docs[it->doc];
        size_t len = b->lens[it->doc];
        lmc_err e = {0};
        int rc = tok_encode_part(enc[omp_get_thread_num()], d, len, it->from, it->stop, &it->ids, &e);
        __atomic_store_n(&done[i], 1, __ATOMIC_RELEASE);
#pragma omp critical(tok_shard_write)
        {
            if (rc && !failed) {
                first = e;
                failed = 1;
            }
            while (!failed && cursor < b->n_items && __atomic_load_n(&done[cursor], __ATOMIC_ACQUIRE)) {
                if (write_item(b, cursor, eot, w, st, &e)) {
                    first = e;
                    failed = 1;
                }
                cursor++;
            }
        }
    }
    free(done);
    if (failed) {
        if (err) *err = first;
        return first.code ? first.code : LMC_EINVAL;
    }
    st->bytes += b->bytes;
    batch_clear(b);
    return 0;
}

int tok_encode_to_shard(const tok_tokenizer *t, const char *const *inputs, int n_inputs, const char *field,
                        const char *out_path, int threads, lmc_progress *progress, tok_shard_stats *stats,
                        lmc_err *err) {
    tok_shard_stats st = {0};
    int64_t eot = tok_eot_id(t);
    if (eot < 0) return lmc_errf(err, LMC_EINVAL, "the tokenizer has no <|endoftext|> token to end documents with");
    if (threads <= 0) threads = omp_get_max_threads();
    tok_encoder **enc = calloc((size_t)threads, sizeof *enc);
    if (!enc) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = 0;
    for (int i = 0; i < threads && !rc; i++) rc = tok_encoder_new(&enc[i], t, err);
    lmc_shard_writer w;
    int open = 0;
    if (!rc) {
        rc = lmc_shard_writer_open(&w, out_path, t->n_vocab, err);
        open = !rc;
    }
    batch b = {0};
    uint64_t total = 0;
    for (int f = 0; f < n_inputs && !rc; f++) {
        tok_docs *d;
        rc = tok_docs_open(&d, inputs[f], field, err);
        if (rc) break;
        const char *text;
        size_t len;
        uint64_t before = 0;
        while ((rc = tok_docs_next(d, &text, &len, err)) == 1) {
            rc = batch_add_doc(&b, t, text, len, tok_docs_stable(d), err);
            if (rc) break;
            if (b.bytes >= BATCH_BYTES || b.n >= BATCH_DOCS) {
                rc = batch_run(&b, enc, threads, (uint32_t)eot, &w, &st, err);
                if (rc) break;
                uint64_t now = tok_docs_bytes(d);
                if (progress) lmc_progress_add(progress, now - before);
                before = now;
            }
        }
        if (rc == 0) rc = batch_run(&b, enc, threads, (uint32_t)eot, &w, &st, err);
        if (!rc && progress) lmc_progress_add(progress, tok_docs_bytes(d) - before);
        total += tok_docs_bytes(d);
        tok_docs_close(d);
    }
    (void)total;
    if (open) {
        if (!rc) rc = lmc_shard_writer_commit(&w, err);
        else lmc_shard_writer_abort(&w);
    }
    batch_free(&b);
    for (int i = 0; i < threads; i++) tok_encoder_free(enc[i]);
    free(enc);
    if (stats) *stats = st;
    return rc;
}
