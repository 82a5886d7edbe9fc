/* TREC: training re-evaluation curves (Bergsma et al., ICLR 2026; TECHNIQUES.md 12b):
 * TREC(t) = L(B_t; theta_T), a model (by default the run's newest checkpoint) evaluated on the training
 * batch of step t. The batch is rebuilt from the run's config.yaml: the loader's stream is a pure
 * function of (seed, position), and step t consumed sequences [(t-1) B, t B) of it; the loss is computed
 * as the trainer computes its "loss" (micro-batch means, averaged), at the run's precision. With the
 * checkpoint of step k as the model, TREC(k+1) is exactly the logged training loss of step k+1.
 * Also c_t = eta_t prod_{s>t} (1 - eta_s lambda), the AdamW-as-EMA weight of step t's update in the
 * final weights (normalised to max 1), from the schedule alone. */
#include "eval/eval.h"
#include "base/io.h"
#include "kernels/cpu/kernels.h"
#include "eval/trec.h"
#include "train/checkpoint.h"
#include "train/loader.h"
#include "train/packing_setup.h"
#include "train/schedule.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

int lmc_trec_weights(const train_config *c, double *w) {
    train_schedule s = {0};
    if (train_schedule_kind_parse(c->schedule, &s.kind) || train_schedule_shape_parse(c->decay_shape, &s.shape)) return -1;
    s.total = c->steps;
    s.warmup = c->warmup_steps;
    s.min_ratio = s.kind == TRAIN_SCHED_CONSTANT ? 1.0 : c->min_lr_ratio;
    s.decay_fraction = c->decay_fraction;
    s.init_div = 100.0;
    /* log c_t = log eta_t + sum_{s>t} log(1 - eta_s lambda), t = 1..steps */
    double acc = 0, mx = -INFINITY;
    for (int64_t t = c->steps; t >= 1; t--) {
        double eta = c->lr * train_schedule_factor(&s, t - 1);
        w[t - 1] = log(eta > 0 ? eta : 1e-300) + acc;
        acc += log1p(-eta * c->weight_decay);
        if (w[t - 1] > mx) mx = w[t - 1];
    }
    for (int64_t t = 0; t < c->steps; t++) w[t] = exp(w[t] - mx);
    return 0;
}

static int newest_checkpoint(const char *run, char **out, lmc_err *err) {
    char *dir = lmc_path_join(run, "checkpoints");
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) { int r = lmc_errf(err, LMC_ENOTFOUND, "%s: no checkpoints folder", run); free(dir); return r; }
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "step_", 5) && strlen(e->d_name) < sizeof best && strcmp(e->d_name, best) > 0) {
            char *ck = lmc_path_join(dir, e->d_name), *done = ck ? lmc_path_join(ck, "DONE") : NULL;
            if (done && lmc_file_exists(done)) snprintf(best, sizeof best, "%s", e->d_name);
            free(done);
            free(ck);
        }
    closedir(d);
    if (!best[0]) { int r = lmc_errf(err, LMC_ENOTFOUND, "%s: no finished checkpoint", dir); free(dir); return r; }
    *out = lmc_path_join(dir, best);
    free(dir);
    return *out ? 0 : lmc_errf(err, LMC_ENOMEM, "out of memory");
}

int lmc_eval_trec(const char *run, const char *model_dir, int64_t every, json_t **summary, json_t **examples,
                  lmc_err *err) {
    train_config *c = malloc(sizeof *c);
    if (!c) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    train_config_defaults(c);
    char *cfg = lmc_path_join(run, "config.yaml"), *ck = NULL;
    gpt2_model *m = NULL;
    train_loader ld;
    memset(&ld, 0, sizeof ld);
    int32_t *in = NULL, *tg = NULL;
    double *w = NULL;
    int rc = 0, have_loader = 0;
    if ((rc = train_config_load_file(c, cfg, err))) goto out;
    if (c->init_from[0] && train_ckpt_is_lmc(c->init_from)) {
        rc = lmc_errf(err, LMC_EINVAL, "%s: a branch of another run (run.init_from): its batches are not numbered from step 1", run);
        goto out;
    }
    if (model_dir) ck = strdup(model_dir);
    else if ((rc = newest_checkpoint(run, &ck, err))) goto out;
    int prec = lmc_precision_parse(c->precision);
    if (prec < 0 || (rc = lmc_kernels_set_precision((lmc_precision)prec, err))) {
        if (!rc) rc = lmc_errf(err, LMC_EINVAL, "%s: train.precision '%s'", cfg, c->precision);
        goto out;
    }
    if ((rc = gpt2_load_hf(ck, &m, err))) goto out;
    lmc_shard_kind kind;
    if (lmc_shard_kind_parse(c->data_format, &kind)) { rc = lmc_errf(err, LMC_EINVAL, "data.format '%s'", c->data_format); goto out; }
    if ((rc = train_loader_open(&ld, c->data_train, c->seq_len, (uint64_t)c->seed, 1, (uint64_t)m->cfg.vocab_size, kind, err)))
        goto out;
    have_loader = 1;
    /* the run's data.packing: seamless windows are other sequences than concat ones */
    if (train_packing_open(&ld, c, NULL, 0, err)) { rc = err && err->code ? err->code : LMC_EINVAL; goto out; }
    size_t n = (size_t)(c->micro_batch * c->seq_len);
    in = malloc(n * sizeof *in);
    tg = malloc(n * sizeof *tg);
    w = malloc((size_t)c->steps * sizeof *w);
    if (!in || !tg || !w) { rc = lmc_errf(err, LMC_ENOMEM, "out of memory"); goto out; }
    lmc_trec_weights(c, w);
    if (every <= 0) every = c->steps / 50 > 0 ? c->steps / 50 : 1;
    json_t *ex = json_array();
    int64_t accum = c->batch_size / c->micro_batch, best_t = 0;
    double best = INFINITY;
    for (int64_t t = 1; t <= c->steps && !rc; t += every) {
        uint64_t g = (uint64_t)(t - 1) * (uint64_t)c->batch_size;
        if ((rc = train_loader_seek(&ld, g / ld.nseq, g % ld.nseq, err))) break;
        double sum = 0;
        for (int64_t k = 0; k < accum && !rc; k++) {
            float l = 0.0f;
            if (!(rc = train_loader_next(&ld, c->micro_batch, in, tg, err)))
                rc = gpt2_forward(m, in, tg, (int)c->micro_batch, (int)c->seq_len, &l, err);
            if (!rc) sum += l;
        }
        if (rc) break;
        float lf = (float)(sum / (double)accum); /* as train_step reports it */
        if (lf < best) { best = lf; best_t = t; }
        json_array_append_new(ex, json_pack("{s:I,s:f,s:f}", "step", (json_int_t)t, "loss", (double)lf, "c", w[t - 1]));
    }
    if (!rc) {
        *summary = json_pack("{s:s,s:s,s:I,s:I,s:I,s:f}", "task", "trec", "model", ck, "points", (json_int_t)json_array_size(ex),
                             "every", (json_int_t)every, "argmin_step", (json_int_t)best_t, "min_loss", best);
        if (examples) *examples = ex;
        else json_decref(ex);
    } else
        json_decref(ex);
out:
    if (have_loader) train_loader_close(&ld);
    if (m) gpt2_free(m);
    free(in);
    free(tg);
    free(w);
    free(ck);
    free(cfg);
    free(c);
    return rc ? -1 : 0;
}
