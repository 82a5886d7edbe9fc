/* `lmc data classify train|score` over corpora (src/data/classify_run.c). */
#ifndef LMC_DATA_CLASSIFY_RUN_H
#define LMC_DATA_CLASSIFY_RUN_H

#include "data/classify.h"
#include "data/data.h"

#define DATA_CLASSIFY_MAX_MODELS 16

typedef struct data_classify_train_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;          /* read.field = the text field */
    const char *label_field;      /* "label" */
    const char *test;             /* optional labelled file: its accuracy goes in the report */
    const char *output;           /* model file (NULL: train and report only) */
    data_clf_params params;
} data_classify_train_cfg;

void data_classify_train_cfg_default(data_classify_train_cfg *c);
/* Report: examples, labels, vocabulary, params, train loss and accuracy, test accuracy, seconds. */
int data_classify_train_run(const data_classify_train_cfg *c, json_t **report, lmc_err *err);
/* Share of examples whose most probable label is theirs (count into *correct). */
int data_classify_accuracy(const data_clf *m, const data_clf_example *ex, size_t n, size_t *correct, lmc_err *err);

typedef struct data_classify_score_cfg {
    const char *const *inputs;
    size_t ninputs;
    data_read_opts read;
    const char *output;                              /* NULL: report only */
    const char *models[DATA_CLASSIFY_MAX_MODELS];
    const char *names[DATA_CLASSIFY_MAX_MODELS];     /* column name (prefix without a positive label) per model */
    const char *positive[DATA_CLASSIFY_MAX_MODELS];  /* [0] alone applies to every model; NULL: every label */
    int nmodels;
    int buckets;                                     /* 0: no ensemble; else Nemotron-CC buckets (20) */
    const char *bucket_column;                       /* "quality_bucket" */
    double weights[DATA_CLASSIFY_MAX_MODELS];        /* Meta-rater-style sum w_j score_j */
    int nweights;
    const char *weighted_column;                     /* "quality_weighted" */
    int threads;
} data_classify_score_cfg;

void data_classify_score_cfg_default(data_classify_score_cfg *c);
/* Columns per document: with a positive label "<name>": P(positive), else "<name>_<label>" for every label
 * ("__label__" stripped); then the bucket (integer) and the weighted sum. Written before the closing brace of
 * the original line; scores printed with 6 decimals. */
int data_classify_score_run(const data_classify_score_cfg *c, json_t **report, lmc_err *err);

#endif
