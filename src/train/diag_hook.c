/* The training-loop side of the probe-batch diagnostics (diag_hook.h). */
#include "train/diag_hook.h"
#include "eval/diag.h"
#include <stdlib.h>
#include <string.h>

int train_diag_open(train_diag *d, train_loader *probe, int64_t B, int64_t T, lmc_err *err) {
    memset(d, 0, sizeof *d);
    size_t n = (size_t)B * (size_t)T;
    d->in = malloc(n * sizeof *d->in);
    d->tg = malloc(n * sizeof *d->tg);
    d->l0 = malloc(n * sizeof *d->l0);
    d->B = (int)B;
    d->T = (int)T;
    if (!d->in || !d->tg || !d->l0) { train_diag_close(d); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    if (train_loader_fixed(probe, 0, B, d->in, d->tg, err)) { train_diag_close(d); return -1; }
    return 0;
}

int train_diag_before(train_diag *d, gpt2_model *m, lmc_err *err) {
    if (gpt2_forward(m, d->in, d->tg, d->B, d->T, NULL, err)) return -1;
    memcpy(d->l0, m->losses, (size_t)d->B * (size_t)d->T * sizeof *d->l0);
    d->have = 1;
    return 0;
}

int train_diag_after(train_diag *d, gpt2_model *m, lmc_err *err) {
    if (!d->have) return 0;
    if (lmc_gwa(m, d->in, d->tg, d->B, d->T, &d->gwa, &d->gamma, err)) return -1;
    d->D = lmc_zsl_D(d->l0, m->losses, (size_t)d->B * (size_t)d->T, &d->M);
    d->have = 2;
    return 0;
}

void train_diag_log(lmc_jsonl *w, train_diag *d) {
    if (d->have == 2) {
        lmc_jsonl_num(w, "zsl_D", d->D);
        lmc_jsonl_num(w, "zsl_M", d->M);
        lmc_jsonl_num(w, "gwa", d->gwa);
        lmc_jsonl_num(w, "gwa_gamma", d->gamma);
    }
    d->have = 0;
}

void train_diag_close(train_diag *d) {
    free(d->in);
    free(d->tg);
    free(d->l0);
    memset(d, 0, sizeof *d);
}
