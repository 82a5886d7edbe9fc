/* Exact-substring dedup (Lee et al. 2022, "Deduplicating Training Data Makes Language Models Better",
 * ExactSubstr): the text of every document, joined with 0xFF separators (a byte UTF-8 never contains), gets
 * a suffix array (libdivsufsort); byte spans of at least min_len bytes that occur more than once are found
 * from it and cut out of the documents.
 *
 * keep_first (default): a span is removed only where it already occurred earlier in the corpus, so the
 * first occurrence stays: the longest previous factor LPF[p] (Crochemore & Ilie 2008) of every position p
 * is computed from the suffix array and LCP in one stack pass, and [p, p + LPF[p]) is removed when
 * LPF[p] >= min_len. Without keep_first, every occurrence is removed, as Lee et al.'s tool does: a
 * position is covered by [p, p + max(LCP with its two suffix-array neighbours)).
 *
 * Memory: the text (1 byte per input byte), the suffix array (4) and one more int32 array that holds the
 * PLCP and then the LPF in place (4): 9 bytes per input byte; the stack of the LPF pass lives in the part
 * of the suffix array already consumed. 32-bit indices: at most 2^31 - 1 bytes per run. */
#include "data/data.h"

#include <divsufsort.h>
#include <stdlib.h>
#include <string.h>

#define SEP 0xFF

/* PLCP by Kärkkäinen, Manzini and Puglisi's Phi method (2009): phi[SA[i]] = SA[i-1], then
 * plcp[p] = lcp(p, phi[p]) computed in increasing p, each step starting from the last value - 1. The
 * comparison stops at a separator, so no match crosses a document boundary. In place over phi. */
static void plcp_in_place(const uint8_t *s, int32_t n, const int32_t *sa, int32_t *a) {
    if (n == 0) return;
    a[sa[0]] = -1;
    for (int32_t i = 1; i < n; i++) a[sa[i]] = sa[i - 1];
    int32_t h = 0;
    for (int32_t p = 0; p < n; p++) {
        int32_t q = a[p];
        if (q < 0) { a[p] = h = 0; continue; }
        while (p + h < n && q + h < n && s[p + h] == s[q + h] && s[p + h] != SEP) h++;
        a[p] = h;
        if (h > 0) h--;
    }
}

int data_substr_spans(const uint8_t *s, int32_t n, int32_t min_len, int keep_first, data_span **out, size_t *nout,
                      lmc_err *err) {
    *out = NULL;
    *nout = 0;
    if (n < 0) return lmc_errf(err, LMC_EINVAL, "substring dedup: negative length");
    if (min_len < 1) return lmc_errf(err, LMC_EINVAL, "substring dedup: --min-len must be >= 1");
    int32_t *sa = malloc((size_t)(n ? n : 1) * sizeof *sa), *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    if (!sa || !a) {
        free(sa);
        free(a);
        return lmc_errf(err, LMC_ENOMEM, "substring dedup: out of memory for the suffix array (%d bytes need %.1f GB)",
                        n, 9.0 * n / 1e9);
    }
    if (n > 0 && divsufsort(s, sa, n) != 0) {
        free(sa);
        free(a);
        return lmc_errf(err, LMC_EIO, "substring dedup: divsufsort failed");
    }
    plcp_in_place(s, n, sa, a);
    if (keep_first) {
        /* LPF: pop every suffix whose position is larger than the current one; its nearest smaller
         * positions in suffix order are the entry below it on the stack (lcp kept in a[] once its PLCP
         * is consumed) and the current suffix (lcp h). The stack overwrites sa[0..top], already read. */
        int32_t top = -1;
        for (int32_t i = 0; i <= n; i++) {
            int32_t pos = i < n ? sa[i] : -1;
            int32_t h = i < n ? a[pos] : 0;  /* lcp(SA[i-1], SA[i]) = PLCP[SA[i]] */
            if (i == 0) h = 0;
            while (top >= 0 && sa[top] > pos) {
                int32_t t = sa[top--], left = a[t];
                a[t] = left > h ? left : h;   /* LPF[t] */
                if (left < h) h = left;      /* lcp(below, current) */
            }
            if (i == n) break;
            sa[++top] = pos;
            a[pos] = top == 0 ? 0 : h;       /* lcp with the entry below (none: 0) */
        }
    } else {
        /* every occurrence: a position's reach is the longer lcp with its two suffix-array neighbours */
        int32_t prev = 0;  /* lcp(SA[i-1], SA[i]) */
        for (int32_t i = 0; i < n; i++) {
            int32_t next = i + 1 < n ? a[sa[i + 1]] : 0;
            int32_t cur = i == 0 ? 0 : prev;
            prev = next;
            a[sa[i]] = cur > next ? cur : next;
        }
    }
    free(sa);
    /* sweep in position order: a span runs while p is inside the farthest reach of the starts so far */
    size_t cap = 0;
    int32_t start = -1, end = 0;
    for (int32_t p = 0; p <= n; p++) {
        int32_t l = p < n ? a[p] : 0;
        /* p walks one by one, so it meets end exactly; a span starting there extends this one */
        if (start >= 0 && p >= end && (p == n || l < min_len)) {
            if (*nout == cap) {
                cap = cap ? cap * 2 : 64;
                data_span *q = realloc(*out, cap * sizeof *q);
                if (!q) { free(a); free(*out); *out = NULL; *nout = 0; return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
                *out = q;
            }
            (*out)[(*nout)++] = (data_span){(uint32_t)start, (uint32_t)end};
            start = -1;
        }
        if (p == n || l < min_len) continue;
        if (start < 0) { start = p; end = p + l; }
        else if (p + l > end) end = p + l;
    }
    free(a);
    return 0;
}
