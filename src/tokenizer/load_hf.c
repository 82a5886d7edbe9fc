/* HF tokenizer.json (byte-level BPE): model.vocab (byte-level strings -> id), model.merges ("a b"
 * strings or [a, b] pairs), added_tokens, and the ByteLevel / Split pre-tokenizer. */
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "base/json.h"
#include "tokenizer/tok_internal.h"

/* Decode one UTF-8 code point; returns its length or 0 if invalid. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    size_t v = tok_utf8_valid_prefix(s, n < 4 ? n : 4);
    if (v == 0) return 0;
    uint8_t c = s[0];
    size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (k > v) return 0;
    uint32_t x = k == 1 ? c : k == 2 ? c & 0x1Fu : k == 3 ? c & 0x0Fu : c & 0x07u;
    for (size_t i = 1; i < k; i++) x = x << 6 | (s[i] & 0x3Fu);
    *cp = x;
    return k;
}

/* Byte-level string -> bytes. Returns the byte count or -1 (not byte-level). */
static long bytelevel_decode(const int16_t *u2b, const char *s, size_t n, uint8_t *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (!k || cp >= 324 || u2b[cp] < 0) return -1;
        out[o++] = (uint8_t)u2b[cp];
        i += k;
    }
    return (long)o;
}

static int type_is(const json_t *obj, const char *type) {
    const json_t *t = json_object_get(obj, "type");
    return json_is_string(t) && !strcmp(json_string_value(t), type);
}

/* Accept a field only if absent, null, or equal to a harmless value. */
static int check_unsupported(const json_t *model, const char *key, const char *name, lmc_err *err) {
    const json_t *v = json_object_get(model, key);
    if (!v || json_is_null(v) || json_is_false(v) || (json_is_string(v) && !json_string_length(v)) ||
        (json_is_number(v) && json_number_value(v) == 0.0))
        return 0;
    return lmc_errf(err, LMC_EFORMAT, "%s: model.%s is not supported by lmc (byte-level BPE only)", name, key);
}

static int pretokenizer(tok_tokenizer *t, const json_t *pt, const char *name, const char **pattern, lmc_err *err) {
    if (!pt || json_is_null(pt))
        return lmc_errf(err, LMC_EFORMAT, "%s: pre_tokenizer is missing (byte-level BPE needs ByteLevel)", name);
    if (!json_is_object(pt)) return lmc_errf(err, LMC_EFORMAT, "%s: pre_tokenizer: expected an object", name);
    if (type_is(pt, "ByteLevel")) {
        const json_t *ur = json_object_get(pt, "use_regex");
        if (ur && !json_is_boolean(ur))
            return lmc_errf(err, LMC_EFORMAT, "%s: pre_tokenizer.use_regex: expected a boolean", name);
        const json_t *aps = json_object_get(pt, "add_prefix_space");
        if (aps && !json_is_boolean(aps))
            return lmc_errf(err, LMC_EFORMAT, "%s: pre_tokenizer.add_prefix_space: expected a boolean", name);
        t->add_prefix_space = json_is_true(aps);
        if (ur && json_is_false(ur))
            return lmc_errf(err, LMC_EFORMAT, "%s: ByteLevel pre_tokenizer without a regex is not supported", name);
        *pattern = "gpt2";
        return 0;
    }
    if (type_is(pt, "Sequence")) {
        const json_t *list = json_object_get(pt, "pretokenizers");
        if (!json_is_array(list) || json_array_size(list) != 2)
            return lmc_errf(err, LMC_EFORMAT,
                            "%s: pre_tokenizer: only Sequence[Split(regex), ByteLevel(use_regex=false)] is supported",
                            name);
        const json_t *sp = json_array_get(list, 0), *bl = json_array_get(list, 1);
        const json_t *pat = json_object_get(sp, "pattern");
        const json_t *re = json_is_object(pat) ? json_object_get(pat, "Regex") : NULL;
        const json_t *beh = json_object_get(sp, "behavior");
        const json_t *inv = json_object_get(sp, "invert");
        if (!json_is_object(sp) || !type_is(sp, "Split") || !json_is_string(re) ||
            !(json_is_string(beh) && !strcmp(json_string_value(beh), "Isolated")) || json_is_true(inv))
            return lmc_errf(err, LMC_EFORMAT,
                            "%s: pre_tokenizer.pretokenizers[0]: expected Split with a Regex pattern, behavior "
                            "Isolated, invert false",
                            name);
        if (!json_is_object(bl) || !type_is(bl, "ByteLevel") || json_is_true(json_object_get(bl, "use_regex")))
            return lmc_errf(err, LMC_EFORMAT,
                            "%s: pre_tokenizer.pretokenizers[1]: expected ByteLevel with use_regex false", name);
        t->add_prefix_space = json_is_true(json_object_get(bl, "add_prefix_space"));
        *pattern = json_string_value(re);
        return 0;
    }
    return lmc_errf(err, LMC_EFORMAT, "%s: pre_tokenizer: type must be ByteLevel or Sequence[Split, ByteLevel]", name);
}

static int load_json(tok_tokenizer *t, const json_t *root, const char *name, lmc_err *err) {
    int16_t u2b[324];
    for (int i = 0; i < 324; i++) u2b[i] = -1;
    for (int b = 0; b < 256; b++) u2b[tok_byte_to_unicode((uint8_t)b)] = (int16_t)b;

    if (!json_is_object(root)) return lmc_errf(err, LMC_EFORMAT, "%s: expected a JSON object at the top level", name);
    const json_t *model = json_object_get(root, "model");
    if (!model) return lmc_errf(err, LMC_EFORMAT, "%s: missing field \"model\"", name);
    if (!json_is_object(model)) return lmc_errf(err, LMC_EFORMAT, "%s: model: expected an object", name);
    const json_t *type = json_object_get(model, "type");
    if (type && !(json_is_string(type) && !strcmp(json_string_value(type), "BPE")))
        return lmc_errf(err, LMC_EFORMAT, "%s: model.type must be \"BPE\"", name);
    const json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm))
        return lmc_errf(err, LMC_EFORMAT, "%s: normalizer is not supported by lmc (must be null)", name);
    static const char *unsupported[] = {"dropout", "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (check_unsupported(model, unsupported[i], name, err)) return err ? err->code : LMC_EFORMAT;
    const json_t *im = json_object_get(model, "ignore_merges");
    if (im && !json_is_boolean(im)) return lmc_errf(err, LMC_EFORMAT, "%s: model.ignore_merges: expected a boolean", name);
    t->whole_piece_first = json_is_true(im);

    const json_t *vocab = json_object_get(model, "vocab");
    if (!vocab) return lmc_errf(err, LMC_EFORMAT, "%s: missing field \"model.vocab\"", name);
    if (!json_is_object(vocab)) return lmc_errf(err, LMC_EFORMAT, "%s: model.vocab: expected an object", name);
    const json_t *merges = json_object_get(model, "merges");
    if (!merges) return lmc_errf(err, LMC_EFORMAT, "%s: missing field \"model.merges\"", name);
    if (!json_is_array(merges)) return lmc_errf(err, LMC_EFORMAT, "%s: model.merges: expected an array", name);

    /* Ids of added tokens: their vocab entries are the raw text (not byte-level); they are loaded
     * from added_tokens below as special/added tokens. */
    const json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_null(added) && !json_is_array(added))
        return lmc_errf(err, LMC_EFORMAT, "%s: added_tokens: expected an array", name);
    size_t n_added = json_is_array(added) ? json_array_size(added) : 0;

    size_t nv = json_object_size(vocab);
    if (tok_reserve(t, 0, nv, json_array_size(merges), err)) return err ? err->code : LMC_ENOMEM;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        size_t kl = strlen(key);
        if (kl + 1 > bufcap) {
            free(buf);
            bufcap = kl + 64;
            buf = malloc(bufcap);
            if (!buf) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        }
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= TOK_MAX_ID) {
            free(buf);
            return lmc_errf(err, LMC_EFORMAT, "%s: model.vocab[\"%s\"]: expected an integer id in [0, 2^24)", name, key);
        }
        int is_added = 0;
        for (size_t k = 0; k < n_added && !is_added; k++) {
            const json_t *aid = json_object_get(json_array_get(added, k), "id");
            if (!json_is_integer(aid) || json_integer_value(aid) != json_integer_value(val)) continue;
            const json_t *c = json_object_get(json_array_get(added, k), "content");
            if (!json_is_string(c) || strcmp(json_string_value(c), key)) {
                free(buf);
                return lmc_errf(err, LMC_EFORMAT, "%s: model.vocab[\"%s\"]: duplicate id %lld (also added_tokens[%zu])",
                                name, key, (long long)json_integer_value(val), k);
            }
            is_added = 1;
        }
        if (is_added) continue;
        long n = bytelevel_decode(u2b, key, kl, buf);
        if (n <= 0) {
            free(buf);
            return lmc_errf(err, LMC_EFORMAT, "%s: model.vocab[\"%s\"]: not a byte-level token (not in the GPT-2 byte map)",
                            name, key);
        }
        if (tok_add_token(t, (uint32_t)json_integer_value(val), buf, (size_t)n, err)) {
            free(buf);
            return lmc_err_wrap(err, "%s: model.vocab[\"%s\"]", name, key);
        }
    }
    free(buf);
    buf = NULL;

    size_t nm = json_array_size(merges);
    for (size_t i = 0; i < nm; i++) {
        const json_t *m = json_array_get(merges, i);
        const char *a, *b;
        size_t al, bl;
        if (json_is_string(m)) {
            const char *s = json_string_value(m);
            const char *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return lmc_errf(err, LMC_EFORMAT, "%s: model.merges[%zu] \"%s\": expected two tokens separated by one space",
                                name, i, s);
            a = s;
            al = (size_t)(sp - s);
            b = sp + 1;
            bl = strlen(b);
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            a = json_string_value(json_array_get(m, 0));
            al = json_string_length(json_array_get(m, 0));
            b = json_string_value(json_array_get(m, 1));
            bl = json_string_length(json_array_get(m, 1));
        } else {
            return lmc_errf(err, LMC_EFORMAT, "%s: model.merges[%zu]: expected \"a b\" or [\"a\", \"b\"]", name, i);
        }
        buf = malloc(al + bl + 8);
        if (!buf) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        long na = bytelevel_decode(u2b, a, al, buf);
        long nb = na > 0 ? bytelevel_decode(u2b, b, bl, buf + na) : -1;
        uint32_t ia = na > 0 ? tok_lookup(t, buf, (size_t)na) : TOK_NO_ID;
        uint32_t ib = nb > 0 ? tok_lookup(t, buf + na, (size_t)nb) : TOK_NO_ID;
        uint32_t im_ = (na > 0 && nb > 0) ? tok_lookup(t, buf, (size_t)(na + nb)) : TOK_NO_ID;
        free(buf);
        buf = NULL;
        if (ia == TOK_NO_ID)
            return lmc_errf(err, LMC_EFORMAT, "%s: model.merges[%zu]: token \"%.*s\" is not in model.vocab", name, i,
                            (int)al, a);
        if (ib == TOK_NO_ID)
            return lmc_errf(err, LMC_EFORMAT, "%s: model.merges[%zu]: token \"%.*s\" is not in model.vocab", name, i,
                            (int)bl, b);
        if (im_ == TOK_NO_ID)
            return lmc_errf(err, LMC_EFORMAT, "%s: model.merges[%zu]: the merged token \"%.*s%.*s\" is not in model.vocab",
                            name, i, (int)al, a, (int)bl, b);
        if (tok_merge_append(t, ia, ib, im_, err)) return err ? err->code : LMC_ENOMEM;
    }
    if (tok_pairs_from_merges(t, err)) return err ? err->code : LMC_ENOMEM;

    if (n_added) {
        for (size_t i = 0; i < json_array_size(added); i++) {
            const json_t *a = json_array_get(added, i);
            const json_t *id = json_object_get(a, "id"), *content = json_object_get(a, "content");
            const json_t *special = json_object_get(a, "special");
            if (!json_is_object(a) || !json_is_integer(id) || json_integer_value(id) < 0 ||
                json_integer_value(id) >= TOK_MAX_ID || !json_is_string(content) || !json_string_length(content) ||
                (special && !json_is_boolean(special)))
                return lmc_errf(err, LMC_EFORMAT,
                                "%s: added_tokens[%zu]: expected {\"id\": integer below 2^24, \"content\": non-empty string, "
                                "\"special\": boolean}",
                                name, i);
            uint32_t aid = (uint32_t)json_integer_value(id);
            const char *c = json_string_value(content);
            size_t cl = json_string_length(content);
            if (aid < t->n_vocab && t->off[aid] != UINT64_MAX) {
                /* Also in the vocab: fine when it is the same token (GPT-2 has no such entry, others do). */
                size_t tl;
                const uint8_t *tb = tok_token_bytes(t, aid, &tl);
                uint8_t *raw = malloc(cl + 1);
                if (!raw) return lmc_errf(err, LMC_ENOMEM, "out of memory");
                long rn = bytelevel_decode(u2b, c, cl, raw);
                int same = rn > 0 && (size_t)rn == tl && !memcmp(raw, tb, tl);
                free(raw);
                if (!same)
                    return lmc_errf(err, LMC_EFORMAT, "%s: added_tokens[%zu]: duplicate id %u (\"%s\" and a model.vocab token)",
                                    name, i, aid, c);
            }
            if (tok_add_special(t, c, cl, aid, json_is_true(special), err))
                return lmc_err_wrap(err, "%s: added_tokens[%zu]", name, i);
        }
    }
    if (tok_finalize(t, err)) return err ? err->code : LMC_ENOMEM;
    const char *pattern = NULL;
    if (pretokenizer(t, json_object_get(root, "pre_tokenizer"), name, &pattern, err)) return err ? err->code : LMC_EFORMAT;
    if (tok_set_pattern(t, pattern, err)) return lmc_err_wrap(err, "%s: pre_tokenizer", name);
    return 0;
}

int tok_load_hf_json_mem(tok_tokenizer **out, const char *data, size_t len, const char *name, lmc_err *err) {
    *out = NULL;
    json_t *root = lmc_json_loadb(data, len, name, err);
    if (!root) return err ? err->code : LMC_EFORMAT;
    tok_tokenizer *t = tok_alloc(err);
    if (!t) {
        json_decref(root);
        return LMC_ENOMEM;
    }
    t->source = TOK_SRC_HF;
    int rc = load_json(t, root, name, err);
    json_decref(root);
    if (rc) {
        tok_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int tok_load(tok_tokenizer **out, const char *path, const char *pattern, lmc_err *err) {
    *out = NULL;
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return err ? err->code : LMC_EIO;
    size_t pl = strlen(path);
    int rc;
    if (pl >= 5 && !strcmp(path + pl - 5, ".json")) {
        rc = tok_load_hf_json_mem(out, data, len, path, err);
        if (!rc && pattern) rc = tok_set_pattern(*out, pattern, err);
    } else {
        rc = tok_load_tiktoken_mem(out, data, len, path, pattern, err);
    }
    free(data);
    if (rc && *out) {
        tok_free(*out);
        *out = NULL;
    }
    return rc;
}
