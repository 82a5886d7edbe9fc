/* train.diag_every: zero-sum learning D(dl) / M(dl) and gradient-weight alignment (src/eval/diag.h) on a
 * fixed probe batch (the first micro-batch of the validation set, else of the training set in natural
 * order), around the update of every diag_every-th step; logged to metrics.jsonl as zsl_D, zsl_M, gwa,
 * gwa_gamma (mean alignment). The probe forwards change no training state (resume stays bitwise). */
#ifndef LMC_TRAIN_DIAG_HOOK_H
#define LMC_TRAIN_DIAG_HOOK_H
#include "base/jsonl.h"
#include "model/gpt2.h"
#include "train/loader.h"

typedef struct train_diag {
    int32_t *in, *tg;
    float *l0;
    int B, T;
    int have;              /* before() ran for this step */
    double D, M, gwa, gamma;
} train_diag;

int train_diag_open(train_diag *d, train_loader *probe, int64_t B, int64_t T, lmc_err *err);
int train_diag_before(train_diag *d, gpt2_model *m, lmc_err *err);
int train_diag_after(train_diag *d, gpt2_model *m, lmc_err *err);
void train_diag_log(lmc_jsonl *w, train_diag *d);  /* writes the fields when before/after ran; resets */
void train_diag_close(train_diag *d);
#endif
