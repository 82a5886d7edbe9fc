/* Write a byte-level BPE tokenizer.json that HF tokenizers loads. */
#include <stdlib.h>
#include <string.h>
#include "base/json.h"
#include "tokenizer/tok_internal.h"

const char *tok_pattern_public_text(tok_pattern_kind k);

/* Token bytes -> byte-level string (every byte one code point below U+0144, so at most 2 UTF-8 bytes). */
static char *bytelevel_encode(const uint8_t *p, size_t n) {
    char *s = malloc(2 * n + 1);
    if (!s) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = tok_byte_to_unicode(p[i]);
        if (cp < 0x80) s[o++] = (char)cp;
        else {
            s[o++] = (char)(0xC0 | (cp >> 6));
            s[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    s[o] = 0;
    return s;
}

int tok_derive_merges(tok_tokenizer *t, lmc_err *err) {
    if (t->n_merges) return 0;
    tok_encoder *e;
    if (tok_encoder_new(&e, t, err)) return err ? err->code : LMC_ENOMEM;
    tok_ids parts = {0};
    int rc = 0;
    for (uint32_t id = 0; id < t->n_vocab && !rc; id++) {
        if (t->off[id] == UINT64_MAX || t->len[id] < 2) continue;
        parts.n = 0;
        rc = tok_bpe_piece(e, t->blob + t->off[id], t->len[id], id, &parts, err);
        /* A token that its lower ranks cannot build in two parts is reachable only by whole-piece
         * lookup (saved with ignore_merges = true); it gets no merge. */
        if (!rc && parts.n == 2) rc = tok_merge_append(t, parts.v[0], parts.v[1], id, err);
    }
    tok_ids_free(&parts);
    tok_encoder_free(e);
    return rc;
}

static json_t *bytelevel_obj(int add_prefix_space, int use_regex) {
    return json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", add_prefix_space, "trim_offsets",
                     1, "use_regex", use_regex);
}

int tok_save_hf_json(const tok_tokenizer *tc, const char *path, lmc_err *err) {
    tok_tokenizer *t = (tok_tokenizer *)tc;
    if (t->source == TOK_SRC_TIKTOKEN && tok_derive_merges(t, err)) return err ? err->code : LMC_ENOMEM;
    int rc = LMC_ENOMEM;
    json_t *root = json_object(), *vocab = json_object(), *merges = json_array(), *added = json_array();
    if (!root || !vocab || !merges || !added) goto oom;
    /* vocab in id order: ordinary tokens byte-level encoded, added tokens as their raw text */
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        size_t len;
        const uint8_t *b = tok_token_bytes(t, id, &len);
        if (!b) continue;
        char *s;
        if (t->off[id] != UINT64_MAX) s = bytelevel_encode(b, len);
        else s = strndup((const char *)b, len);
        if (!s) goto oom;
        int r = json_object_set_new(vocab, s, json_integer(id));
        free(s);
        if (r) goto oom;
    }
    for (uint32_t r = 0; r < t->n_merges; r++) {
        char *a = bytelevel_encode(t->blob + t->off[t->merge_a[r]], t->len[t->merge_a[r]]);
        char *b = bytelevel_encode(t->blob + t->off[t->merge_b[r]], t->len[t->merge_b[r]]);
        /* Merges as legacy "a b" strings: every version of HF tokenizers reads them (the [a, b]
         * pair form needs tokenizers >= 0.20), and byte-level token text never contains a space. */
        json_t *pair = NULL;
        if (a && b) {
            size_t la = strlen(a), lb = strlen(b);
            char *ab = malloc(la + lb + 2);
            if (ab) {
                memcpy(ab, a, la);
                ab[la] = ' ';
                memcpy(ab + la + 1, b, lb + 1);
                pair = json_string(ab);
                free(ab);
            }
        }
        free(a);
        free(b);
        if (!pair || json_array_append_new(merges, pair)) goto oom;
    }
    for (size_t i = 0; i < t->n_specials; i++) {
        json_t *o = json_pack("{s:I, s:s%, s:b, s:b, s:b, s:b, s:b}", "id", (json_int_t)t->specials[i].id, "content",
                              t->specials[i].text, t->specials[i].len, "single_word", 0, "lstrip", 0, "rstrip", 0,
                              "normalized", 0, "special", t->specials[i].special);
        if (!o || json_array_append_new(added, o)) goto oom;
    }
    json_t *pre;
    if (t->pat_kind == TOK_PAT_GPT2) {
        pre = bytelevel_obj(t->add_prefix_space, 1);
    } else {
        const char *pat = tok_pattern_public_text(t->pat_kind);
        if (!pat) pat = t->pattern;
        pre = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, o]}", "type", "Sequence", "pretokenizers", "type", "Split",
                        "pattern", "Regex", pat, "behavior", "Isolated", "invert", 0,
                        bytelevel_obj(t->add_prefix_space, 0));
    }
    json_t *model = json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout",
                              "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", 0,
                              "byte_fallback", 0, "ignore_merges", t->whole_piece_first, "vocab", vocab, "merges",
                              merges);
    vocab = merges = NULL;
    if (!pre || !model) {
        json_decref(pre);
        json_decref(model);
        goto oom;
    }
    if (json_object_set_new(root, "version", json_string("1.0")) || json_object_set_new(root, "truncation", json_null()) ||
        json_object_set_new(root, "padding", json_null()) || json_object_set_new(root, "added_tokens", added) ||
        json_object_set_new(root, "normalizer", json_null()) || json_object_set_new(root, "pre_tokenizer", pre) ||
        json_object_set_new(root, "post_processor", json_null()) ||
        json_object_set_new(root, "decoder", bytelevel_obj(1, 1)) || json_object_set_new(root, "model", model)) {
        added = NULL;
        goto oom;
    }
    added = NULL;
    rc = lmc_json_save_file(root, path, err);
    json_decref(root);
    return rc;
oom:
    json_decref(root);
    json_decref(vocab);
    json_decref(merges);
    json_decref(added);
    return lmc_errf(err, rc, "out of memory building %s", path);
}
