/* Pre-tokenization: the tiktoken patterns compiled with PCRE2 (UTF + UCP, JIT), and UTF-8 validation.
 *
 * The named patterns are tiktoken v0.14's, with one change that keeps them exact under PCRE2: `\s`
 * and `\S` are spelled out as the Unicode White_Space set. tiktoken's regex engine (Rust) matches
 * White_Space; PCRE2's UCP `\s` is "Z or \t\n\v\f\r" and misses U+0085 (NEL). `$` is end of subject
 * (PCRE2_DOLLAR_ENDONLY), as in Rust. */
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tok_internal.h"

#define WS "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
#define S_ "[" WS "]"
#define NS_ "[^" WS "]"

static const char pat_gpt2[] =
    "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^" WS "\\p{L}\\p{N}]++|" S_ "++$|" S_ "+(?!" NS_ ")|" S_;

static const char pat_cl100k[] =
    "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^" WS "\\p{L}\\p{N}]++[\\r\\n]*+|" S_
    "++$|" S_ "*[\\r\\n]|" S_ "+(?!" NS_ ")|" S_;

static const char pat_o200k[] =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}"
    "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n/]*"
    "|" S_ "*[\\r\\n]+"
    "|" S_ "+(?!" NS_ ")"
    "|" S_ "+";

/* The patterns as tiktoken / HF write them, recognised in tokenizer.json Split pre-tokenizers. */
static const struct { const char *text; tok_pattern_kind kind; } known_texts[] = {
    {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", TOK_PAT_GPT2},
    {"'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s", TOK_PAT_GPT2},
    {"'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s",
     TOK_PAT_CL100K},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     TOK_PAT_CL100K},
    {"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
     "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
     "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     TOK_PAT_O200K},
};

const char *tok_pattern_by_name(const char *name, tok_pattern_kind *kind) {
    tok_pattern_kind k = TOK_PAT_NONE;
    const char *p = NULL;
    if (!strcmp(name, "gpt2") || !strcmp(name, "r50k_base") || !strcmp(name, "p50k_base")) {
        k = TOK_PAT_GPT2;
        p = pat_gpt2;
    } else if (!strcmp(name, "cl100k_base")) {
        k = TOK_PAT_CL100K;
        p = pat_cl100k;
    } else if (!strcmp(name, "o200k_base")) {
        k = TOK_PAT_O200K;
        p = pat_o200k;
    }
    if (kind) *kind = k;
    return p;
}

/* The tiktoken/HF spelling of a named pattern (written into tokenizer.json). */
const char *tok_pattern_public_text(tok_pattern_kind k);
const char *tok_pattern_public_text(tok_pattern_kind k) {
    switch (k) {
    case TOK_PAT_GPT2: return known_texts[0].text;
    case TOK_PAT_CL100K: return known_texts[3].text;
    case TOK_PAT_O200K: return known_texts[4].text;
    default: return NULL;
    }
}

int tok_set_pattern(tok_tokenizer *t, const char *pattern, lmc_err *err) {
    tok_pattern_kind kind = TOK_PAT_CUSTOM;
    const char *named = tok_pattern_by_name(pattern, &kind);
    if (!named) {
        kind = TOK_PAT_CUSTOM;
        for (size_t i = 0; i < sizeof known_texts / sizeof known_texts[0]; i++)
            if (!strcmp(pattern, known_texts[i].text)) {
                kind = known_texts[i].kind;
                named = kind == TOK_PAT_GPT2 ? pat_gpt2 : kind == TOK_PAT_CL100K ? pat_cl100k : pat_o200k;
            }
    }
    const char *src = named ? named : pattern;
    int ec;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_NO_UTF_CHECK, &ec, &eoff,
                                   NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return lmc_errf(err, LMC_EINVAL, "pattern: at offset %zu: %s", (size_t)eoff, (const char *)msg);
    }
    /* JIT is an optimisation: without it (an unsupported CPU) matching is slower but the same. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    char *copy = strdup(named ? (tok_pattern_public_text(kind) ? tok_pattern_public_text(kind) : named) : pattern);
    if (!copy) {
        pcre2_code_free(re);
        return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    if (t->re) pcre2_code_free(t->re);
    free(t->pattern);
    t->re = re;
    t->pattern = copy;
    t->pat_kind = kind;
    return 0;
}

size_t tok_utf8_valid_prefix(const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        /* Fast path: 8 ASCII bytes at a time. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) { k = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) k = 2;
        else if (c == 0xED) { k = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) k = 2;
        else if (c == 0xF0) { k = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else if (c == 0xF4) { k = 3; hi = 0x8F; }
        else return i;
        if (i + k >= n) return i; /* truncated sequence */
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t j = 2; j <= k; j++)
            if (p[i + j] < 0x80 || p[i + j] > 0xBF) return i;
        i += k + 1;
    }
    return n;
}
