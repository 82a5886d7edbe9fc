/* Model merging (see merge.h). */
#include "merge/merge.h"
#include "base/rng.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int merge_method_parse(const char *s) {
    if (!strcmp(s, "ta")) return MERGE_TA;
    if (!strcmp(s, "ties")) return MERGE_TIES;
    if (!strcmp(s, "dare")) return MERGE_DARE;
    if (!strcmp(s, "steer")) return MERGE_STEER;
    return -1;
}

typedef struct { float a; size_t i; } mag;
static int cmp_mag(const void *x, const void *y) {
    const mag *p = x, *q = y;
    if (p->a != q->a) return p->a > q->a ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* tau (in place) keeps its k largest |entries| (ties: lower index), zeroes the rest */
static int trim(float *tau, size_t numel, float density, mag *scratch) {
    size_t k = (size_t)floor((double)density * (double)numel);
    if (k >= numel) return 0;
    for (size_t i = 0; i < numel; i++) { scratch[i].a = fabsf(tau[i]); scratch[i].i = i; }
    qsort(scratch, numel, sizeof *scratch, cmp_mag);
    for (size_t j = k; j < numel; j++) tau[scratch[j].i] = 0.0f;
    return 0;
}

int merge_tensor(const merge_opts *o, const float *base, const float *const *models, int n, size_t numel, uint64_t v,
                 float *out, lmc_err *err) {
    if (n < 1) return lmc_errf(err, LMC_EINVAL, "merge: no models");
    if (o->method == MERGE_STEER && n != 2)
        return lmc_errf(err, LMC_EINVAL, "merge: steer takes two models (positive, negative), got %d", n);
    if ((o->method == MERGE_TIES || o->method == MERGE_DARE) && !(o->density > 0 && o->density <= 1))
        return lmc_errf(err, LMC_EINVAL, "merge: density must be in (0, 1], got %g", (double)o->density);
    const float one = 1.0f;
    if (o->method == MERGE_STEER) {
        for (size_t i = 0; i < numel; i++) {
            float d = models[0][i] - models[1][i];
            out[i] = base[i] + o->scale * d;
        }
        return 0;
    }
    if (o->method == MERGE_TA || o->method == MERGE_DARE) {
        float *acc = calloc(numel ? numel : 1, sizeof *acc);
        if (!acc) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        for (int t = 0; t < n; t++) {
            float w = o->weights ? o->weights[t] : one;
            if (o->method == MERGE_TA) {
                for (size_t i = 0; i < numel; i++) acc[i] = acc[i] + w * (models[t][i] - base[i]);
            } else {
                uint64_t key = lmc_rng_derive(lmc_rng_derive(o->seed, (uint64_t)t), v);
                uint32_t blk[4];
                for (size_t i = 0; i < numel; i++) {
                    if (i % 4 == 0) lmc_philox4x32(i / 4, key, blk);
                    float u = (float)(blk[i % 4] >> 8) * (1.0f / 16777216.0f);
                    float tau = models[t][i] - base[i];
                    float kept = u < o->density ? tau / o->density : 0.0f;
                    acc[i] = acc[i] + w * kept;
                }
            }
        }
        for (size_t i = 0; i < numel; i++) out[i] = base[i] + o->scale * acc[i];
        free(acc);
        return 0;
    }
    /* TIES */
    float *tau = malloc((size_t)n * numel * sizeof *tau + 1);
    mag *scr = malloc(numel * sizeof *scr + 1);
    if (!tau || !scr) { free(tau); free(scr); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    for (int t = 0; t < n; t++) {
        float *tt = tau + (size_t)t * numel;
        for (size_t i = 0; i < numel; i++) tt[i] = models[t][i] - base[i];
        trim(tt, numel, o->density, scr);
    }
    for (size_t i = 0; i < numel; i++) {
        float s = 0.0f;
        for (int t = 0; t < n; t++) s = s + (o->weights ? o->weights[t] : one) * tau[(size_t)t * numel + i];
        int g = s >= 0.0f ? 1 : -1;
        float num = 0.0f, den = 0.0f;
        for (int t = 0; t < n; t++) {
            float x = tau[(size_t)t * numel + i], w = o->weights ? o->weights[t] : one;
            if (x != 0.0f && (x > 0.0f ? 1 : -1) == g) { num = num + w * x; den = den + w; }
        }
        float m = den != 0.0f ? num / den : 0.0f;
        out[i] = base[i] + o->scale * m;
    }
    free(tau);
    free(scr);
    return 0;
}

static int same_config(const gpt2_config *a, const gpt2_config *b) {
    return a->n_layer == b->n_layer && a->n_head == b->n_head && a->d_model == b->d_model && a->max_seq == b->max_seq &&
           a->vocab_size == b->vocab_size && a->arch == b->arch && a->n_kv_head == b->n_kv_head && a->d_ff == b->d_ff &&
           a->norm == b->norm && a->position == b->position && a->mlp == b->mlp && a->no_bias == b->no_bias &&
           a->untied == b->untied && a->qkv_bias == b->qkv_bias;
}

int merge_models(const merge_opts *o, const gpt2_model *base, gpt2_model *const *models, int n, gpt2_model *out,
                 lmc_err *err) {
    for (int t = 0; t < n; t++)
        if (!same_config(&base->cfg, &models[t]->cfg))
            return lmc_errf(err, LMC_EINVAL, "merge: model %d has a different architecture or size than the base", t + 1);
    if (!same_config(&base->cfg, &out->cfg)) return lmc_errf(err, LMC_EINVAL, "merge: output config differs");
    const float **ptr = malloc((size_t)n * sizeof *ptr);
    if (!ptr) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = 0;
    for (int v = 0; v < base->n_views && !rc; v++) {
        const gpt2_view *bv = &base->views[v];
        for (int t = 0; t < n; t++) ptr[t] = models[t]->params + models[t]->views[v].offset;
        rc = merge_tensor(o, base->params + bv->offset, ptr, n, bv->numel, (uint64_t)v, out->params + out->views[v].offset,
                          err);
        if (rc) lmc_err_wrap(err, "tensor %s", bv->name);
    }
    free(ptr);
    out->bos_id = base->bos_id;
    out->eos_id = base->eos_id;
    return rc;
}
