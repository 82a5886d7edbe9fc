/* A fastText-style supervised linear text classifier (Joulin et al. 2017; TECHNIQUES §23c), trained and
 * applied in C: the quality classifiers of DCLM / FineWeb-Edu / Nemotron-CC are of this kind.
 *
 *   tokens   split on ASCII white space (' ' \t \n \v \f \r \0), then the end-of-sentence word "</s>"
 *            (fastText's predict() appends "\n", so every example ends with it)
 *   ids      in-vocabulary words (seen >= min_count times in training) -> their id; word n-grams up to
 *            word_ngrams of ALL words (OOV included) -> nwords + (h mod bucket), with
 *            h = h*116049371 + hash_j over uint64 and hash = FNV-1a 32 over sign-extended bytes
 *   hidden   mean of the input-matrix rows of the ids (dim d)
 *   output   p = softmax(B hidden) over the labels
 *   training fastText's SGD: examples in file order, lr_t = lr (1 - tokens_seen / (epoch * ntokens))
 *            updated every lr_update_rate tokens, alpha_i = lr_t ([i = y] - p_i), grad += alpha_i B_i,
 *            B_i += alpha_i hidden, then every input row += grad / len(ids); input rows start uniform in
 *            (-1/d, 1/d) (lmc_rng seeded with `seed`), B at 0. Single-threaded: the model is a function of
 *            (data, parameters, seed) only.
 *
 * Model file (".lmcft", little-endian, written atomically):
 *   "LMCFT\0\0\1" (8 bytes: magic + format version 1)
 *   u32 dim, u32 word_ngrams, u32 bucket, u32 nwords, u32 nlabels, u32 reserved (0)
 *   nlabels x (u32 length, bytes), nwords x (u32 length, bytes)   (labels then vocabulary; no NULs)
 *   f32 input[(nwords + bucket) * dim], f32 output[nlabels * dim]
 *   and nothing after. The loader checks every length against the file size before reading. */
#ifndef LMC_DATA_CLASSIFY_H
#define LMC_DATA_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include "base/base.h"

typedef struct data_clf_params {
    int dim;             /* 100 (fastText -dim) */
    int epoch;           /* 5 */
    double lr;           /* 0.1 */
    int word_ngrams;     /* 2 here (fastText's supervised default is 1; DCLM uses 2) */
    int min_count;       /* 1 */
    uint32_t bucket;     /* 2,000,000 */
    int lr_update_rate;  /* 100 tokens */
    uint64_t seed;       /* 0 */
} data_clf_params;

void data_clf_params_default(data_clf_params *p);

typedef struct data_clf data_clf;

/* One labelled example: text (UTF-8, any bytes) and label. */
typedef struct data_clf_example {
    const char *text;
    size_t text_len;
    const char *label;
    size_t label_len;
} data_clf_example;

/* Train on examples in the given order (fastText does not shuffle). Labels and words are numbered by
 * frequency, most frequent first, ties by first appearance (fastText sorts by count too). *loss (may be
 * NULL) gets the mean training loss over the whole run. */
int data_clf_train(const data_clf_params *p, const data_clf_example *ex, size_t n, data_clf **out, double *loss,
                   lmc_err *err);
int data_clf_save(const data_clf *m, const char *path, lmc_err *err);
/* Parse a model file from memory (the fuzz target's entry) or from a path: lmc's format, or a fastText .bin
 * (magic 793712314, version 12) of a supervised softmax model without subwords, not quantized (other
 * losses, subwords, pruning and quantization are errors naming them). */
int data_clf_load_mem(const void *buf, size_t len, const char *name, data_clf **out, lmc_err *err);
int data_clf_load(const char *path, data_clf **out, lmc_err *err);
void data_clf_free(data_clf *m);

int data_clf_nlabels(const data_clf *m);
const char *data_clf_label(const data_clf *m, int i);   /* NUL-terminated */
int data_clf_label_index(const data_clf *m, const char *label);  /* -1 when absent */
int data_clf_dim(const data_clf *m);
uint32_t data_clf_nwords(const data_clf *m);

/* Scratch for prediction (one per thread; zero-initialize, free with data_clf_scratch_free). */
typedef struct data_clf_scratch {
    int32_t *ids;
    uint32_t *hashes;
    size_t cap;
    float *hidden;
    int hidden_dim;
} data_clf_scratch;
void data_clf_scratch_free(data_clf_scratch *s);

/* Probabilities of every label for a text (prob[nlabels]). Thread-safe on a shared model. */
int data_clf_predict(const data_clf *m, const char *text, size_t len, float *prob, data_clf_scratch *s, lmc_err *err);

/* fastText's word hash (FNV-1a 32, bytes sign-extended), exposed for tests. */
uint32_t data_clf_hash(const char *s, size_t n);

/* Nemotron-CC's bucketing (TECHNIQUES §23a): the weighted percentiles p = 5, 10, ..., 95 (inverted CDF: sort,
 * cumulative weight, first index with cum >= p/100 * total) of scores with weights, into thr[19]. */
void data_weighted_percentiles(const double *score, const double *weight, size_t n, int nthr, double *thr,
                               size_t *tmp_idx);
/* np.digitize(score, thr): the number of thresholds <= score (0..nthr). */
int data_digitize(double score, const double *thr, int nthr);

#endif
