/* Tokenizer evaluation metrics: bytes per token, tokens per word, vocabulary utilisation and the
 * Shannon and Renyi efficiency of the unigram token distribution (Zouhar et al., "Tokenization and
 * the Noiseless Channel", ACL 2023): eff_alpha = H_alpha(p) / log |V|, with
 * H_alpha(p) = log(sum_t p_t^alpha) / (1 - alpha) (alpha = 1: Shannon entropy). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tokenizer/tokres.h"

int tok_eval_init(tok_eval_acc *a, uint32_t n_vocab, lmc_err *err) {
    memset(a, 0, sizeof *a);
    a->count = calloc(n_vocab ? n_vocab : 1, sizeof *a->count);
    if (!a->count) return lmc_errf(err, LMC_ENOMEM, "out of memory for %u counters", n_vocab);
    a->n_vocab = n_vocab;
    return 0;
}

void tok_eval_free(tok_eval_acc *a) {
    free(a->count);
    a->count = NULL;
}

static int ws(uint8_t b) { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'; }

void tok_eval_add(tok_eval_acc *a, const uint8_t *text, size_t len, const uint32_t *ids, size_t n) {
    a->bytes += len;
    a->tokens += n;
    int in_word = 0;
    for (size_t i = 0; i < len; i++) {
        if ((text[i] & 0xC0) != 0x80) a->chars++;
        if (ws(text[i])) in_word = 0;
        else if (!in_word) {
            in_word = 1;
            a->words++;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (ids[i] < a->n_vocab) a->count[ids[i]]++;
}

void tok_eval_result(const tok_eval_acc *a, uint32_t vocab_size, double alpha, tok_eval_res *r) {
    memset(r, 0, sizeof *r);
    r->alpha = alpha;
    r->bytes_per_token = a->tokens ? (double)a->bytes / (double)a->tokens : 0;
    r->chars_per_token = a->tokens ? (double)a->chars / (double)a->tokens : 0;
    r->tokens_per_word = a->words ? (double)a->tokens / (double)a->words : 0;
    uint64_t total = 0;
    for (uint32_t i = 0; i < a->n_vocab; i++)
        if (a->count[i]) {
            r->types++;
            total += a->count[i];
        }
    r->utilisation = vocab_size ? (double)r->types / vocab_size : 0;
    if (!total || vocab_size < 2) return;
    double h1 = 0, s = 0;
    for (uint32_t i = 0; i < a->n_vocab; i++) {
        if (!a->count[i]) continue;
        double p = (double)a->count[i] / (double)total;
        h1 -= p * log(p);
        s += pow(p, alpha);
    }
    double logv = log((double)vocab_size);
    r->shannon_eff = h1 / logv;
    r->renyi_eff = (alpha == 1.0 ? h1 : log(s) / (1.0 - alpha)) / logv;
}
