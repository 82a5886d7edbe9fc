/* Heuristic quality filters with the published thresholds: Gopher quality and Gopher repetition
 * (Rae et al. 2021, Table A1), C4 (Raffel et al. 2020) and FineWeb's own filters, with the defaults of
 * datatrove 0.10 (the FineWeb pipeline). Each rule works on the document as datatrove sees it: lengths
 * in code points, words from an NLTK-like tokenizer (data_split_words), lines as Python splits them.
 * A threshold of 0 disables its rule (as in datatrove, where a falsy value skips the check).
 *
 * Differences from datatrove, on purpose: C4 decides keep/drop only; it does not rewrite the text of
 * kept documents (lmc keeps documents byte-for-byte), and its sentence count is a punctuation-based
 * count instead of NLTK's punkt model. */
#include "data/data.h"
#include "data/hashtab.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct data_filter_scratch {
    data_words words;
    uint64_t *wh;        /* word hashes */
    size_t wh_cap;
    data_ht ht;
    lmc_buf line;
    int have_words;      /* words/wh hold this document's words */
    data_words lwords;   /* words of one line (C4 sentence count) */
};

data_filter_scratch *data_filter_scratch_new(void) { return calloc(1, sizeof(data_filter_scratch)); }

void data_filter_scratch_free(data_filter_scratch *s) {
    if (!s) return;
    data_words_free(&s->words);
    data_words_free(&s->lwords);
    free(s->wh);
    data_ht_free(&s->ht);
    lmc_buf_free(&s->line);
    free(s);
}

void data_filter_cfg_default(data_filter_cfg *c, unsigned rulesets) {
    memset(c, 0, sizeof *c);
    c->rulesets = rulesets;
    c->gq_min_doc_words = 50;
    c->gq_max_doc_words = 100000;
    c->gq_min_avg_word_length = 3;
    c->gq_max_avg_word_length = 10;
    c->gq_max_symbol_word_ratio = 0.1;
    c->gq_max_bullet_lines_ratio = 0.9;
    c->gq_max_ellipsis_lines_ratio = 0.3;
    c->gq_min_alpha_words_ratio = 0.8;
    c->gq_min_stop_words = 2;
    c->gr_dup_line_frac = 0.3;
    c->gr_dup_para_frac = 0.3;
    c->gr_dup_line_char_frac = 0.2;
    c->gr_dup_para_char_frac = 0.2;
    c->gr_top_ngram_frac[2] = 0.20;
    c->gr_top_ngram_frac[3] = 0.18;
    c->gr_top_ngram_frac[4] = 0.16;
    for (int n = 5; n <= 10; n++) c->gr_dup_ngram_frac[n] = 0.15 - 0.01 * (n - 5);
    c->c4_min_num_sentences = 5;
    c->c4_min_words_per_line = 3;
    c->c4_max_word_length = 1000;
    c->c4_filter_no_terminal_punct = 1;
    c->c4_remove_citations = 1;
    c->c4_filter_lorem_ipsum = 1;
    c->c4_filter_javascript = 1;
    c->c4_filter_curly_bracket = 1;
    c->c4_filter_policy = 1;
    c->fw_line_punct_thr = 0.12;
    c->fw_short_line_thr = 0.67;
    c->fw_short_line_length = 30;
    c->fw_char_duplicates_ratio = 0.01;
    c->fw_new_line_ratio = 0.3;
    c->fw_line_punct_exclude_zero = 0;
}

static const struct { const char *name; unsigned bit; } rulesets[] = {
    {"gopher-quality", DATA_RULESET_GOPHER_QUALITY},
    {"gopher-repetition", DATA_RULESET_GOPHER_REP},
    {"c4", DATA_RULESET_C4},
    {"fineweb", DATA_RULESET_FINEWEB},
};

int data_filter_parse_rulesets(const char *list, unsigned *out, lmc_err *err) {
    *out = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (size_t i = 0; i < sizeof rulesets / sizeof rulesets[0]; i++)
            if (strlen(rulesets[i].name) == n && strncmp(rulesets[i].name, p, n) == 0) {
                *out |= rulesets[i].bit;
                found = 1;
            }
        if (!found && n > 0)
            return lmc_errf(err, LMC_EINVAL, "unknown rule set '%.*s' (expected gopher-quality, gopher-repetition, "
                            "c4, fineweb)", (int)n, p);
        p += n;
        if (*p == ',') p++;
    }
    if (!*out) return lmc_errf(err, LMC_EINVAL, "no rule set given");
    return 0;
}

/* The settable parameters: "<ruleset>.<name>" -> field. */
typedef struct param {
    const char *set, *name;
    size_t off;
    int is_int;
} param;

#define PD(set, name, field) {set, name, offsetof(data_filter_cfg, field), 0}
#define PI(set, name, field) {set, name, offsetof(data_filter_cfg, field), 1}
static const param params[] = {
    PD("gopher-quality", "min_doc_words", gq_min_doc_words),
    PD("gopher-quality", "max_doc_words", gq_max_doc_words),
    PD("gopher-quality", "min_avg_word_length", gq_min_avg_word_length),
    PD("gopher-quality", "max_avg_word_length", gq_max_avg_word_length),
    PD("gopher-quality", "max_symbol_word_ratio", gq_max_symbol_word_ratio),
    PD("gopher-quality", "max_bullet_lines_ratio", gq_max_bullet_lines_ratio),
    PD("gopher-quality", "max_ellipsis_lines_ratio", gq_max_ellipsis_lines_ratio),
    PD("gopher-quality", "min_alpha_words_ratio", gq_min_alpha_words_ratio),
    PD("gopher-quality", "min_stop_words", gq_min_stop_words),
    PD("gopher-repetition", "dup_line_frac", gr_dup_line_frac),
    PD("gopher-repetition", "dup_para_frac", gr_dup_para_frac),
    PD("gopher-repetition", "dup_line_char_frac", gr_dup_line_char_frac),
    PD("gopher-repetition", "dup_para_char_frac", gr_dup_para_char_frac),
    PD("gopher-repetition", "top_2_gram", gr_top_ngram_frac[2]),
    PD("gopher-repetition", "top_3_gram", gr_top_ngram_frac[3]),
    PD("gopher-repetition", "top_4_gram", gr_top_ngram_frac[4]),
    PD("gopher-repetition", "dup_5_gram", gr_dup_ngram_frac[5]),
    PD("gopher-repetition", "dup_6_gram", gr_dup_ngram_frac[6]),
    PD("gopher-repetition", "dup_7_gram", gr_dup_ngram_frac[7]),
    PD("gopher-repetition", "dup_8_gram", gr_dup_ngram_frac[8]),
    PD("gopher-repetition", "dup_9_gram", gr_dup_ngram_frac[9]),
    PD("gopher-repetition", "dup_10_gram", gr_dup_ngram_frac[10]),
    PD("c4", "min_num_sentences", c4_min_num_sentences),
    PD("c4", "min_words_per_line", c4_min_words_per_line),
    PD("c4", "max_word_length", c4_max_word_length),
    PI("c4", "filter_no_terminal_punct", c4_filter_no_terminal_punct),
    PI("c4", "remove_citations", c4_remove_citations),
    PI("c4", "filter_lorem_ipsum", c4_filter_lorem_ipsum),
    PI("c4", "filter_javascript", c4_filter_javascript),
    PI("c4", "filter_curly_bracket", c4_filter_curly_bracket),
    PI("c4", "filter_policy", c4_filter_policy),
    PD("fineweb", "line_punct_thr", fw_line_punct_thr),
    PI("fineweb", "line_punct_exclude_zero", fw_line_punct_exclude_zero),
    PD("fineweb", "short_line_thr", fw_short_line_thr),
    PD("fineweb", "short_line_length", fw_short_line_length),
    PD("fineweb", "char_duplicates_ratio", fw_char_duplicates_ratio),
    PD("fineweb", "new_line_ratio", fw_new_line_ratio),
};
#define NPARAMS (sizeof params / sizeof params[0])

int data_filter_set(data_filter_cfg *c, const char *a, lmc_err *err) {
    const char *eq = strchr(a, '='), *dot = strchr(a, '.');
    if (!eq || !dot || dot > eq)
        return lmc_errf(err, LMC_EINVAL, "--set '%s': expected RULESET.PARAM=VALUE", a);
    for (size_t i = 0; i < NPARAMS; i++) {
        const param *p = &params[i];
        size_t ls = strlen(p->set), ln = strlen(p->name);
        if ((size_t)(dot - a) != ls || strncmp(a, p->set, ls) || (size_t)(eq - dot - 1) != ln ||
            strncmp(dot + 1, p->name, ln))
            continue;
        char *end;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || !isfinite(v) || v < 0)
            return lmc_errf(err, LMC_EINVAL, "--set '%s': value must be a non-negative number", a);
        if (p->is_int) {
            if (v != 0 && v != 1) return lmc_errf(err, LMC_EINVAL, "--set '%s': value must be 0 or 1", a);
            *(int *)((char *)c + p->off) = (int)v;
        } else {
            *(double *)((char *)c + p->off) = v;
        }
        return 0;
    }
    return lmc_errf(err, LMC_EINVAL, "--set '%s': unknown parameter (see `lmc data filter --help`)", a);
}

json_t *data_filter_cfg_json(const data_filter_cfg *c) {
    json_t *o = json_object();
    for (size_t r = 0; r < sizeof rulesets / sizeof rulesets[0]; r++) {
        if (!(c->rulesets & rulesets[r].bit)) continue;
        json_t *s = json_object();
        for (size_t i = 0; i < NPARAMS; i++) {
            const param *p = &params[i];
            if (strcmp(p->set, rulesets[r].name)) continue;
            if (p->is_int) json_object_set_new(s, p->name, json_boolean(*(const int *)((const char *)c + p->off)));
            else json_object_set_new(s, p->name, json_real(*(const double *)((const char *)c + p->off)));
        }
        json_object_set_new(o, rulesets[r].name, s);
    }
    if (c->nscore) {
        static const char *const ops[] = {">=", ">", "<=", "<", "=="};
        json_t *a = json_array();
        for (int i = 0; i < c->nscore; i++)
            json_array_append_new(a, json_pack("{s:s,s:s,s:f}", "field", c->score[i].field, "op", ops[c->score[i].op],
                                               "value", c->score[i].value));
        json_object_set_new(o, "score", a);
    }
    return o;
}

/* ---------------------------------------------------------------------------------------------- */

/* Python's str.count for a non-overlapping ASCII/UTF-8 pattern. */
static size_t count_sub(const char *s, size_t n, const char *pat, size_t pn) {
    size_t c = 0;
    const char *p = s, *e = s + n;
    while ((size_t)(e - p) >= pn) {
        const char *q = memmem(p, (size_t)(e - p), pat, pn);
        if (!q) break;
        c++;
        p = q + pn;
    }
    return c;
}

/* Python's str.splitlines() separators at s[i]; returns the separator's byte length (0 = none). */
static size_t line_break_at(const char *s, size_t n, size_t i) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E)) return 1;
    if (c == '\r') return (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85) return 2;
    if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9))
        return 3;
    return 0;
}

/* Iterate Python splitlines(): next line [*a, *b); returns 0 at the end. */
static int next_splitline(const char *s, size_t n, size_t *pos, size_t *a, size_t *b) {
    if (*pos >= n) return 0;
    size_t i = *pos;
    while (i < n) {
        size_t k = line_break_at(s, n, i);
        if (k) {
            *a = *pos;
            *b = i;
            *pos = i + k;
            return 1;
        }
        i++;
    }
    *a = *pos;
    *b = n;
    *pos = n;
    return 1;
}

/* Trim Python white space from both ends of [a, b). */
static void strip_range(const char *s, size_t *a, size_t *b) {
    while (*a < *b) {
        size_t k = *a;
        uint32_t c = data_utf8_next(s, *b, &k);
        if (!data_is_space(c)) break;
        *a = k;
    }
    while (*b > *a) {
        size_t k = *b - 1;
        while (k > *a && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        size_t k2 = k;
        uint32_t c = data_utf8_next(s, *b, &k2);
        if (!data_is_space(c)) break;
        *b = k;
    }
}

static int starts_with(const char *s, size_t a, size_t b, const char *p) {
    size_t n = strlen(p);
    return b - a >= n && memcmp(s + a, p, n) == 0;
}
static int ends_with_r(const char *s, size_t a, size_t b, const char *p) {
    size_t n = strlen(p);
    return b - a >= n && memcmp(s + b - n, p, n) == 0;
}

static int word_is_symbol(const char *s, const data_word *w) {
    size_t i = w->off, e = w->off + w->len;
    while (i < e) {
        uint32_t c = data_utf8_next(s, e, &i);
        if (!data_is_punct(c)) return 0;
    }
    return 1;
}

static int word_has_alpha(const char *s, const data_word *w) {
    size_t i = w->off, e = w->off + w->len;
    while (i < e) {
        uint32_t c = data_utf8_next(s, e, &i);
        if (data_is_alpha(c)) return 1;
    }
    return 0;
}

static int split_words_cached(data_filter_scratch *sc, const char *t, size_t n, int *have) {
    if (*have) return 0;
    if (data_split_words(t, n, &sc->words, NULL) < 0) return -1;
    if (sc->words.n > sc->wh_cap) {
        free(sc->wh);
        sc->wh_cap = sc->words.n * 2;
        sc->wh = malloc(sc->wh_cap * sizeof *sc->wh);
        if (!sc->wh) { sc->wh_cap = 0; return -1; }
    }
    for (size_t i = 0; i < sc->words.n; i++)
        sc->wh[i] = XXH3_64bits(t + sc->words.w[i].off, sc->words.w[i].len);
    *have = 1;
    return 0;
}

static const char *gopher_quality(const data_filter_cfg *c, const char *t, size_t n, data_filter_scratch *sc) {
    const data_words *W = &sc->words;
    size_t nw = W->n, nsym = 0, nonsym_chars = 0, nalpha = 0;
    for (size_t i = 0; i < nw; i++) {
        if (word_is_symbol(t, &W->w[i])) nsym++;
        else nonsym_chars += W->w[i].nchars;
        if (word_has_alpha(t, &W->w[i])) nalpha++;
    }
    size_t nonsym = nw - nsym;
    if (c->gq_min_doc_words && (double)nonsym < c->gq_min_doc_words) return "gopher-quality/short_doc";
    if (c->gq_max_doc_words && (double)nonsym > c->gq_max_doc_words) return "gopher-quality/long_doc";
    if (nw == 0) return "gopher-quality/short_doc";
    if (nonsym > 0) {
        double avg = (double)nonsym_chars / (double)nonsym;
        if (c->gq_min_avg_word_length && avg < c->gq_min_avg_word_length) return "gopher-quality/below_avg_word_length";
        if (c->gq_max_avg_word_length && avg > c->gq_max_avg_word_length) return "gopher-quality/above_avg_word_length";
    }
    if (c->gq_max_symbol_word_ratio) {
        if ((double)count_sub(t, n, "#", 1) / (double)nw > c->gq_max_symbol_word_ratio)
            return "gopher-quality/too_many_hashes";
        size_t ell = count_sub(t, n, "...", 3) + count_sub(t, n, "\xE2\x80\xA6", 3);
        if ((double)ell / (double)nw > c->gq_max_symbol_word_ratio) return "gopher-quality/too_many_ellipsis";
    }
    if (c->gq_max_bullet_lines_ratio || c->gq_max_ellipsis_lines_ratio) {
        size_t pos = 0, a, b, nl = 0, bullets = 0, ellipsis = 0;
        while (next_splitline(t, n, &pos, &a, &b)) {
            nl++;
            size_t sa = a, sb = b;
            strip_range(t, &sa, &sb);
            if (starts_with(t, sa, sb, "\xE2\x80\xA2") || starts_with(t, sa, sb, "-")) bullets++;
            if (ends_with_r(t, sa, sb, "...") || ends_with_r(t, sa, sb, "\xE2\x80\xA6")) ellipsis++;
        }
        if (nl == 0) nl = 1;
        if (c->gq_max_bullet_lines_ratio && (double)bullets / (double)nl > c->gq_max_bullet_lines_ratio)
            return "gopher-quality/too_many_bullets";
        if (c->gq_max_ellipsis_lines_ratio && (double)ellipsis / (double)nl > c->gq_max_ellipsis_lines_ratio)
            return "gopher-quality/too_many_end_ellipsis";
    }
    if (c->gq_min_alpha_words_ratio && (double)nalpha / (double)nw < c->gq_min_alpha_words_ratio)
        return "gopher-quality/below_alpha_threshold";
    if (c->gq_min_stop_words) {
        static const char *const stop[] = {"the", "be", "to", "of", "and", "that", "have", "with"};
        unsigned seen = 0;
        for (size_t i = 0; i < nw; i++) {
            const data_word *w = &W->w[i];
            if (w->len > 4 || w->len < 2) continue;
            for (unsigned k = 0; k < 8; k++)
                if (strlen(stop[k]) == w->len && memcmp(stop[k], t + w->off, w->len) == 0) seen |= 1u << k;
        }
        if ((double)__builtin_popcount(seen) < c->gq_min_stop_words) return "gopher-quality/not_enough_stop_words";
    }
    return NULL;
}

/* Duplicate elements and their characters over pieces [a_i, b_i) of text (first occurrence is not a
 * duplicate), like datatrove's find_duplicates. */
typedef struct dupcount { size_t elems, dups, dup_chars; } dupcount;

static int add_piece(data_ht *h, const char *t, size_t a, size_t b, dupcount *d) {
    data_ht_slot *s = data_ht_add(h, XXH3_64bits(t + a, b - a), 0);
    d->elems++;
    if (s->count > 1) {
        d->dups++;
        d->dup_chars += data_utf8_count(t + a, b - a);
    }
    return 0;
}

static uint64_t ngram_hash(const uint64_t *wh, size_t i, int nn) {
    uint64_t h = 0x9E3779B97F4A7C15ULL * (uint64_t)nn;
    for (int k = 0; k < nn; k++) h = data_mix64(h ^ wh[i + k]) + (uint64_t)k;
    return h;
}

static const char *gopher_repetition(const data_filter_cfg *c, const char *t, size_t n, data_filter_scratch *sc) {
    if (n == 0) return "gopher-repetition/empty";
    double nchars = (double)data_utf8_count(t, n);
    data_ht *h = &sc->ht;
    /* paragraphs: re.split(r"\n{2,}", text.strip()) */
    {
        size_t a = 0, b = n;
        strip_range(t, &a, &b);
        size_t npieces = 1;
        for (size_t i = a; i + 1 < b; i++) npieces += t[i] == '\n' && t[i + 1] == '\n';
        if (data_ht_reset(h, npieces) < 0) return "oom";
        dupcount d = {0, 0, 0};
        size_t start = a, i = a;
        while (i < b) {
            if (t[i] == '\n' && i + 1 < b && t[i + 1] == '\n') {
                add_piece(h, t, start, i, &d);
                while (i < b && t[i] == '\n') i++;
                start = i;
            } else {
                i++;
            }
        }
        add_piece(h, t, start, b, &d);
        if (c->gr_dup_para_frac && (double)d.dups / (double)d.elems > c->gr_dup_para_frac)
            return "gopher-repetition/dup_para_frac";
        if (c->gr_dup_para_char_frac && (double)d.dup_chars / nchars > c->gr_dup_para_char_frac)
            return "gopher-repetition/dup_para_char_frac";
    }
    /* lines: re.split("\n+", text) */
    {
        size_t npieces = 1;
        for (size_t i = 0; i < n; i++) npieces += t[i] == '\n';
        if (data_ht_reset(h, npieces) < 0) return "oom";
        dupcount d = {0, 0, 0};
        size_t start = 0, i = 0;
        while (i < n) {
            if (t[i] == '\n') {
                add_piece(h, t, start, i, &d);
                while (i < n && t[i] == '\n') i++;
                start = i;
            } else {
                i++;
            }
        }
        add_piece(h, t, start, n, &d);
        if (c->gr_dup_line_frac && (double)d.dups / (double)d.elems > c->gr_dup_line_frac)
            return "gopher-repetition/dup_line_frac";
        if (c->gr_dup_line_char_frac && (double)d.dup_chars / nchars > c->gr_dup_line_char_frac)
            return "gopher-repetition/dup_line_char_frac";
    }
    const data_words *W = &sc->words;
    size_t nw = W->n;
    static const char *const top_names[] = {"", "", "gopher-repetition/top_2_gram", "gopher-repetition/top_3_gram",
                                            "gopher-repetition/top_4_gram"};
    for (int nn = 2; nn <= 4; nn++) {
        if (!c->gr_top_ngram_frac[nn] || nw < (size_t)nn) continue;
        size_t ng = nw - (size_t)nn + 1;
        if (data_ht_reset(h, ng) < 0) return "oom";
        /* most_common(1): highest count, ties to the n-gram seen first */
        uint32_t best_count = 0, best_first = 0;
        for (size_t i = 0; i < ng; i++) {
            const data_ht_slot *s = data_ht_add(h, ngram_hash(sc->wh, i, nn), (uint32_t)i);
            if (s->count > best_count || (s->count == best_count && s->first < best_first)) {
                best_count = s->count;
                best_first = s->first;
            }
        }
        size_t len = (size_t)nn - 1;
        for (int k = 0; k < nn; k++) len += W->w[best_first + (size_t)k].nchars;
        if ((double)len * best_count / nchars > c->gr_top_ngram_frac[nn]) return top_names[nn];
    }
    static const char *const dup_names[] = {"", "", "", "", "", "gopher-repetition/duplicated_5_n_grams",
                                            "gopher-repetition/duplicated_6_n_grams",
                                            "gopher-repetition/duplicated_7_n_grams",
                                            "gopher-repetition/duplicated_8_n_grams",
                                            "gopher-repetition/duplicated_9_n_grams",
                                            "gopher-repetition/duplicated_10_n_grams"};
    for (int nn = 5; nn <= 10; nn++) {
        if (!c->gr_dup_ngram_frac[nn] || nw < (size_t)nn) continue;
        size_t ng = nw - (size_t)nn + 1;
        if (data_ht_reset(h, ng) < 0) return "oom";
        size_t rep = 0, i = 0;
        while (i < ng) {
            data_ht_slot *s = data_ht_add(h, ngram_hash(sc->wh, i, nn), (uint32_t)i);
            if (s->count > 1) {
                for (int k = 0; k < nn; k++) rep += W->w[i + (size_t)k].nchars;
                s->count = 1;  /* a set: membership only */
                i += (size_t)nn;
            } else {
                i++;
            }
        }
        if ((double)rep / nchars > c->gr_dup_ngram_frac[nn]) return dup_names[nn];
    }
    return NULL;
}

/* ASCII case-insensitive substring search (patterns are lowercase ASCII). */
static int contains_ci(const char *s, size_t n, const char *pat) {
    size_t pn = strlen(pat);
    if (pn > n) return 0;
    for (size_t i = 0; i + pn <= n; i++) {
        if ((s[i] | 0x20) != pat[0]) continue;
        size_t k = 1;
        while (k < pn) {
            char ch = s[i + k];
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
            if (ch != pat[k]) break;
            k++;
        }
        if (k == pn) return 1;
    }
    return 0;
}

/* Sentence count of a line as spaCy's sentencizer (datatrove's English splitter) finds it: a new
 * sentence starts at the first non-punctuation token after a token that is exactly ".", "!" or "?"
 * (or a CJK full stop / question / exclamation mark). Tokens come from data_split_words. */
static size_t count_sentences(const char *s, size_t n, data_words *w) {
    if (data_split_words(s, n, w, NULL) < 0 || w->n == 0) return w->n ? 1 : 0;
    size_t cnt = 1;
    int seen = 0;
    for (size_t i = 0; i < w->n; i++) {
        const char *t = s + w->w[i].off;
        size_t len = w->w[i].len;
        int stop = (len == 1 && (t[0] == '.' || t[0] == '!' || t[0] == '?')) ||
                   (len == 3 && (!memcmp(t, "\xE3\x80\x82", 3) || !memcmp(t, "\xEF\xBC\x9F", 3) ||
                                 !memcmp(t, "\xEF\xBC\x81", 3)));
        if (stop) { seen = 1; continue; }
        if (!seen) continue;
        int punct = 1;
        for (size_t k = 0; k < len && punct;) {
            uint32_t c = data_utf8_next(t, len, &k);
            punct = data_is_punct(c);
        }
        if (!punct) { cnt++; seen = 0; }
    }
    return cnt;
}

/* Remove [digits], [edit], [citation needed] into out. */
static int remove_citations(const char *s, size_t n, lmc_buf *out) {
    out->len = 0;
    if (lmc_buf_reserve(out, n + 1, NULL) < 0) return -1;
    size_t i = 0;
    while (i < n) {
        if (s[i] == '[') {
            size_t j = i + 1;
            while (j < n && s[j] >= '0' && s[j] <= '9') j++;
            if (j < n && s[j] == ']') { i = j + 1; continue; }
            if (n - i >= 6 && memcmp(s + i, "[edit]", 6) == 0) { i += 6; continue; }
            if (n - i >= 17 && memcmp(s + i, "[citation needed]", 17) == 0) { i += 17; continue; }
        }
        out->data[out->len++] = s[i++];
    }
    return 0;
}

static const char *c4(const data_filter_cfg *c, const char *t, size_t n, data_filter_scratch *sc) {
    static const char *const policy[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies",
                                         "use of cookies", "use cookies"};
    size_t pos = 0, a, b, sentences = 0;
    while (next_splitline(t, n, &pos, &a, &b)) {
        strip_range(t, &a, &b);
        /* words = line.split() */
        size_t nwords = 0, i = a;
        int too_long = 0;
        while (i < b) {
            while (i < b) { size_t k = i; if (!data_is_space(data_utf8_next(t, b, &k))) break; i = k; }
            if (i >= b) break;
            size_t ws = i, wc = 0;
            while (i < b) { size_t k = i; if (data_is_space(data_utf8_next(t, b, &k))) break; i = k; wc++; }
            (void)ws;
            nwords++;
            if (c->c4_max_word_length && (double)wc > c->c4_max_word_length) too_long = 1;
        }
        if (too_long) continue;
        const char *l = t + a;
        size_t ln = b - a;
        if (c->c4_remove_citations) {
            if (remove_citations(t + a, b - a, &sc->line) < 0) return "oom";
            l = sc->line.data;
            ln = sc->line.len;
        }
        if (c->c4_filter_no_terminal_punct) {
            int end_ok = ln > 0 && (l[ln - 1] == '.' || l[ln - 1] == '?' || l[ln - 1] == '!' || l[ln - 1] == '"' ||
                                    l[ln - 1] == '\'');
            if (!end_ok || (ln >= 3 && memcmp(l + ln - 3, "...", 3) == 0)) continue;
        }
        if ((double)nwords < c->c4_min_words_per_line) continue;
        if (c->c4_filter_lorem_ipsum && contains_ci(l, ln, "lorem ipsum")) return "c4/lorem_ipsum";
        if (c->c4_filter_javascript && contains_ci(l, ln, "javascript")) continue;
        if (c->c4_filter_curly_bracket && memchr(l, '{', ln)) return "c4/curly_bracket";
        if (c->c4_filter_policy) {
            int hit = 0;
            for (size_t k = 0; k < 6 && !hit; k++) hit = contains_ci(l, ln, policy[k]);
            if (hit) continue;
        }
        sentences += count_sentences(l, ln, &sc->lwords);
    }
    if ((double)sentences < c->c4_min_num_sentences) return "c4/too_few_sentences";
    return NULL;
}

static const char *fineweb(const data_filter_cfg *c, const char *t, size_t n, data_filter_scratch *sc) {
    data_ht *h = &sc->ht;
    size_t nlines_all = 1;
    for (const char *q = t, *e = t + n; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++) nlines_all++;
    if (data_ht_reset(h, nlines_all) < 0) return "oom";
    size_t nl = 0, punct = 0, shortl = 0, dup_chars = 0, start = 0;
    while (start <= n) {
        const char *e = start < n ? memchr(t + start, '\n', n - start) : NULL;
        size_t i = e ? (size_t)(e - t) : n;
        size_t a = start, b = i, sa = a, sb = b;
        start = i + 1;
        strip_range(t, &sa, &sb);
        if (sa == sb) continue;  /* blank lines are ignored */
        nl++;
        if (b > a) {
            size_t k = b - 1;
            while (k > a && ((unsigned char)t[k] & 0xC0) == 0x80) k--;
            size_t k2 = k;
            if (data_is_terminal(data_utf8_next(t, b, &k2))) punct++;
        }
        size_t len = data_utf8_count(t + a, b - a);
        if ((double)len <= c->fw_short_line_length) shortl++;
        data_ht_slot *s = data_ht_add(h, XXH3_64bits(t + a, b - a), 0);
        if (s->count > 1) dup_chars += len;
    }
    if (nl == 0) return "fineweb/empty";
    double r = (double)punct / (double)nl;
    if (r < c->fw_line_punct_thr && !(r == 0 && c->fw_line_punct_exclude_zero)) return "fineweb/line_punct_ratio";
    if (c->fw_short_line_thr && (double)shortl / (double)nl > c->fw_short_line_thr) return "fineweb/short_line_ratio";
    size_t non_nl = data_utf8_count(t, n) - (nlines_all - 1);
    if (c->fw_char_duplicates_ratio && non_nl > 0 && (double)dup_chars / (double)non_nl > c->fw_char_duplicates_ratio)
        return "fineweb/char_dup_ratio";
    if (c->fw_new_line_ratio) {
        int have = 0;  /* words only now: most documents that fail, fail before this rule */
        if (!sc->have_words && split_words_cached(sc, t, n, &have) < 0) return "oom";
        size_t nw = sc->words.n;
        if (nw == 0 || (double)(nlines_all - 1) / (double)nw > c->fw_new_line_ratio) return "fineweb/list_ratio";
    }
    return NULL;
}

const char *data_filter_doc(const data_filter_cfg *c, const char *text, size_t len, data_filter_scratch *sc) {
    int have = 0;
    const char *r;
    sc->have_words = 0;
    if (c->rulesets & (DATA_RULESET_GOPHER_REP | DATA_RULESET_GOPHER_QUALITY)) {
        if (split_words_cached(sc, text, len, &have) < 0) return "oom";
        sc->have_words = 1;
    }
    if ((c->rulesets & DATA_RULESET_GOPHER_REP) && (r = gopher_repetition(c, text, len, sc))) return r;
    if ((c->rulesets & DATA_RULESET_GOPHER_QUALITY) && (r = gopher_quality(c, text, len, sc))) return r;
    if ((c->rulesets & DATA_RULESET_C4) && (r = c4(c, text, len, sc))) return r;
    if ((c->rulesets & DATA_RULESET_FINEWEB) && (r = fineweb(c, text, len, sc))) return r;
    return NULL;
}
