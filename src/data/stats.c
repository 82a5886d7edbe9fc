/* Corpus statistics: documents, bytes, characters, words (white-space split), lines, a log2 histogram of
 * document lengths in bytes, the script mix of letters, and the duplicate-line rate (non-empty lines
 * whose exact text was already seen anywhere earlier in the corpus). The duplicate-line rate needs a set
 * of 64-bit line hashes: 16 bytes per distinct line, the only memory that grows with the corpus. */
#include "data/data.h"
#include "data/hashtab.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

enum { SCRIPT_LATIN, SCRIPT_CYRILLIC, SCRIPT_GREEK, SCRIPT_ARABIC, SCRIPT_HEBREW, SCRIPT_DEVANAGARI,
       SCRIPT_CJK, SCRIPT_KANA, SCRIPT_HANGUL, SCRIPT_THAI, SCRIPT_OTHER_LETTER, SCRIPT_DIGIT, SCRIPT_PUNCT,
       SCRIPT_SPACE, SCRIPT_OTHER, NSCRIPTS };
static const char *const script_names[NSCRIPTS] = {"latin", "cyrillic", "greek", "arabic", "hebrew",
    "devanagari", "cjk", "kana", "hangul", "thai", "other_letters", "digits", "punctuation", "whitespace", "other"};

#define NHIST 40

struct data_stats {
    uint64_t docs, bytes, chars, words, lines, nonempty_lines, dup_lines, min_bytes, max_bytes;
    uint64_t hist[NHIST];
    uint64_t script[NSCRIPTS];
    data_ht seen;
};

data_stats *data_stats_new(lmc_err *err) {
    data_stats *s = calloc(1, sizeof *s);
    if (!s || data_ht_reset(&s->seen, 1024) < 0) {
        free(s);
        lmc_errf(err, LMC_ENOMEM, "out of memory");
        return NULL;
    }
    s->min_bytes = UINT64_MAX;
    return s;
}

void data_stats_free(data_stats *s) {
    if (!s) return;
    data_ht_free(&s->seen);
    free(s);
}

static int script_of(uint32_t c) {
    if (data_is_space(c)) return SCRIPT_SPACE;
    if (c < 0x80) {
        if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return SCRIPT_LATIN;
        if (c >= '0' && c <= '9') return SCRIPT_DIGIT;
        return data_is_punct(c) ? SCRIPT_PUNCT : SCRIPT_OTHER;
    }
    if (c <= 0x24F || (c >= 0x1E00 && c <= 0x1EFF)) return data_is_alpha(c) ? SCRIPT_LATIN : SCRIPT_OTHER;
    if (c >= 0x370 && c <= 0x3FF) return SCRIPT_GREEK;
    if (c >= 0x400 && c <= 0x52F) return SCRIPT_CYRILLIC;
    if (c >= 0x590 && c <= 0x5FF) return SCRIPT_HEBREW;
    if (c >= 0x600 && c <= 0x6FF) return SCRIPT_ARABIC;
    if (c >= 0x900 && c <= 0x97F) return SCRIPT_DEVANAGARI;
    if (c >= 0xE00 && c <= 0xE7F) return SCRIPT_THAI;
    if ((c >= 0x3040 && c <= 0x30FF)) return SCRIPT_KANA;
    if ((c >= 0xAC00 && c <= 0xD7A3) || (c >= 0x1100 && c <= 0x11FF)) return SCRIPT_HANGUL;
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2FFFF))
        return SCRIPT_CJK;
    if (data_is_punct(c) || (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F)) return SCRIPT_PUNCT;
    if (data_is_alpha(c)) return SCRIPT_OTHER_LETTER;
    return SCRIPT_OTHER;
}

static int seen_grow(data_ht *h) {
    data_ht bigger = {0};
    if (data_ht_reset(&bigger, h->cap) < 0) return -1;  /* reset sizes to 2x the expected count */
    for (size_t i = 0; i < h->cap; i++)
        if (data_ht_used(h, &h->s[i])) data_ht_add(&bigger, h->s[i].key, h->s[i].first);
    data_ht_free(h);
    *h = bigger;
    return 0;
}

int data_stats_add(data_stats *s, const char *t, size_t n, lmc_err *err) {
    s->docs++;
    s->bytes += n;
    if (n < s->min_bytes) s->min_bytes = n;
    if (n > s->max_bytes) s->max_bytes = n;
    int b = 0;
    while (b + 1 < NHIST && ((uint64_t)1 << (b + 1)) <= n) b++;
    s->hist[n == 0 ? 0 : b]++;
    size_t i = 0, line_start = 0;
    int inword = 0;
    while (i <= n) {
        if (i == n || t[i] == '\n') {
            size_t a = line_start, e = i;
            while (a < e && (t[a] == ' ' || t[a] == '\t' || t[a] == '\r')) a++;
            while (e > a && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\r')) e--;
            if (i < n || i > line_start) s->lines++;
            if (e > a) {
                s->nonempty_lines++;
                if (s->seen.n * 2 + 2 > s->seen.cap && seen_grow(&s->seen) < 0)
                    return lmc_errf(err, LMC_ENOMEM, "out of memory (duplicate-line set)");
                data_ht_slot *sl = data_ht_add(&s->seen, XXH3_64bits(t + a, e - a), 0);
                if (sl->count > 1) s->dup_lines++;
            }
            if (i == n) break;
            line_start = i + 1;
        }
        size_t k = i;
        uint32_t c = (unsigned char)t[i] < 0x80 ? (uint32_t)(unsigned char)t[k++] : data_utf8_next(t, n, &k);
        s->chars++;
        int sc = script_of(c);
        s->script[sc]++;
        if (sc == SCRIPT_SPACE) inword = 0;
        else if (!inword) { inword = 1; s->words++; }
        i = k;
    }
    return 0;
}

json_t *data_stats_json(const data_stats *s) {
    json_t *o = json_object();
    json_object_set_new(o, "documents", json_integer((json_int_t)s->docs));
    json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(o, "characters", json_integer((json_int_t)s->chars));
    json_object_set_new(o, "words", json_integer((json_int_t)s->words));
    json_object_set_new(o, "lines", json_integer((json_int_t)s->lines));
    json_object_set_new(o, "nonempty_lines", json_integer((json_int_t)s->nonempty_lines));
    json_object_set_new(o, "duplicate_lines", json_integer((json_int_t)s->dup_lines));
    json_object_set_new(o, "duplicate_line_rate",
                        json_real(s->nonempty_lines ? (double)s->dup_lines / (double)s->nonempty_lines : 0.0));
    json_object_set_new(o, "min_doc_bytes", json_integer((json_int_t)(s->docs ? s->min_bytes : 0)));
    json_object_set_new(o, "max_doc_bytes", json_integer((json_int_t)s->max_bytes));
    json_object_set_new(o, "mean_doc_bytes", json_real(s->docs ? (double)s->bytes / (double)s->docs : 0.0));
    json_t *h = json_array();
    for (int b = 0; b < NHIST; b++) {
        if (!s->hist[b]) continue;
        json_t *e = json_object();
        json_object_set_new(e, "min_bytes", json_integer(b == 0 ? 0 : (json_int_t)1 << b));
        json_object_set_new(e, "max_bytes", json_integer(((json_int_t)1 << (b + 1)) - 1));
        json_object_set_new(e, "documents", json_integer((json_int_t)s->hist[b]));
        json_array_append_new(h, e);
    }
    json_object_set_new(o, "length_histogram", h);
    json_t *sm = json_object();
    for (int k = 0; k < NSCRIPTS; k++)
        json_object_set_new(sm, script_names[k], json_real(s->chars ? (double)s->script[k] / (double)s->chars : 0.0));
    json_object_set_new(o, "script_mix", sm);
    json_object_set_new(o, "duplicate_line_index_bytes", json_integer((json_int_t)(s->seen.cap * sizeof(data_ht_slot))));
    return o;
}

void data_stats_print(const data_stats *s, FILE *out) {
    char b1[32], b2[32];
    fprintf(out, "documents           %llu\n", (unsigned long long)s->docs);
    fprintf(out, "bytes               %llu (%s)\n", (unsigned long long)s->bytes, lmc_fmt_bytes(b1, sizeof b1, (double)s->bytes));
    fprintf(out, "characters          %llu\n", (unsigned long long)s->chars);
    fprintf(out, "words               %llu (%s)\n", (unsigned long long)s->words, lmc_fmt_count(b2, sizeof b2, (double)s->words));
    fprintf(out, "lines               %llu (%llu non-empty)\n", (unsigned long long)s->lines,
            (unsigned long long)s->nonempty_lines);
    fprintf(out, "duplicate lines     %llu (%.2f%% of non-empty lines)\n", (unsigned long long)s->dup_lines,
            s->nonempty_lines ? 100.0 * (double)s->dup_lines / (double)s->nonempty_lines : 0.0);
    fprintf(out, "doc bytes           min %llu, mean %.1f, max %llu\n", (unsigned long long)(s->docs ? s->min_bytes : 0),
            s->docs ? (double)s->bytes / (double)s->docs : 0.0, (unsigned long long)s->max_bytes);
    fprintf(out, "length histogram (bytes):\n");
    uint64_t mx = 1;
    for (int b = 0; b < NHIST; b++) if (s->hist[b] > mx) mx = s->hist[b];
    for (int b = 0; b < NHIST; b++) {
        if (!s->hist[b]) continue;
        int bar = (int)(40.0 * (double)s->hist[b] / (double)mx);
        fprintf(out, "  %10llu-%-10llu %10llu ", (unsigned long long)(b == 0 ? 0 : 1ULL << b),
                (unsigned long long)((1ULL << (b + 1)) - 1), (unsigned long long)s->hist[b]);
        for (int k = 0; k < bar; k++) fputc('#', out);
        fputc('\n', out);
    }
    fprintf(out, "script mix (share of characters):\n");
    for (int k = 0; k < NSCRIPTS; k++)
        if (s->script[k]) fprintf(out, "  %-14s %6.2f%%\n", script_names[k], 100.0 * (double)s->script[k] / (double)s->chars);
}
