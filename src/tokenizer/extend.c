/* Vocabulary extension that never lengthens (Herold et al., arXiv 2509.26124, Algorithm 1).
 *
 * New merges are appended after every existing merge. Encoding a piece with the extended tokenizer
 * first runs all base merges, which the new ranks never pre-empt, so it reaches exactly the base
 * segmentation; every later step is a merge, which removes one token. Hence for every input,
 * len(extended) <= len(base); the whole-piece rule (tiktoken, ignore_merges) can only shorten more. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokres.h"

static int collect(void *ctx, const uint8_t *piece, size_t len, lmc_err *err) {
    (void)piece;
    (void)len;
    (void)err;
    (*(size_t *)ctx)++;
    return 0;
}

/* A rank file becomes the equivalent merge-list tokenizer (what tok_save_hf_json writes). */
static int to_merge_list(tok_tokenizer *t, lmc_err *err) {
    if (!t->rank_by_bytes) return 0;
    if (tok_derive_merges(t, err)) return err ? err->code : LMC_ENOMEM;
    if (tok_pairs_from_merges(t, err)) return err ? err->code : LMC_ENOMEM;
    t->rank_by_bytes = 0;
    if (t->source == TOK_SRC_TIKTOKEN) t->source = TOK_SRC_HF;
    return tok_finalize(t, err);
}

static int check_merges(const tok_tokenizer *t, lmc_err *err) {
    for (uint32_t k = 0; k < t->n_merges; k++) {
        uint32_t a = t->merge_a[k], b = t->merge_b[k], m = t->merge_id[k];
        if (a >= t->n_vocab || b >= t->n_vocab || m >= t->n_vocab || t->off[a] == UINT64_MAX ||
            t->off[b] == UINT64_MAX || t->off[m] == UINT64_MAX)
            return lmc_errf(err, LMC_EFORMAT, "merge %u (%u + %u -> %u) names an id that is not a token", k, a, b, m);
        if (t->len[a] + t->len[b] != t->len[m] || memcmp(t->blob + t->off[a], t->blob + t->off[m], t->len[a]) ||
            memcmp(t->blob + t->off[b], t->blob + t->off[m] + t->len[a], t->len[b]))
            return lmc_errf(err, LMC_EFORMAT, "merge %u (%u + %u -> %u): the result's bytes are not its parts' bytes", k,
                            a, b, m);
        const tok_pair *q = tok_pair_get(t, a, b);
        if (!q || q->rank != k)
            return lmc_errf(err, LMC_EFORMAT,
                            "merges conflict: merge %u (%u + %u -> %u) is overridden by merge %u of the same pair, so "
                            "appended merges cannot be ranked after all others",
                            k, a, b, m, q ? q->rank : k);
    }
    return 0;
}

int tok_extend(tok_tokenizer *t, const tok_tokenizer *domain, uint32_t n_add, tok_extend_stats *st, lmc_err *err) {
    memset(st, 0, sizeof *st);
    if (to_merge_list(t, err)) return err ? err->code : LMC_ENOMEM;
    if (check_merges(t, err)) return err->code;
    tok_encoder *e = NULL;
    tok_ids enc = {0};
    int rc = 0;
    /* Domain candidates in the domain tokenizer's merge order (the order its training found them). */
    for (uint32_t k = 0; k < domain->n_merges && st->added < n_add; k++) {
        uint32_t d = domain->merge_id[k];
        if (d >= domain->n_vocab || domain->off[d] == UINT64_MAX) continue;
        const uint8_t *p = domain->blob + domain->off[d];
        size_t len = domain->len[d];
        st->candidates++;
        if (tok_lookup(t, p, len) != TOK_NO_ID) {
            st->in_base++;
            continue;
        }
        /* the encoder must see the merges appended so far: rebuild it after each addition */
        if (!e && (rc = tok_encoder_new(&e, t, err))) break;
        size_t pieces = 0;
        if ((rc = tok_pretokenize(e, p, len, collect, &pieces, err))) break;
        if (pieces != 1) {
            st->multi_piece++;
            continue;
        }
        enc.n = 0;
        if ((rc = tok_encode(e, p, len, 0, &enc, err))) break;
        if (enc.n != 2) {
            st->not_two++;
            continue;
        }
        uint32_t id = t->n_vocab;
        if (id >= TOK_MAX_ID) {
            rc = lmc_errf(err, LMC_EINVAL, "extension: ids would pass %u", TOK_MAX_ID);
            break;
        }
        if ((rc = tok_add_token(t, id, p, len, err))) break;
        if ((rc = tok_merge_append(t, enc.v[0], enc.v[1], id, err))) break;
        if ((rc = tok_pair_set(t, enc.v[0], enc.v[1], t->n_merges - 1, id, err))) break;
        st->added++;
        /* byte_pairs caches pairs of byte tokens; a new merge of two bytes must show there */
        if (t->len[enc.v[0]] == 1 && t->len[enc.v[1]] == 1 && (rc = tok_finalize(t, err))) break;
        /* the encoder's piece cache holds encodings made without the new merge */
        tok_encoder_free(e);
        e = NULL;
    }
    tok_encoder_free(e);
    tok_ids_free(&enc);
    return rc;
}

int tok_merge_parts(const tok_tokenizer *t, uint32_t id, uint32_t *a, uint32_t *b) {
    for (uint32_t k = t->n_merges; k-- > 0;)
        if (t->merge_id[k] == id) {
            *a = t->merge_a[k];
            *b = t->merge_b[k];
            return 1;
        }
    return 0;
}
