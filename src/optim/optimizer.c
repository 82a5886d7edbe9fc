/* The optimizer object: dispatch by kind, AdamW, eval/train switching, checkpoint state lists. */
#include "optim/optim_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "base/mem.h"
#include "kernels/cpu/kernels.h"

static const char *const kind_names[] = {"adamw", "sf-adamw", "muon", "soap", "galore", "sf-adamw-refined", "kl-shampoo", "kl-soap"};

int optim_kind_parse(const char *s) {
    for (int i = 0; i < (int)(sizeof kind_names / sizeof kind_names[0]); i++)
        if (!strcmp(s, kind_names[i])) return i;
    return -1;
}

const char *optim_kind_name(int kind) {
    return kind >= 0 && kind < (int)(sizeof kind_names / sizeof kind_names[0]) ? kind_names[kind] : "?";
}

int optim_muon_view(const gpt2_model *m, int v) {
    /* the matrices inside the blocks (attention and MLP weights); embeddings, the head, norms and
     * biases stay on AdamW */
    const gpt2_view *w = &m->views[v];
    return w->ndim == 2 && !strncmp(w->name, "h.", 2);
}

int optim_create(lmc_optim **out, const optim_hparams *hp, gpt2_model *m, lmc_err *err) {
    *out = NULL;
    if (!m->grads || !m->m || !m->v) return lmc_errf(err, LMC_EINVAL, "optimizer: call gpt2_enable_training first");
    if (hp->kind < OPTIM_ADAMW || hp->kind >= OPTIM_N_KINDS)
        return lmc_errf(err, LMC_EINVAL, "optimizer: unknown kind %d", hp->kind);
    if (!(hp->beta1 >= 0 && hp->beta1 < 1) || !(hp->beta2 >= 0 && hp->beta2 < 1) || !(hp->eps >= 0) ||
        !(hp->weight_decay >= 0))
        return lmc_errf(err, LMC_EINVAL, "optimizer: betas must be in [0, 1), eps and weight decay >= 0");
    if (OPTIM_IS_SF(hp->kind) && !(hp->beta1 > 0))
        return lmc_errf(err, LMC_EINVAL, "sf-adamw: beta1 must be > 0 (the evaluation point divides by it)");
    lmc_optim *o = lmc_alloc(sizeof *o, err);
    if (!o) return LMC_ENOMEM;
    memset(o, 0, sizeof *o);
    o->hp = *hp;
    int rc = 0;
    if (OPTIM_IS_SF(hp->kind)) rc = optim_sf_create(o, m, err);
    if (hp->kind == OPTIM_MUON) rc = optim_muon_create(o, m, err);
    if (hp->kind == OPTIM_SOAP) rc = optim_soap_create(o, m, err);
    if (hp->kind == OPTIM_GALORE) rc = optim_galore_create(o, m, err);
    if (OPTIM_IS_KL(hp->kind)) rc = optim_kl_create(o, m, err);
    if (rc) {
        optim_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

void optim_free(lmc_optim *o) {
    if (!o) return;
    lmc_free(o->ybak);
    lmc_free(o->ns_x);
    lmc_free(o->ns_y);
    lmc_free(o->ns_g);
    lmc_free(o->ns_b);
    optim_soap_free(o);
    lmc_free(o->kl_off);
    lmc_free(o->gal_m);
    lmc_free(o->gal_v);
    lmc_free(o);
}

int optim_kind(const lmc_optim *o) { return o->hp.kind; }
int optim_uses_schedule(const lmc_optim *o) { return !OPTIM_IS_SF(o->hp.kind); }
int optim_in_eval(const lmc_optim *o) { return o->eval; }

int optim_step(lmc_optim *o, gpt2_model *m, double lr, double *lr_used, lmc_err *err) {
    if (o->eval) return lmc_errf(err, LMC_EINVAL, "optimizer: step in eval mode (call optim_to_train first)");
    if (!(lr >= 0)) return lmc_errf(err, LMC_EINVAL, "optimizer: learning rate %g out of range", lr);
    if (lr_used) *lr_used = lr;
    switch (o->hp.kind) {
    case OPTIM_SF_ADAMW:
    case OPTIM_SF_REFINED: return optim_sf_step(o, m, lr, lr_used, err);
    case OPTIM_MUON: return optim_muon_step(o, m, lr, err);
    case OPTIM_SOAP: return optim_soap_step(o, m, lr, err);
    case OPTIM_GALORE: return optim_galore_step(o, m, lr, err);
    case OPTIM_KL_SHAMPOO:
    case OPTIM_KL_SOAP: return optim_kl_step(o, m, lr, err);
    default: {
        gpt2_adamw hp = {(float)lr, (float)o->hp.beta1, (float)o->hp.beta2, (float)o->hp.eps,
                         (float)o->hp.weight_decay};
        return gpt2_adamw_step(m, &hp, err);
    }
    }
}

void optim_to_eval(lmc_optim *o, gpt2_model *m) {
    if (o->eval) return;
    if (OPTIM_IS_SF(o->hp.kind)) optim_sf_to_eval(o, m);
    o->eval = 1;
}

void optim_to_train(lmc_optim *o, gpt2_model *m) {
    if (!o->eval) return;
    if (OPTIM_IS_SF(o->hp.kind)) {
        memcpy(m->params, o->ybak, m->n_floats * sizeof(float));
        lmc_kernels_weights_changed();
    }
    o->eval = 0;
}

int optim_buffers(lmc_optim *o, gpt2_model *m, optim_buffer *out, int cap) {
    int n = 0;
    if (cap < 3) return 0;
    if (OPTIM_IS_SF(o->hp.kind)) {
        out[n++] = (optim_buffer){"z", m->m};
        out[n++] = (optim_buffer){"v", m->v};
        out[n++] = (optim_buffer){"y", o->ybak};
    } else if (o->hp.kind == OPTIM_KL_SHAMPOO) { /* v of the 1-D views: per-view tensors */
        out[n++] = (optim_buffer){"m", m->m};
    } else if (o->hp.kind != OPTIM_GALORE) { /* galore: per-view tensors (optim_tensors) */
        out[n++] = (optim_buffer){"m", m->m};
        out[n++] = (optim_buffer){"v", m->v};
    }
    return n;
}

int optim_scalars(lmc_optim *o, optim_scalar *out, int cap) {
    int n = 0;
    if (OPTIM_IS_SF(o->hp.kind) && cap >= 2) {
        out[n++] = (optim_scalar){"sf_weight_sum", &o->weight_sum};
        out[n++] = (optim_scalar){"sf_lr_max", &o->lr_max};
    }
    return n;
}

int optim_tensors(lmc_optim *o, const gpt2_model *m, optim_tensor *out, int cap) {
    int n = 0;
    if (OPTIM_IS_KL(o->hp.kind)) return optim_kl_tensors(o, m, out, cap);
    if (o->hp.kind == OPTIM_GALORE) return optim_galore_tensors(o, m, out, cap);
    if (o->hp.kind != OPTIM_SOAP) return 0;
    static const char *const nm[4] = {"L", "QL", "R", "QR"};
    for (int i = 0; i < m->n_views; i++)
        for (int k = 0; k < 4; k++) {
            if (o->soap_off[i][k] < 0) continue;
            if (out && n < cap) {
                int64_t d = m->views[i].shape[k < 2 ? 0 : 1];
                snprintf(out[n].name, sizeof out[n].name, "%s.%s", nm[k], m->views[i].name);
                out[n].data = o->soap_mats + o->soap_off[i][k];
                out[n].rows = out[n].cols = d;
            }
            n++;
        }
    return n;
}

void optim_loaded(lmc_optim *o) { o->eval = 1; }

size_t optim_state_bytes(const lmc_optim *o, const gpt2_model *m) {
    size_t nf = 0;
    if (o->hp.kind == OPTIM_GALORE) return (2 * o->gal_n + o->soap_n) * sizeof(float); /* m, v at real size; P */
    for (int i = 0; i < m->n_views; i++) {
        size_t n = m->views[i].numel;
        if (o->hp.kind == OPTIM_MUON && optim_muon_view(m, i)) nf += n;   /* momentum only */
        else if (o->hp.kind == OPTIM_KL_SHAMPOO && m->views[i].ndim == 2) nf += n; /* m; no v */
        else nf += 2 * n;                                                /* m, v / z, v */
    }
    if (o->hp.kind == OPTIM_SOAP || OPTIM_IS_KL(o->hp.kind)) nf += o->soap_n; /* L, R, QL, QR / S, Q, lambda */
    if (OPTIM_IS_SF(o->hp.kind)) nf += m->n_floats;                  /* y while x is swapped in */
    return nf * sizeof(float);
}
