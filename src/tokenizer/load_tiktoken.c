/* tiktoken rank files: one "BASE64(token bytes) SP rank" per line; rank = id; blank lines skipped. */
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "tokenizer/tok_internal.h"

static int b64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict standard base64 with padding. Returns decoded length, or -(1 + offset of the bad char). */
static long b64_decode(const uint8_t *s, size_t n, uint8_t *out) {
    if (n == 0 || n % 4) return -(long)(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            uint8_t c = s[i + k];
            if (c == '=' && i + 4 == n && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) return -(long)(i + k + 1);
            v[k] = b64_value(c);
            if (v[k] < 0) return -(long)(i + k + 1);
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2) out[o++] = (uint8_t)(w >> 8);
        if (pad < 1) out[o++] = (uint8_t)w;
    }
    return (long)o;
}

/* Pattern and special tokens of the tiktoken encodings, chosen by file name. */
static int tiktoken_specials(tok_tokenizer *t, const char *name, lmc_err *err) {
    static const struct { const char *enc, *tok; uint32_t id; } sp[] = {
        {"gpt2", "<|endoftext|>", 50256},         {"r50k_base", "<|endoftext|>", 50256},
        {"p50k_base", "<|endoftext|>", 50256},    {"cl100k_base", "<|endoftext|>", 100257},
        {"cl100k_base", "<|fim_prefix|>", 100258}, {"cl100k_base", "<|fim_middle|>", 100259},
        {"cl100k_base", "<|fim_suffix|>", 100260}, {"cl100k_base", "<|endofprompt|>", 100276},
        {"o200k_base", "<|endoftext|>", 199999},  {"o200k_base", "<|endofprompt|>", 200018},
    };
    for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
        if (strcmp(sp[i].enc, name)) continue;
        if (sp[i].id < t->n_vocab && t->off[sp[i].id] != UINT64_MAX) continue; /* id taken: not this encoding */
        if (tok_add_special(t, sp[i].tok, strlen(sp[i].tok), sp[i].id, 1, err)) return err ? err->code : LMC_EFORMAT;
    }
    return 0;
}

/* The encoding name a file name implies: "…/cl100k_base.tiktoken" -> "cl100k_base". */
static const char *name_from_path(const char *path) {
    static const char *names[] = {"cl100k_base", "o200k_base", "r50k_base", "p50k_base", "gpt2"};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (!strncmp(base, names[i], n) && (base[n] == 0 || base[n] == '.')) return names[i];
    }
    return NULL;
}

int tok_load_tiktoken_mem(tok_tokenizer **out, const char *data, size_t len, const char *name, const char *pattern,
                          lmc_err *err) {
    *out = NULL;
    tok_tokenizer *t = tok_alloc(err);
    if (!t) return LMC_ENOMEM;
    t->source = TOK_SRC_TIKTOKEN;
    t->whole_piece_first = 1;
    /* Size the token map once: one token per line. */
    size_t lines = 1;
    for (const char *q = data; (q = memchr(q, '\n', len - (size_t)(q - data))); q++) lines++;
    if (tok_reserve(t, 0, lines, 0, err)) {
        tok_free(t);
        return err ? err->code : LMC_ENOMEM;
    }
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    const uint8_t *p = (const uint8_t *)data;
    uint64_t lineno = 0;
    int rc = 0;
    size_t i = 0;
    while (i < len) {
        lineno++;
        const uint8_t *nl = memchr(p + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - p) : len;
        size_t ls = i, le = e;
        i = e + 1;
        if (le > ls && p[le - 1] == '\r') le--;
        if (le == ls) continue; /* blank line */
        const uint8_t *sp = memchr(p + ls, ' ', le - ls);
        if (!sp) {
            rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, 1, "expected \"BASE64 RANK\", found no space");
            goto fail;
        }
        size_t b64n = (size_t)(sp - (p + ls));
        if (b64n / 4 * 3 + 3 > bufcap) {
            bufcap = b64n / 4 * 3 + 64;
            free(buf);
            buf = malloc(bufcap);
            if (!buf) {
                rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
                goto fail;
            }
        }
        long n = b64_decode(p + ls, b64n, buf);
        if (n < 0) {
            size_t col = (size_t)(-n);
            if (col > b64n)
                rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, 1,
                                "base64 token of %zu characters (must be a non-empty multiple of 4)", b64n);
            else
                rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, col, "invalid base64 character '%c'",
                                p[ls + col - 1] >= 32 && p[ls + col - 1] < 127 ? p[ls + col - 1] : '?');
            goto fail;
        }
        size_t rs = b64n + 1;
        uint64_t rank = 0;
        if (ls + rs >= le) {
            rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, rs + 1, "missing rank after the token (truncated line?)");
            goto fail;
        }
        for (size_t k = ls + rs; k < le; k++) {
            if (p[k] < '0' || p[k] > '9' || rank >= TOK_MAX_ID) {
                rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, k - ls + 1,
                                "rank must be a decimal integer below 2^24");
                goto fail;
            }
            rank = rank * 10 + (uint64_t)(p[k] - '0');
        }
        if (rank >= TOK_MAX_ID) {
            rc = lmc_err_at(err, LMC_EFORMAT, name, lineno, rs + 1, "rank must be below 2^24");
            goto fail;
        }
        if (tok_add_token(t, (uint32_t)rank, buf, (size_t)n, err)) {
            rc = lmc_err_wrap(err, "%s:%llu", name, (unsigned long long)lineno);
            goto fail;
        }
    }
    if (t->n_tokens == 0) {
        rc = lmc_errf(err, LMC_EFORMAT, "%s: no tokens in the rank file", name);
        goto fail;
    }
    free(buf);
    buf = NULL;
    t->rank_by_bytes = 1;
    const char *enc = name_from_path(name);
    const char *pat = pattern;
    if (pattern && tok_pattern_by_name(pattern, NULL)) enc = pattern;
    if (!pat) pat = enc;
    if (!pat) {
        rc = lmc_errf(err, LMC_EINVAL,
                      "%s: cannot infer the pre-tokenization pattern from the file name; pass --pattern "
                      "gpt2|cl100k_base|o200k_base|REGEX",
                      name);
        goto fail;
    }
    if (enc && tiktoken_specials(t, enc, err)) {
        rc = lmc_err_wrap(err, "%s", name);
        goto fail;
    }
    if (tok_finalize(t, err) || tok_set_pattern(t, pat, err)) {
        rc = err ? err->code : LMC_EINVAL;
        goto fail;
    }
    *out = t;
    return 0;
fail:
    free(buf);
    tok_free(t);
    return rc ? rc : LMC_EFORMAT;
}
