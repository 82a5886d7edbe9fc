/* Documents with MeCo metadata or annotations into a shard and its loss mask. See encode_meta.h. */
#include "tokenizer/encode_meta.h"

#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "base/reader.h"
#include "data/mask.h"
#include "data/shard.h"

void tok_meco_host(const char *url, size_t len, const char **host, size_t *hlen) {
    size_t start = 0;
    for (size_t i = 0; i + 2 < len && url[i] != '/'; i++)
        if (url[i] == ':' && url[i + 1] == '/' && url[i + 2] == '/') {
            start = i + 3;
            break;
        }
    size_t end = start;
    while (end < len && url[end] != '/') end++;
    *host = url + start;
    *hlen = end - start;
}

typedef struct out_ctx {
    tok_encoder *e;
    tok_ids ids;
    lmc_shard_writer w;
    lmc_mask_writer mw;
    int use_mask;
    uint8_t *bits;
    size_t bits_cap;
    tok_meta_stats *st;
} out_ctx;

/* Encode [s, s+n) as ordinary text and append it with mask bit `bit`. */
static int put(out_ctx *c, const char *s, size_t n, int bit, lmc_err *err) {
    c->ids.n = 0;
    if (n && tok_encode(c->e, s, n, 0, &c->ids, err)) return -1;
    if (lmc_shard_writer_put(&c->w, c->ids.v, c->ids.n, err)) return -1;
    c->st->tokens += c->ids.n;
    if (!bit) c->st->masked += c->ids.n;
    if (!c->use_mask) return 0;
    if (c->ids.n > c->bits_cap) {
        uint8_t *b = realloc(c->bits, c->ids.n);
        if (!b) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        c->bits = b;
        c->bits_cap = c->ids.n;
    }
    memset(c->bits, bit, c->ids.n);
    return lmc_mask_writer_put(&c->mw, c->bits, c->ids.n, err);
}

/* Concatenate a, b, c into one string (the annotation / metadata text is tokenised as one string). */
static char *cat3(const char *a, const char *b, size_t bn, const char *c, size_t *n) {
    size_t an = strlen(a), cn = strlen(c);
    char *s = malloc(an + bn + cn + 1);
    if (!s) return NULL;
    memcpy(s, a, an);
    memcpy(s + an, b, bn);
    memcpy(s + an + bn, c, cn + 1);
    *n = an + bn + cn;
    return s;
}

/* End of the chunk starting at `from`: just past the first run of >= 2 newlines (or the end). */
static size_t chunk_end(const char *s, size_t len, size_t from) {
    for (size_t i = from; i < len; i++) {
        if (s[i] != '\n' || i + 1 >= len || s[i + 1] != '\n') continue;
        while (i < len && s[i] == '\n') i++;
        return i;
    }
    return len;
}

static int one_doc(out_ctx *c, const tok_meta_opts *o, const char *path, uint64_t line, const json_t *j,
                   uint32_t eot, lmc_err *err) {
    const json_t *f = json_object_get(j, o->field);
    if (!json_is_string(f))
        return lmc_err_at(err, LMC_EFORMAT, path, line, 0, "expected an object with a string field \"%s\"", o->field);
    const char *text = json_string_value(f);
    size_t len = json_string_length(f);
    c->st->docs++;
    c->st->bytes += len;
    if (o->meco_field) {
        const json_t *u = json_object_get(j, o->meco_field);
        if (u && !json_is_null(u) && !json_is_string(u))
            return lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field \"%s\" (--meco-field) must be a string URL or null",
                              o->meco_field);
        const char *host = NULL;
        size_t hlen = 0;
        if (json_is_string(u)) tok_meco_host(json_string_value(u), json_string_length(u), &host, &hlen);
        if (hlen) {
            size_t n;
            char *meta = cat3("URL: ", host, hlen, "\n\n", &n);
            if (!meta) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            int rc = put(c, meta, n, 0, err);
            free(meta);
            if (rc) return rc;
        } else {
            c->st->no_meta++;
        }
    }
    const json_t *tags = o->annotation_field ? json_object_get(j, o->annotation_field) : NULL;
    if (o->annotation_field && (!tags || json_is_null(tags))) c->st->no_annotation++;
    if (tags && !json_is_null(tags)) {
        if (!json_is_array(tags))
            return lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field \"%s\" (--annotation-field) must be an array of "
                              "tag strings, one per chunk", o->annotation_field);
        size_t nchunks = 0;
        for (size_t p = 0; p < len; p = chunk_end(text, len, p)) nchunks++;
        if (json_array_size(tags) != nchunks)
            return lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field \"%s\" has %zu tags but the text has %zu chunks "
                              "(split at blank lines)", o->annotation_field, json_array_size(tags), nchunks);
        size_t p = 0;
        for (size_t k = 0; k < nchunks; k++) {
            const json_t *tag = json_array_get(tags, k);
            if (!json_is_string(tag))
                return lmc_err_at(err, LMC_EFORMAT, path, line, 0, "field \"%s\": tag %zu is not a string",
                                  o->annotation_field, k);
            size_t n;
            char *a = cat3("<annotation>", json_string_value(tag), json_string_length(tag), "</annotation>\n", &n);
            if (!a) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            int rc = put(c, a, n, !o->annotation_mask, err);
            free(a);
            size_t e = chunk_end(text, len, p);
            if (!rc) rc = put(c, text + p, e - p, 1, err);
            if (rc) return rc;
            p = e;
        }
    } else if (put(c, text, len, 1, err)) {
        return -1;
    }
    uint8_t one = 1;
    if (lmc_shard_writer_put(&c->w, &eot, 1, err)) return -1;
    c->st->tokens++;
    return c->use_mask ? lmc_mask_writer_put(&c->mw, &one, 1, err) : 0;
}

int tok_encode_meta_shard(const tok_tokenizer *t, const char *const *inputs, int n_inputs, const tok_meta_opts *o,
                          const char *out_path, tok_meta_stats *stats, lmc_err *err) {
    tok_meta_stats st = {0};
    out_ctx c;
    memset(&c, 0, sizeof c);
    c.st = &st;
    c.use_mask = o->meco_field || (o->annotation_field && o->annotation_mask);
    int64_t eot = tok_eot_id(t);
    if (eot < 0) return lmc_errf(err, LMC_EINVAL, "the tokenizer has no <|endoftext|> token to end documents with");
    for (int f = 0; f < n_inputs; f++)
        if (!tok_path_is_jsonl(inputs[f]))
            return lmc_errf(err, LMC_EINVAL, "%s: --meco-field / --annotation-field read JSONL (*.jsonl), one object "
                            "per document", inputs[f]);
    char *mpath = c.use_mask ? lmc_mask_path(out_path) : NULL;
    if (c.use_mask && !mpath) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = tok_encoder_new(&c.e, t, err);
    int open_w = 0, open_m = 0;
    if (!rc) rc = lmc_shard_writer_open(&c.w, out_path, tok_n_vocab(t), err), open_w = !rc;
    if (!rc && c.use_mask) rc = lmc_mask_writer_open(&c.mw, mpath, err), open_m = !rc;
    for (int f = 0; f < n_inputs && !rc; f++) {
        lmc_lines *lr;
        if ((rc = lmc_lines_open(&lr, inputs[f], err))) break;
        const char *line;
        size_t n;
        int k;
        while ((k = lmc_lines_next(lr, &line, &n, err)) == 1) {
            size_t s = 0;
            while (s < n && (line[s] == ' ' || line[s] == '\t' || line[s] == '\r')) s++;
            if (s == n) continue;
            json_error_t je;
            json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &je);
            if (!j || !json_is_object(j)) {
                rc = j ? lmc_err_at(err, LMC_EFORMAT, inputs[f], lmc_lines_lineno(lr), 0, "expected a JSON object")
                       : lmc_err_at(err, LMC_EFORMAT, inputs[f], lmc_lines_lineno(lr), (uint64_t)je.column, "%s", je.text);
                json_decref(j);
                break;
            }
            rc = one_doc(&c, o, inputs[f], lmc_lines_lineno(lr), j, (uint32_t)eot, err);
            json_decref(j);
            if (rc) break;
        }
        if (k < 0 && !rc) rc = k;
        lmc_lines_close(lr);
    }
    /* the mask first: a shard is never left without the mask its run would require */
    if (open_m) {
        if (!rc) rc = lmc_mask_writer_commit(&c.mw, err);
        else lmc_mask_writer_abort(&c.mw);
    }
    if (open_w) {
        if (!rc) rc = lmc_shard_writer_commit(&c.w, err);
        else lmc_shard_writer_abort(&c.w);
    }
    st.wrote_mask = c.use_mask && !rc;
    tok_encoder_free(c.e);
    tok_ids_free(&c.ids);
    free(c.bits);
    free(mpath);
    if (stats) *stats = st;
    return rc;
}
