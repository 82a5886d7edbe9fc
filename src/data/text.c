/* Text analysis shared by the data stages: UTF-8, character classes, NLTK-like word splitting and
 * datatrove's simplify_text. Character classes follow Python's str methods (which datatrove uses),
 * with tables limited to what matters for web text: see data_is_alpha and data_lower. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

#include "data/punct_table.inc"

int data_utf8_valid(const char *s, size_t n, size_t *bad_off) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) { i++; continue; }
        size_t need;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; cp = c & 0x07; min = 0x10000; }
        else goto bad;
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= n || (p[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += need + 1;
        continue;
    bad:
        if (bad_off) *bad_off = i;
        return 0;
    }
    return 1;
}

uint32_t data_utf8_next(const char *s, size_t n, size_t *i) {
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i;
    unsigned c = p[k];
    if (c < 0x80) { *i = k + 1; return c; }
    if (c >= 0xC2 && c <= 0xDF && k + 1 < n) { *i = k + 2; return ((c & 0x1Fu) << 6) | (p[k + 1] & 0x3Fu); }
    if (c >= 0xE0 && c <= 0xEF && k + 2 < n) {
        *i = k + 3;
        return ((c & 0x0Fu) << 12) | ((p[k + 1] & 0x3Fu) << 6) | (p[k + 2] & 0x3Fu);
    }
    if (c >= 0xF0 && c <= 0xF4 && k + 3 < n) {
        *i = k + 4;
        return ((c & 0x07u) << 18) | ((p[k + 1] & 0x3Fu) << 12) | ((p[k + 2] & 0x3Fu) << 6) | (p[k + 3] & 0x3Fu);
    }
    *i = k + 1;
    return 0xFFFD;
}

size_t data_utf8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

int data_is_space(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static int in_sorted(const uint32_t *a, size_t n, uint32_t c) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == c;
}

/* ASCII fast path: a 128-bit map built once from the table. */
static uint64_t punct_ascii[2];
static int punct_ascii_ready;

static void punct_ascii_init(void) {
    uint64_t m[2] = {0, 0};
    for (size_t i = 0; i < sizeof data_punct_cps / sizeof data_punct_cps[0]; i++)
        if (data_punct_cps[i] < 128) m[data_punct_cps[i] >> 6] |= 1ull << (data_punct_cps[i] & 63);
    punct_ascii[0] = m[0];
    punct_ascii[1] = m[1];
    __atomic_store_n(&punct_ascii_ready, 1, __ATOMIC_RELEASE);
}

int data_is_punct(uint32_t c) {
    if (c < 128) {
        if (!__atomic_load_n(&punct_ascii_ready, __ATOMIC_ACQUIRE)) punct_ascii_init();
        return (int)((punct_ascii[c >> 6] >> (c & 63)) & 1);
    }
    return in_sorted(data_punct_cps, sizeof data_punct_cps / sizeof data_punct_cps[0], c);
}

int data_is_terminal(uint32_t c) {
    if (c < 128) return c == '.' || c == '!' || c == '?';
    return in_sorted(data_terminal_cps, sizeof data_terminal_cps / sizeof data_terminal_cps[0], c);
}

/* Letters: ASCII letters, Latin-1/Extended letters, and the letter blocks of the common scripts.
 * Symbols, digits, punctuation and emoji blocks are excluded. This approximates str.isalpha without a
 * full Unicode database; the blocks listed cover the scripts in web crawls. */
int data_is_alpha(uint32_t c) {
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c <= 0x24F) return c != 0xD7 && c != 0xF7;
    if (c <= 0x2AF) return 1;                                   /* IPA */
    if (c >= 0x370 && c <= 0x3FF) return c != 0x37E && c != 0x387 && c != 0x375 && c != 0x3F6;
    if (c >= 0x400 && c <= 0x52F) return !(c >= 0x482 && c <= 0x489);
    if (c >= 0x531 && c <= 0x587) return 1;                     /* Armenian */
    if (c >= 0x5D0 && c <= 0x5F2) return 1;                     /* Hebrew letters */
    if (c >= 0x620 && c <= 0x64A) return 1;                     /* Arabic letters */
    if (c >= 0x671 && c <= 0x6D3) return 1;
    if (c >= 0x900 && c <= 0xDFF) {                             /* Indic: letters, not digits/marks */
        uint32_t o = c & 0x7F;
        return o >= 0x05 && o <= 0x39 && !(o >= 0x66 && o <= 0x6F);
    }
    if (c >= 0xE01 && c <= 0xE30) return 1;                     /* Thai */
    if (c >= 0x10A0 && c <= 0x10FF) return 1;                   /* Georgian */
    if (c >= 0x1100 && c <= 0x11FF) return 1;                   /* Hangul Jamo */
    if (c >= 0x1E00 && c <= 0x1FFF) return 1;                   /* Latin ext additional, Greek ext */
    if (c >= 0x3041 && c <= 0x30FF) return c != 0x30FB && c != 0x30A0; /* kana */
    if (c >= 0x3400 && c <= 0x4DBF) return 1;                   /* CJK ext A */
    if (c >= 0x4E00 && c <= 0x9FFF) return 1;                   /* CJK */
    if (c >= 0xAC00 && c <= 0xD7A3) return 1;                   /* Hangul syllables */
    if (c >= 0xF900 && c <= 0xFAFF) return 1;
    if (c >= 0xFF21 && c <= 0xFF3A) return 1;                   /* fullwidth Latin */
    if (c >= 0xFF41 && c <= 0xFF5A) return 1;
    if (c >= 0x20000 && c <= 0x2FFFF) return 1;
    return 0;
}

uint32_t data_lower(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        /* Latin Extended-A: mostly upper/lower pairs (even = upper), shifted by one in 0x139..0x148
         * and 0x179..0x17E. */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
        if (c == 0x130) return 'i';
        if (c == 0x178) return 0xFF;
        if (c == 0x138 || c == 0x149 || c == 0x17F) return c;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  /* Greek */
    if (c >= 0x410 && c <= 0x42F) return c + 32;                  /* Cyrillic */
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x460 && c <= 0x4FF && !(c >= 0x482 && c <= 0x489)) {
        if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
        if (c == 0x4C0) return 0x4CF;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x1E00 && c <= 0x1EFF) return (c & 1) ? c : c + 1;
    if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
    return c;
}

/* Base letter of a precomposed Latin letter with diacritics (NFD + drop Mn), 0 when none. */
static uint32_t strip_diacritic(uint32_t c) {
    static const char latin1[64] =
        "AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";
    if (c >= 0xC0 && c <= 0xFF) {
        char b = latin1[c - 0xC0];
        return b ? (uint32_t)(unsigned char)b : 0;
    }
    if (c >= 0x100 && c <= 0x17F) {
        static const char exta[129] =
            "AaAaAaCcCcCcCcDd\0\0EeEeEeEeEeGgGgGgGgHh\0\0IiIiIiIiI\0\0\0JjKk\0LlLlLl\0\0\0\0NnNnNn\0\0\0OoOoOo\0\0RrRrRrSsSsSsSsTtTt\0\0UuUuUuUuUuUuWwYyYZzZzZz\0";
        char b = exta[c - 0x100];
        return b ? (uint32_t)(unsigned char)b : 0;
    }
    return 0;
}

static int is_combining_mark(uint32_t c) {
    return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
           (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F);
}

/* Decimal digits (\p{Nd}) of the common scripts. */
static int is_digit_nd(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    if ((c >= 0x660 && c <= 0x669) || (c >= 0x6F0 && c <= 0x6F9) || (c >= 0x7C0 && c <= 0x7C9)) return 1;
    if (c >= 0x966 && c <= 0xDEF) return (c & 0x7F) >= 0x66 && (c & 0x7F) <= 0x6F;
    if ((c >= 0xE50 && c <= 0xE59) || (c >= 0xED0 && c <= 0xED9) || (c >= 0xF20 && c <= 0xF29)) return 1;
    if ((c >= 0x1040 && c <= 0x1049) || (c >= 0x17E0 && c <= 0x17E9) || (c >= 0xFF10 && c <= 0xFF19)) return 1;
    return 0;
}

static int is_decimal_sep(uint32_t c) {
    return c == '.' || c == ',' || c == 0x60C || c == 0x66B || c == 0x2396 || c == 0x2397 || c == 0x2398;
}


int data_simplify(const char *s, size_t n, int keep_numbers, lmc_buf *out, lmc_err *err) {
    out->len = 0;
    if (lmc_buf_reserve(out, n + 8, err) < 0) return -1;
    int pending_space = 0;  /* a space is owed before the next character (collapses runs, trims) */
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)s[i];
        uint32_t c;
        size_t start = i;
        if (ch < 0x80) { c = ch; i++; }
        else c = data_utf8_next(s, n, &i);
        c = data_lower(c);
        if (!keep_numbers && is_digit_nd(c)) {
            /* \p{Nd}+ ([sep] \p{Nd}+)? -> "0" */
            size_t j = i;
            while (j < n) { size_t k = j; uint32_t d = data_utf8_next(s, n, &k); if (!is_digit_nd(d)) break; j = k; }
            if (j < n) {
                size_t k = j;
                uint32_t sep = data_utf8_next(s, n, &k);
                if (is_decimal_sep(sep) && k < n) {
                    size_t k2 = k;
                    uint32_t d = data_utf8_next(s, n, &k2);
                    if (is_digit_nd(d)) {
                        j = k2;
                        while (j < n) { size_t k3 = j; uint32_t d2 = data_utf8_next(s, n, &k3); if (!is_digit_nd(d2)) break; j = k3; }
                    }
                }
            }
            i = j;
            c = '0';
        }
        (void)start;
        if (data_is_punct(c) || data_is_space(c)) {
            if (out->len > 0) pending_space = 1;
            continue;
        }
        if (is_combining_mark(c)) continue;
        uint32_t base = strip_diacritic(c);
        if (base) c = base;
        if (pending_space) {
            /* The output can outgrow n + 8: each invalid byte becomes a 3-byte U+FFFD. */
            if (out->len + 2 > out->cap && lmc_buf_reserve(out, 1, err) < 0) return -1;
            out->data[out->len++] = ' ';
            pending_space = 0;
        }
        if (c < 0x80) {
            if (out->len + 1 > out->cap && lmc_buf_reserve(out, 1, err) < 0) return -1;
            out->data[out->len++] = (char)c;
        } else if (lmc_buf_put_utf8(out, c, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- word splitting ---- */

static int push_word(data_words *w, size_t off, size_t len, size_t nchars, lmc_err *err) {
    if (len == 0) return 0;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 256;
        data_word *p = realloc(w->w, nc * sizeof *p);
        if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory splitting words");
        w->w = p;
        w->cap = nc;
    }
    w->w[w->n].off = (uint32_t)off;
    w->w[w->n].len = (uint32_t)len;
    w->w[w->n].nchars = (uint32_t)nchars;
    w->n++;
    return 0;
}

void data_words_free(data_words *w) {
    free(w->w);
    w->w = NULL;
    w->n = w->cap = 0;
}

/* Characters spaCy's English tokenizer (datatrove 0.10's English word splitter) splits off the front /
 * back of a token: its prefix/suffix punctuation, quotes and currency. */
static int is_open_punct(uint32_t c) {
    return c == '"' || c == '\'' || c == '(' || c == '[' || c == '{' || c == '<' || c == '`' || c == 0x201C ||
           c == 0x2018 || c == 0xAB || c == '$' || c == '#' || c == '&' || c == '%' || c == '*' || c == '_' ||
           c == 0xA3 || c == 0x20AC || c == 0xA7 || c == '=' || c == 0x2014 || c == 0x2013 || c == 0xBF ||
           c == 0xA1 || c == ',' || c == ':' || c == ';' || c == '!' || c == '?' || c == 0x201E;
}
static int is_close_punct(uint32_t c) {
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == '>' || c == ',' || c == ';' ||
           c == ':' || c == '!' || c == '?' || c == 0x201D || c == 0x2019 || c == 0xBB || c == '%' || c == '&' ||
           c == '#' || c == '*' || c == '_' || c == 0x2026 || c == 0x2014 || c == 0x2013 || c == 0x3002 ||
           c == 0xFF0C || c == 0xFF1F || c == 0xFF01;
}

static size_t prev_cp_start(const char *s, size_t lo, size_t i) {
    size_t k = i - 1;
    while (k > lo && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

static int ascii_lower(char c) { return c >= 'a' && c <= 'z'; }
static int ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int ascii_alpha(char c) { return ascii_lower(c) || ascii_upper(c); }

/* Is [a, b) (case-insensitive) one of the words spaCy's exceptions split 'll 're 've 'd 'm after? */
static int is_pronoun(const char *s, size_t a, size_t b) {
    static const char *const p[] = {"i", "you", "he", "she", "it", "we", "they", "who", "what", "that", "there",
                                    "here", "where", "how", "when", "why", "this", "these", "those", NULL};
    for (int k = 0; p[k]; k++) {
        size_t n = strlen(p[k]);
        if (b - a != n) continue;
        size_t j = 0;
        while (j < n && (s[a + j] | 0x20) == p[k][j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

/* Where a contraction suffix starts in [a, end) ('s always; n't; 'll 're 've 'd 'm after pronouns),
 * or end when there is none. ASCII ' or U+2019. */
static size_t contraction_at(const char *s, size_t a, size_t end) {
    static const char *const suf[] = {"s", "ll", "re", "ve", "d", "m", NULL};
    /* fast reject: every contraction has ' or U+2019 (last byte 0x99) within its last 6 bytes */
    {
        int q = 0;
        for (size_t i = end > a + 6 ? end - 6 : a; i < end && !q; i++) q = s[i] == '\'' || (unsigned char)s[i] == 0x99;
        if (!q) return end;
    }
    for (int k = 0; suf[k]; k++) {
        size_t n = strlen(suf[k]);
        for (int q = 0; q < 2; q++) {
            size_t ql = q ? 3 : 1;
            if (end - a < n + ql + 1) continue;
            size_t st = end - n - ql;
            if (q ? memcmp(s + st, "\xE2\x80\x99", 3) != 0 : s[st] != '\'') continue;
            size_t j = 0;
            while (j < n && (s[st + ql + j] | 0x20) == suf[k][j]) j++;
            if (j < n) continue;
            if (k == 0 || is_pronoun(s, a, st)) return st;
        }
    }
    /* n't after do/does/did/is/are/was/were/have/has/had/can/could/would/should/must/need/wo/ca/ai/sha */
    if (end - a >= 4 && s[end - 1] == 't' && s[end - 2] == '\'' && (s[end - 3] | 0x20) == 'n') return end - 3;
    return end;
}

static int emit_core(const char *s, size_t a, size_t b, data_words *out, lmc_err *err) {
    /* URLs stay whole (spaCy's URL match) */
    if (b - a > 4 && (memmem(s + a, b - a, "://", 3) || memmem(s + a, b - a, "www.", 4)))
        return push_word(out, a, b - a, data_utf8_count(s + a, b - a), err);
    /* infixes: a run of 1-3 hyphens between two ASCII letters ("well-known" -> 3 tokens), and an
     * ellipsis (2+ dots, or U+2026) between two characters ("x...y" -> 3 tokens) */
    size_t st = a;
    for (size_t i = a + 1; i + 1 < b; i++) {
        if (s[i] == '.' && s[i + 1] == '.') {
            size_t j = i;
            while (j < b && s[j] == '.') j++;
            if (j < b) {
                if (push_word(out, st, i - st, data_utf8_count(s + st, i - st), err) < 0) return -1;
                if (push_word(out, i, j - i, j - i, err) < 0) return -1;
                st = j;
            }
            i = j - 1;
            continue;
        }
        if ((unsigned char)s[i] == 0xE2 && i + 3 < b && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0xA6) {
            if (push_word(out, st, i - st, data_utf8_count(s + st, i - st), err) < 0) return -1;
            if (push_word(out, i, 3, 1, err) < 0) return -1;
            st = i + 3;
            i += 2;
            continue;
        }
        if (s[i] != '-' || !ascii_alpha(s[i - 1])) continue;
        size_t j = i;
        while (j < b && s[j] == '-' && j - i < 3) j++;
        if (j < b && ascii_alpha(s[j])) {
            if (push_word(out, st, i - st, data_utf8_count(s + st, i - st), err) < 0) return -1;
            if (push_word(out, i, j - i, j - i, err) < 0) return -1;
            st = j;
            i = j;
        }
    }
    return push_word(out, st, b - st, data_utf8_count(s + st, b - st), err);
}

/* Titles and abbreviations that keep their period (from spaCy's English exceptions). */
static int is_abbreviation(const char *s, size_t a, size_t b) {
    static const char *const ab[] = {"Dr", "Mr", "Mrs", "Ms", "St", "Jr", "Sr", "Prof", "Inc", "Ltd", "Co", "Corp",
                                     "vs", "etc", "Mt", "Gen", "Gov", "Sen", "Rep", "Rev", "Capt", "Col", "Lt", "Sgt",
                                     "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov",
                                     "Dec", "v", "Mass", "Calif", "Conn", "Fla", "Ill", "Wash", "Ala", "Ariz", "Ark",
                                     "Colo", "Del", "Ga", "Ind", "Kan", "Ky", "La", "Md", "Mich", "Minn", "Miss", "Mo",
                                     "Neb", "Nev", "Okla", "Ore", "Pa", "Tenn", "Va", "Wis", "e.g", "i.e", "a.m",
                                     "p.m", "viz", "cf", "approx", NULL};
    for (int k = 0; ab[k]; k++)
        if (strlen(ab[k]) == b - a && memcmp(ab[k], s + a, b - a) == 0) return 1;
    return 0;
}

/* Split one whitespace-delimited token [a, b). */
static int split_token(const char *s, size_t a, size_t b, data_words *out, lmc_err *err) {
    /* leading punctuation, one token per character; a bare contraction ("'s" after a space) stays whole */
    while (a < b) {
        size_t k = a;
        uint32_t c = data_utf8_next(s, b, &k);
        if (!is_open_punct(c) || k == b) break;
        if ((c == '\'' || c == 0x2019) && contraction_at(s, a > 0 ? a - 1 : a, b) == a && b - k <= 2) break;
        if (push_word(out, a, k - a, 1, err) < 0) return -1;
        a = k;
    }
    /* trailing punctuation, collected right to left, then emitted left to right */
    size_t tail[64];
    size_t ntail = 0, end = b;
    while (end > a && ntail < 62) {
        if (end - a > 2 && s[end - 1] == '.' && s[end - 2] == '.') {
            /* a trailing run of 2+ dots is one token */
            size_t k = end;
            while (k > a && s[k - 1] == '.') k--;
            if (k == a) break;
            tail[ntail++] = k;
            end = k;
            continue;
        }
        size_t k = prev_cp_start(s, a, end), k2 = k;
        uint32_t c = data_utf8_next(s, end, &k2);
        if (k == a) break;
        if (c == '.') {
            /* split a final period after a lowercase letter, digit, quote, bracket or % (spaCy), or after
             * two capitals; "D.C." and "U.S." keep theirs */
            char p = s[k - 1];
            int split = ascii_lower(p) || (p >= '0' && p <= '9') || p == '"' || p == '\'' || p == ')' || p == ']' ||
                        p == '%' || p == '+' || p == '*' || p == '-' || ((unsigned char)p & 0x80) ||
                        (ascii_upper(p) && k - 1 > a && ascii_upper(s[k - 2]));
            if (split && is_abbreviation(s, a, k)) split = 0;
            if (!split) break;
        } else if (!is_close_punct(c)) {
            break;
        }
        tail[ntail++] = k;
        end = k;
    }
    size_t contr = contraction_at(s, a, end);
    if (emit_core(s, a, contr, out, err) < 0) return -1;
    if (contr < end && push_word(out, contr, end - contr, data_utf8_count(s + contr, end - contr), err) < 0)
        return -1;
    for (size_t t = ntail; t-- > 0;) {
        size_t st = tail[t], en = t == 0 ? b : tail[t - 1];
        if (push_word(out, st, en - st, data_utf8_count(s + st, en - st), err) < 0) return -1;
    }
    return 0;
}

int data_split_words(const char *s, size_t n, data_words *out, lmc_err *err) {
    out->n = 0;
    size_t i = 0;
    while (i < n) {
        /* skip white space */
        while (i < n) {
            unsigned char ch = (unsigned char)s[i];
            if (ch < 0x80) {
                if (!data_is_space(ch)) break;
                i++;
            } else {
                size_t k = i;
                uint32_t c = data_utf8_next(s, n, &k);
                if (!data_is_space(c)) break;
                i = k;
            }
        }
        if (i >= n) break;
        size_t a = i;
        while (i < n) {
            unsigned char ch = (unsigned char)s[i];
            if (ch < 0x80) {
                if (data_is_space(ch)) break;
                i++;
            } else {
                size_t k = i;
                uint32_t c = data_utf8_next(s, n, &k);
                if (data_is_space(c)) break;
                i = k;
            }
        }
        if (split_token(s, a, i, out, err) < 0) return -1;
    }
    return 0;
}
