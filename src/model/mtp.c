/* Multi-token prediction heads (Gloeckle et al. 2024, LL variant of Aynetdinov & Akbik, ACL 2025) and
 * the ACL 2025 curriculum over the number of active heads (see switches.h). */
#include "model/switches.h"
#include "kernels/cpu/kernels.h"
#include "base/mem.h"

#include <string.h>

struct gpt2_mtp {
    size_t cap_N;
    float *logits;               /* N x Vp: one head at a time */
    float *dx;                   /* N x d: a head's gradient into the final-norm output */
    float *losses;               /* N */
    float *lse;                  /* K x N */
    int32_t *tg;                 /* K x N shifted targets */
    int64_t cnt[GPT2_MTP_MAX];   /* valid targets per head */
    int n_active;                /* heads the last forward computed (0 = backward adds nothing) */
};

void gpt2_mtp_free(gpt2_model *m) {
    struct gpt2_mtp *s = m->mtp;
    if (!s) return;
    lmc_free(s->logits);
    lmc_free(s->dx);
    lmc_free(s->losses);
    lmc_free(s->lse);
    lmc_free(s->tg);
    lmc_free(s);
    m->mtp = NULL;
}

static int ensure(gpt2_model *m, size_t N, lmc_err *err) {
    if (m->mtp && m->mtp->cap_N >= N) return 0;
    gpt2_mtp_free(m);
    struct gpt2_mtp *s = (struct gpt2_mtp *)lmc_alloc(sizeof *s, err);
    if (!s) return LMC_ENOMEM;
    memset(s, 0, sizeof *s);
    m->mtp = s;
    const size_t K = (size_t)m->cfg.mtp_heads;
    s->logits = (float *)lmc_alloc_array(N * (size_t)m->cfg.padded_vocab, sizeof(float), err);
    s->dx = (float *)lmc_alloc_array(N * (size_t)m->cfg.d_model, sizeof(float), err);
    s->losses = (float *)lmc_alloc_array(N, sizeof(float), err);
    s->lse = (float *)lmc_alloc_array(N * K, sizeof(float), err);
    s->tg = (int32_t *)lmc_alloc_array(N * K, sizeof(int32_t), err);
    if (!s->logits || !s->dx || !s->losses || !s->lse || !s->tg) { gpt2_mtp_free(m); return LMC_ENOMEM; }
    s->cap_N = N;
    return 0;
}

static float *head_w(const gpt2_model *m, float *buf, int i) { return buf + m->views[m->mtp_view0 + i - 1].offset; }

int gpt2_mtp_forward(gpt2_model *m, const float *lnf, const int32_t *targets, int B, int T, lmc_err *err) {
    m->mtp_losses[0] = m->loss;
    m->mtp_loss = m->loss;
    for (int i = 1; i < GPT2_MTP_MAX; i++) m->mtp_losses[i] = 0.0f;
    if (m->mtp) m->mtp->n_active = 0;
    const int K = m->mtp_active < m->cfg.mtp_heads ? m->mtp_active : m->cfg.mtp_heads;
    if (K <= 0 || !targets) return 0;
    const size_t N = (size_t)B * (size_t)T;
    int rc = ensure(m, N, err);
    if (rc) return rc;
    struct gpt2_mtp *s = m->mtp;
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    for (int i = 1; i <= K; i++) {
        int32_t *tg = s->tg + (size_t)(i - 1) * N;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                tg[(size_t)b * T + t] = t + i < T ? targets[(size_t)b * T + t + i] : -1;
        k_lmhead_fwd(s->logits, lnf, head_w(m, m->params, i), N, C, Vp);
        if (m->mtp_argmax)
            for (size_t r = 0; r < N; r++) {
                const float *row = s->logits + r * (size_t)Vp;
                int32_t best = 0;
                for (int v = 1; v < V; v++) if (row[v] > row[best]) best = v;
                m->mtp_argmax[(size_t)(i - 1) * N + r] = best;
            }
        double sum = 0.0;
        int64_t cnt = 0;
        k_crossentropy_fwd(s->losses, s->lse + (size_t)(i - 1) * N, s->logits, tg, N, V, Vp, &sum, &cnt);
        s->cnt[i] = cnt;
        m->mtp_losses[i] = cnt ? (float)(sum / (double)cnt) : 0.0f;
        m->mtp_loss += m->mtp_losses[i];
    }
    s->n_active = K;
    return 0;
}

int gpt2_mtp_backward(gpt2_model *m, const float *lnf, float loss_scale, float *dlnf, lmc_err *err) {
    (void)err;
    struct gpt2_mtp *s = m->mtp;
    if (!s || s->n_active <= 0) return 0;
    const size_t N = (size_t)m->B * (size_t)m->T;
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    for (int i = 1; i <= s->n_active; i++) {
        const float *w = head_w(m, m->params, i);
        k_lmhead_fwd(s->logits, lnf, w, N, C, Vp);  /* recomputed: one head's logits at a time */
        float scale = s->cnt[i] ? loss_scale / (float)s->cnt[i] : 0.0f;
        k_crossentropy_bwd_inplace(s->logits, s->lse + (size_t)(i - 1) * N, s->tg + (size_t)(i - 1) * N, scale, N, V, Vp);
        k_lmhead_bwd(s->dx, head_w(m, m->grads, i), s->logits, lnf, w, N, C, Vp);
        k_add_inplace(dlnf, s->dx, N * (size_t)C);
    }
    s->n_active = 0;
    return 0;
}

int gpt2_mtp_active_at(int curriculum, int K, int64_t e, int64_t E) {
    if (K <= 0) return 0;
    if (curriculum == GPT2_MTP_CURRICULUM_NONE || E <= 0) return K;
    const int64_t kmax = K + 1;
    int64_t stage = e < 0 ? 0 : (e * kmax) / E;  /* floor(e / (E / kmax)) for equal stages */
    if (stage > kmax - 1) stage = kmax - 1;
    int64_t k = curriculum == GPT2_MTP_CURRICULUM_FORWARD ? stage + 1 : kmax - stage;
    return (int)(k - 1);
}
