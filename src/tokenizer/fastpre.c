/* An exact fast path for the three named patterns on ASCII text.
 *
 * tok_fast_match(kind, p, n, i) returns the end of the regex match that starts at i, or 0 when it
 * cannot decide from ASCII bytes alone: the match (or the one character of look-ahead it needs)
 * reaches a byte >= 0x80, which may be a letter, digit, mark or space in Unicode. The caller then
 * asks PCRE2 for that one match. Every piece boundary depends only on its start, so the two mix
 * freely; test_pretok_fast checks the result equals PCRE2 alone on random mixed text.
 *
 * ASCII classes: L = [A-Za-z] (Lu = [A-Z], Ll = [a-z]; no Lt/Lm/Lo/M), N = [0-9],
 * S = [\t\n\v\f\r ], P = everything else below 0x80. */
#include <pthread.h>
#include "tokenizer/tok_internal.h"

enum { C_P = 0, C_U, C_LO, C_N, C_S, C_NL, C_HI };

/* Class of byte: C_NL is \r or \n (also in S). C_HI = non-ASCII. */
static unsigned char cls[256];
static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

static void init_cls(void) {
    for (int b = 0; b < 256; b++) {
        unsigned char c = C_P;
        if (b >= 0x80) c = C_HI;
        else if (b >= 'A' && b <= 'Z') c = C_U;
        else if (b >= 'a' && b <= 'z') c = C_LO;
        else if (b >= '0' && b <= '9') c = C_N;
        else if (b == '\r' || b == '\n') c = C_NL;
        else if (b == ' ' || (b >= 9 && b <= 13)) c = C_S;
        cls[b] = c;
    }
}

#define CL(i) ((i) < n ? cls[p[i]] : 255) /* 255 = end of subject */
#define IS_L(c) ((c) == C_U || (c) == C_LO)
#define IS_S(c) ((c) == C_S || (c) == C_NL)

/* Length of the contraction at p[i] ('s 't 'm 'd 're 've 'll), 0 if none, -1 if undecidable.
 * ci: case-insensitive (only s has a non-ASCII case variant, U+017F, hence the -1). */
static int contraction(const uint8_t *p, size_t n, size_t i, int ci) {
    if (i >= n || p[i] != '\'') return 0;
    if (i + 1 >= n) return 0;
    uint8_t a = p[i + 1];
    if (a >= 0x80) return ci ? -1 : 0;
    if (ci) a |= 0x20;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 >= n) return 0;
    uint8_t b = p[i + 2];
    if (ci && b < 0x80) b |= 0x20;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* Run of bytes of one class set from i; *hi set when it stopped at a non-ASCII byte. */
static size_t run(const uint8_t *p, size_t n, size_t i, int want1, int want2, int *hi) {
    while (i < n) {
        unsigned char c = cls[p[i]];
        if (c != want1 && c != want2) break;
        i++;
    }
    *hi = i < n && cls[p[i]] == C_HI;
    return i;
}

/* Whitespace at i (all three patterns): returns end or 0. nl_rule: 1 = cl100k/o200k's newline
 * alternatives, end_first: cl100k's \s++$ comes before the newline alternative. */
static size_t whitespace(const uint8_t *p, size_t n, size_t i, int kind) {
    int hi;
    size_t e = run(p, n, i, C_S, C_NL, &hi);
    if (hi) return 0;
    size_t r = e - i;
    if (kind == TOK_PAT_GPT2 || kind == TOK_PAT_CL100K)
        if (e == n) return e; /* \s++$ */
    if (kind != TOK_PAT_GPT2) {
        size_t last = 0;
        for (size_t k = e; k > i; k--)
            if (cls[p[k - 1]] == C_NL) {
                last = k;
                break;
            }
        if (last) return last; /* \s*[\r\n] (cl100k), \s*[\r\n]+ (o200k) */
    }
    if (e == n) return e;      /* \s+(?!\S) at the end (o200k) */
    if (r >= 2) return e - 1;  /* \s+(?!\S) */
    return i + 1;              /* \s / \s+ */
}

static size_t gpt2(const uint8_t *p, size_t n, size_t i) {
    int c = CL(i), hi;
    if (c == C_HI) return 0;
    if (p[i] == '\'') {
        int k = contraction(p, n, i, 0);
        if (k > 0) return i + (size_t)k;
    }
    size_t j = i;
    int d = c;
    if (p[i] == ' ') {
        d = CL(i + 1);
        if (d == C_HI) return 0;
        if (IS_L(d) || d == C_N || d == C_P) j = i + 1;
    }
    if (IS_L(d)) {
        size_t e = run(p, n, j, C_U, C_LO, &hi);
        return hi ? 0 : e;
    }
    if (d == C_N) {
        size_t e = run(p, n, j, C_N, C_N, &hi);
        return hi ? 0 : e;
    }
    if (d == C_P) {
        size_t e = run(p, n, j, C_P, C_P, &hi);
        return hi ? 0 : e;
    }
    return whitespace(p, n, i, TOK_PAT_GPT2);
}

static size_t cl100k(const uint8_t *p, size_t n, size_t i) {
    int c = CL(i), hi;
    if (c == C_HI) return 0;
    if (p[i] == '\'') {
        int k = contraction(p, n, i, 1);
        if (k < 0) return 0;
        if (k > 0) return i + (size_t)k;
    }
    /* [^\r\n\p{L}\p{N}]?+\p{L}++ */
    if (IS_L(c)) {
        size_t e = run(p, n, i, C_U, C_LO, &hi);
        return hi ? 0 : e;
    }
    if (c == C_P || c == C_S) {
        int d = CL(i + 1);
        if (d == C_HI) return 0;
        if (IS_L(d)) {
            size_t e = run(p, n, i + 1, C_U, C_LO, &hi);
            return hi ? 0 : e;
        }
    }
    /* \p{N}{1,3}+ */
    if (c == C_N) {
        size_t e = i;
        while (e < n && e < i + 3 && cls[p[e]] == C_N) e++;
        if (e < i + 3 && e < n && cls[p[e]] == C_HI) return 0;
        return e;
    }
    /*  ?[^\s\p{L}\p{N}]++[\r\n]*+ */
    size_t j = i;
    if (p[i] == ' ' && CL(i + 1) == C_P) j = i + 1;
    if (CL(j) == C_P) {
        size_t e = run(p, n, j, C_P, C_P, &hi);
        if (hi) return 0;
        while (e < n && cls[p[e]] == C_NL) e++;
        return e;
    }
    return whitespace(p, n, i, TOK_PAT_CL100K);
}

static size_t o200k(const uint8_t *p, size_t n, size_t i) {
    int c = CL(i), hi;
    if (c == C_HI) return 0;
    /* A1/A2: prefix? Lu* Ll+ / prefix? Lu+ Ll*, then an optional contraction */
    size_t j = i;
    if (c == C_P || c == C_S) {
        int d = CL(i + 1);
        if (d == C_HI) return 0;
        if (IS_L(d)) j = i + 1;
    }
    if (IS_L(CL(j))) {
        size_t u = run(p, n, j, C_U, C_U, &hi);
        if (hi) return 0;
        size_t l = run(p, n, u, C_LO, C_LO, &hi);
        if (hi) return 0;
        /* Lu* Ll+ needs a lowercase after the capitals; otherwise Lu+ Ll* with no lowercase. */
        int k = contraction(p, n, l, 1);
        if (k < 0) return 0;
        return l + (size_t)k;
    }
    /* \p{N}{1,3} */
    if (c == C_N) {
        size_t e = i;
        while (e < n && e < i + 3 && cls[p[e]] == C_N) e++;
        if (e < i + 3 && e < n && cls[p[e]] == C_HI) return 0;
        return e;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n/]* */
    j = i;
    if (p[i] == ' ' && CL(i + 1) == C_P) j = i + 1;
    else if (p[i] == ' ' && CL(i + 1) == C_HI) return 0;
    if (CL(j) == C_P) {
        size_t e = run(p, n, j, C_P, C_P, &hi);
        if (hi) return 0;
        while (e < n && (cls[p[e]] == C_NL || p[e] == '/')) e++;
        return e;
    }
    return whitespace(p, n, i, TOK_PAT_O200K);
}

void tok_fast_init(void) { pthread_once(&cls_once, init_cls); }

size_t tok_fast_match(int kind, const uint8_t *p, size_t n, size_t i) {
    switch (kind) {
    case TOK_PAT_GPT2: return gpt2(p, n, i);
    case TOK_PAT_CL100K: return cl100k(p, n, i);
    case TOK_PAT_O200K: return o200k(p, n, i);
    default: return 0;
    }
}
