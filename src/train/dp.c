/* Data-parallel training step: tree-summed micro-batch gradients, ZeRO-1 AdamW (see dp.h). */
#include "train/dp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"
#include "optim/optim.h"

#define ALIGN K_SUMSQ_CHUNK /* slices are whole gradient-norm chunks */

static int ceil_log2(int64_t x) {
    int d = 0;
    while (((int64_t)1 << d) < x) d++;
    return d;
}

int train_dp_init(train_dp *p, dist_ctx *d, gpt2_model *m, int64_t accum, int shard, lmc_err *err) {
    memset(p, 0, sizeof *p);
    p->d = d;
    p->accum = accum;
    p->grads = m->grads;
    if (d->size & (d->size - 1))
        return lmc_errf(err, LMC_EINVAL, "data-parallel training needs a power-of-two number of ranks (got %d): "
                                         "the gradient sum is one fixed binary tree", d->size);
    if (accum % d->size)
        return lmc_errf(err, LMC_EINVAL,
                        "train.batch_size / train.micro_batch = %lld micro-batches per step cannot be split over %d ranks "
                        "(make it a multiple of the rank count)", (long long)accum, d->size);
    p->local = accum / d->size;
    p->shard = shard && d->size > 1;
    dist_slice(d->size, d->rank, m->n_floats, ALIGN, &p->lo, &p->hi);
    p->ntmp = ceil_log2(p->local);
    if (p->ntmp) {
        p->tmp = calloc((size_t)p->ntmp, sizeof *p->tmp);
        if (!p->tmp) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        for (int i = 0; i < p->ntmp; i++)
            if (!(p->tmp[i] = lmc_alloc_array(m->n_floats, sizeof(float), err))) return -1;
    }
    p->mb_loss = calloc((size_t)accum, sizeof *p->mb_loss);
    size_t nch = (m->n_floats + ALIGN - 1) / ALIGN;
    p->parts = calloc(nch ? nch : 1, sizeof *p->parts);
    p->pcounts = calloc((size_t)d->size, sizeof(int));
    p->pdispls = calloc((size_t)d->size, sizeof(int));
    if (!p->mb_loss || !p->parts || !p->pcounts || !p->pdispls) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    for (int r = 0; r < d->size; r++) {
        size_t lo, hi;
        dist_slice(d->size, r, m->n_floats, ALIGN, &lo, &hi);
        p->pdispls[r] = (int)(lo / ALIGN);
        p->pcounts[r] = hi > lo ? (int)((hi + ALIGN - 1) / ALIGN - lo / ALIGN) : 0;
    }
    if (p->shard) {
        size_t n = p->hi - p->lo;
        p->m = lmc_alloc_array(n ? n : 1, sizeof(float), err);
        p->v = lmc_alloc_array(n ? n : 1, sizeof(float), err);
        if (!p->m || !p->v) return -1;
        memcpy(p->m, m->m + p->lo, n * sizeof(float));
        memcpy(p->v, m->v + p->lo, n * sizeof(float));
        lmc_free(m->m);
        lmc_free(m->v);
        m->m = m->v = NULL;
    }
    return 0;
}

void train_dp_free(train_dp *p, gpt2_model *m) {
    if (m && p->grads) m->grads = p->grads;
    for (int i = 0; i < p->ntmp; i++) lmc_free(p->tmp ? p->tmp[i] : NULL);
    free(p->tmp);
    free(p->mb_loss);
    free(p->parts);
    free(p->pcounts);
    free(p->pdispls);
    lmc_free(p->m);
    lmc_free(p->v);
    memset(p, 0, sizeof *p);
}

/* out = T(lo, hi) over global micro-batch indices; buffers below `depth` are free for the subtrees. */
static int tree(train_dp *p, gpt2_model *m, int64_t lo, int64_t hi, float *out, int depth, train_dp_leaf leaf,
                void *ctx, lmc_err *err) {
    if (hi - lo == 1) {
        m->grads = out;
        gpt2_zero_grad(m);
        float l;
        int rc = leaf(ctx, lo, &l, err);
        m->grads = p->grads;
        p->mb_loss[lo] = l;
        return rc;
    }
    int64_t mid = lo + (hi - lo) / 2;
    if (tree(p, m, lo, mid, out, depth + 1, leaf, ctx, err)) return -1;
    float *right = p->tmp[depth];
    if (tree(p, m, mid, hi, right, depth + 1, leaf, ctx, err)) return -1;
    k_add_inplace(out, right, m->n_floats);
    return 0;
}

int train_dp_gradients(train_dp *p, gpt2_model *m, train_dp_leaf leaf, void *ctx, float *loss, lmc_err *err) {
    double c0 = p->d->comm_s;
    memset(p->mb_loss, 0, (size_t)p->accum * sizeof *p->mb_loss);
    int64_t first = (int64_t)p->d->rank * p->local;
    if (tree(p, m, first, first + p->local, p->grads, 0, leaf, ctx, err)) return -1;
    if (dist_reduce_scatter_tree(p->d, p->grads, m->n_floats, ALIGN, err)) return -1;
    /* each loss slot was filled by exactly one rank: the sum is a gather */
    if (dist_combine_disjoint(p->d, p->mb_loss, (int)p->accum, err)) return -1;
    double sum = 0; /* as the one-process loop sums them: in micro-batch order, in double */
    for (int64_t k = 0; k < p->accum; k++) sum += p->mb_loss[k];
    *loss = (float)(sum / (double)p->accum);
    if (!p->shard && dist_allgather_slices(p->d, p->grads, m->n_floats, ALIGN, err)) return -1;
    p->comm_step_s = p->d->comm_s - c0;
    return 0;
}

int train_dp_clip(train_dp *p, gpt2_model *m, double max_norm, double *norm, lmc_err *err) {
    if (!p->shard) {
        *norm = gpt2_clip_grad(m, max_norm);
        return 0;
    }
    double c0 = p->d->comm_s;
    int r = p->d->rank;
    size_t c_lo = (size_t)p->pdispls[r];
    k_sumsq_parts(p->grads, m->n_floats, c_lo, c_lo + (size_t)p->pcounts[r], p->parts + c_lo);
    if (dist_allgatherv_f64(p->d, p->parts, p->pcounts, p->pdispls, err)) return -1;
    size_t nch = (m->n_floats + ALIGN - 1) / ALIGN;
    double tot = 0.0; /* k_sumsq's order */
    for (size_t c = 0; c < nch; c++) tot += p->parts[c];
    *norm = sqrt(tot);
    if (max_norm > 0.0) {
        double coef = max_norm / (*norm + 1e-6);
        if (coef < 1.0) k_scale(p->grads + p->lo, (float)coef, p->hi - p->lo);
    }
    p->comm_step_s += p->d->comm_s - c0;
    return 0;
}

int train_dp_adamw(train_dp *p, gpt2_model *m, const gpt2_adamw *hp, lmc_err *err) {
    if (!p->shard) return gpt2_adamw_step(m, hp, err);
    if (!(hp->lr >= 0.0f) || !(hp->beta1 >= 0.0f && hp->beta1 < 1.0f) || !(hp->beta2 >= 0.0f && hp->beta2 < 1.0f) ||
        !(hp->eps >= 0.0f) || !(hp->weight_decay >= 0.0f))
        return lmc_errf(err, LMC_EINVAL, "adamw: hyperparameters out of range (lr %g, betas %g %g, eps %g, wd %g)",
                        hp->lr, hp->beta1, hp->beta2, hp->eps, hp->weight_decay);
    double c0 = p->d->comm_s;
    m->step++;
    double bc1 = 1.0 - pow((double)hp->beta1, (double)m->step);
    double bc2 = 1.0 - pow((double)hp->beta2, (double)m->step);
    /* the views' parts inside [lo, hi): AdamW is elementwise, so a slice updates exactly as the whole */
#pragma omp parallel
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        size_t a = v->offset > p->lo ? v->offset : p->lo;
        size_t b = v->offset + v->numel < p->hi ? v->offset + v->numel : p->hi;
        if (a >= b) continue;
        optim_adamw_team(m->params + a, p->grads + a, p->m + (a - p->lo), p->v + (a - p->lo), b - a, hp->lr,
                         hp->beta1, hp->beta2, hp->eps, v->decay ? hp->weight_decay : 0.0f, bc1, bc2);
    }
    int rc = dist_allgather_slices(p->d, m->params, m->n_floats, ALIGN, err);
    lmc_kernels_weights_changed();
    p->comm_step_s += p->d->comm_s - c0;
    return rc;
}

int train_dp_state_gather(train_dp *p, gpt2_model *m, lmc_err *err) {
    if (!p->shard) return 0;
    int root = p->d->rank == 0;
    if (root) {
        m->m = lmc_alloc_array(m->n_floats, sizeof(float), err);
        m->v = lmc_alloc_array(m->n_floats, sizeof(float), err);
        if (!m->m || !m->v) return -1;
    }
    if (dist_gather_slices(p->d, p->m, m->m, m->n_floats, ALIGN, 0, err)) return -1;
    return dist_gather_slices(p->d, p->v, m->v, m->n_floats, ALIGN, 0, err);
}

void train_dp_state_release(train_dp *p, gpt2_model *m) {
    if (!p->shard) return;
    lmc_free(m->m);
    lmc_free(m->v);
    m->m = m->v = NULL;
}

int train_dp_mean(train_dp *p, double *vals, int n, double *mean, lmc_err *err) {
    if (dist_combine_disjoint(p->d, vals, n, err)) return -1;
    double s = 0;
    for (int i = 0; i < n; i++) s += vals[i];
    *mean = s / (double)n;
    return 0;
}
