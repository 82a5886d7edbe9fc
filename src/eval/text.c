/* Text helpers of src/eval: Python's notion of whitespace and length, WikiText articles and the
 * harness's wikitext detokenizer. */
#include "eval/eval.h"
#include "eval/text_internal.h"
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include "base/mem.h"

/* Python's str.isspace for one code point (what re's \s and str.strip use). */
int lmc_py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

/* Decode the code point before position `end` (UTF-8); *start gets its first byte. Invalid = one byte. */
uint32_t lmc_cp_before(const char *s, size_t end, size_t *start) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = end - 1;
    int k = 0;
    while (i > 0 && k < 3 && (u[i] & 0xC0) == 0x80) { i--; k++; }
    unsigned char c = u[i];
    int need = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (need != k || need < 0) { *start = end - 1; return u[end - 1]; }
    uint32_t cp = need == 0 ? c : need == 1 ? (c & 0x1F) : need == 2 ? (c & 0x0F) : (c & 0x07);
    for (size_t j = i + 1; j < end; j++) cp = (cp << 6) | (u[j] & 0x3F);
    *start = i;
    return cp;
}

/* Decode the code point at s[i] (n bytes left); *len gets its length. Invalid = one byte. */
uint32_t lmc_cp_at(const char *s, size_t i, size_t n, size_t *len) {
    const unsigned char *u = (const unsigned char *)s + i;
    unsigned char c = u[0];
    int need = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    *len = 1;
    if (need <= 0 || (size_t)need > n - i - 1) return c;
    uint32_t cp = need == 1 ? (c & 0x1F) : need == 2 ? (c & 0x0F) : (c & 0x07);
    for (int j = 1; j <= need; j++) {
        if ((u[j] & 0xC0) != 0x80) return c;
        cp = (cp << 6) | (u[j] & 0x3F);
    }
    *len = (size_t)need + 1;
    return cp;
}

uint64_t lmc_eval_count_words(const char *text, size_t len) {
    uint64_t runs = 0;
    int in = 0;
    for (size_t i = 0; i < len;) {
        size_t l;
        uint32_t c = lmc_cp_at(text, i, len, &l);
        int sp = lmc_py_space(c);
        if (sp && !in) runs++;
        in = sp;
        i += l;
    }
    return runs + 1;
}

uint64_t lmc_eval_count_chars(const char *text, size_t len) {
    uint64_t n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t l;
        (void)lmc_cp_at(text, i, len, &l);
        i += l;
    }
    return n;
}


/* Python str.replace(a, b): non-overlapping, left to right. Takes *s (malloc'd), replaces it. */
static int str_replace(char **s, size_t *n, const char *a, const char *b, lmc_err *err) {
    size_t la = strlen(a), lb = strlen(b);
    if (!strstr(*s, a)) return 0;
    lmc_buf o = {0};
    const char *p = *s, *end = *s + *n;
    while (p < end) {
        const char *q = strstr(p, a);
        if (!q) q = end;
        if (lmc_buf_append(&o, p, (size_t)(q - p), err)) { lmc_buf_free(&o); return -1; }
        if (q == end) break;
        if (lmc_buf_append(&o, b, lb, err)) { lmc_buf_free(&o); return -1; }
        p = q + la;
    }
    if (lmc_buf_append(&o, "", 1, err)) { lmc_buf_free(&o); return -1; }
    free(*s);
    *s = o.data;
    *n = o.len - 1;
    return 0;
}

/* re.sub(pattern, replacement, s) with PCRE2 (UTF + UCP, so \s is Unicode whitespace as in Python). */
static int re_sub(char **s, size_t *n, const char *pattern, const char *repl, lmc_err *err) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
                                   &ec, &eo, NULL);
    if (!re) return lmc_errf(err, LMC_EINVAL, "detokenizer pattern %s does not compile", pattern);
    PCRE2_SIZE cap = *n * 2 + 64;
    int rc = 0;
    for (;;) {
        char *out = malloc(cap + 1);
        if (!out) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); break; }
        PCRE2_SIZE olen = cap;
        int r = pcre2_substitute(re, (PCRE2_SPTR)*s, *n, 0, PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                                 PCRE2_NO_UTF_CHECK, NULL, NULL, (PCRE2_SPTR)repl, PCRE2_ZERO_TERMINATED,
                                 (PCRE2_UCHAR *)out, &olen);
        if (r == PCRE2_ERROR_NOMEMORY) { free(out); cap = olen; continue; }
        if (r < 0) { free(out); rc = lmc_errf(err, LMC_EFORMAT, "detokenizer: pattern %s failed (%d)", pattern, r); break; }
        out[olen] = 0;
        free(*s);
        *s = out;
        *n = olen;
        break;
    }
    pcre2_code_free(re);
    return rc;
}

int lmc_wikitext_detok(const char *text, size_t len, char **out, size_t *out_len, lmc_err *err) {
    /* the harness's lm_eval/tasks/wikitext/preprocess_wikitext.py, step for step */
    static const char *const steps[][3] = {
        {"s", "s '", "s'"},
        {"r", "/' [0-9]/", "/'[0-9]/"},
        {"s", " @-@ ", "-"}, {"s", " @,@ ", ","}, {"s", " @.@ ", "."},
        {"s", " : ", ": "}, {"s", " ; ", "; "}, {"s", " . ", ". "}, {"s", " ! ", "! "}, {"s", " ? ", "? "},
        {"s", " , ", ", "},
        {"r", "\\(\\s*([^\\)]*?)\\s*\\)", "($1)"},
        {"r", "\\[\\s*([^\\]]*?)\\s*\\]", "[$1]"},
        {"r", "\\{\\s*([^}]*?)\\s*\\}", "{$1}"},
        {"r", "\"\\s*([^\"]*?)\\s*\"", "\"$1\""},
        {"r", "'\\s*([^']*?)\\s*'", "'$1'"},
        {"s", "= = = =", "===="}, {"s", "= = =", "==="}, {"s", "= =", "=="},
        {"s", " \xc2\xb0 ", "\xc2\xb0"},
        {"s", " \n", "\n"}, {"s", "\n ", "\n"}, {"s", " N ", " 1 "}, {"s", " 's", "'s"},
    };
    size_t n = len;
    char *s = malloc(len + 1);
    if (!s) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    memcpy(s, text, len);
    s[len] = 0;
    if (memchr(s, 0, len)) { free(s); return lmc_errf(err, LMC_EFORMAT, "a NUL byte in the text"); }
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc = steps[i][0][0] == 's' ? str_replace(&s, &n, steps[i][1], steps[i][2], err)
                                       : re_sub(&s, &n, steps[i][1], steps[i][2], err);
        if (rc) { free(s); return -1; }
    }
    *out = s;
    *out_len = n;
    return 0;
}

/* Is this line an article title ("= Title =" once "= =" / "= = =" are closed up and it is stripped)? */
static int is_title(const char *line, size_t len, lmc_err *err, int *yes) {
    char *s = malloc(len + 1);
    if (!s) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    memcpy(s, line, len);
    s[len] = 0;
    size_t n = len;
    if (str_replace(&s, &n, "= = =", "===", err) || str_replace(&s, &n, "= =", "==", err)) { free(s); return -1; }
    size_t a = 0, b = n;
    while (a < b) {
        size_t l;
        uint32_t c = lmc_cp_at(s, a, b, &l);
        if (!lmc_py_space(c)) break;
        a += l;
    }
    while (b > a) {
        size_t st;
        uint32_t c = lmc_cp_before(s, b, &st);
        if (!lmc_py_space(c) || st < a) break;
        b = st;
    }
    *yes = b - a >= 2 && s[a] == '=' && s[a + 1] == ' ' && s[b - 1] == '=' && s[b - 2] == ' ';
    /* "= =" alone: startswith("= ") and endswith(" =") overlap; Python accepts it too (len 3) */
    free(s);
    return 0;
}

int lmc_wikitext_split(const char *text, size_t len, size_t **spans, size_t *n, lmc_err *err) {
    size_t cap = 64, k = 0;
    size_t *sp = malloc(2 * cap * sizeof *sp);
    if (!sp) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    size_t page = 0; /* start of the current page */
    int empty_page = 1; /* ret == [] */
    for (size_t i = 0;;) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        int title = 0;
        if (is_title(text + i, j - i, err, &title)) { free(sp); return -1; }
        if (title) {
            /* page = "\n".join(ret): lines [page, i - 1) */
            if (!empty_page) {
                size_t pl = i - 1 - page;
                int blank = 1;
                for (size_t q = page; q < page + pl; q++) {
                    size_t l;
                    if (!lmc_py_space(lmc_cp_at(text, q, page + pl, &l))) { blank = 0; break; }
                    q += l - 1;
                }
                if (!blank) {
                    if (k == cap) {
                        size_t *p2 = realloc(sp, 4 * cap * sizeof *sp);
                        if (!p2) { free(sp); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
                        sp = p2;
                        cap *= 2;
                    }
                    sp[2 * k] = page;
                    sp[2 * k + 1] = pl;
                    k++;
                }
            }
            page = i;
        }
        empty_page = 0;
        if (j >= len) break;
        i = j + 1;
    }
    /* the last page, always */
    if (k == cap) {
        size_t *p2 = realloc(sp, 4 * cap * sizeof *sp);
        if (!p2) { free(sp); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
        sp = p2;
    }
    sp[2 * k] = page;
    sp[2 * k + 1] = len - page;
    k++;
    *spans = sp;
    *n = k;
    return 0;
}
