/* gpt2_set_context: see gpt2_context.h. */
#include "model/gpt2_context.h"
#include "model/switches.h"
#include "kernels/cpu/kernels.h"
#include "base/mem.h"

int gpt2_set_context(gpt2_model *m, int max_seq, lmc_err *err) {
    if (max_seq < 1 || max_seq > 1 << 20) return lmc_errf(err, LMC_EINVAL, "context %d out of range (1..1048576)", max_seq);
    if (m->cfg.position == GPT2_POS_LEARNED && max_seq != m->cfg.max_seq)
        return lmc_errf(err, LMC_EINVAL, "learned positions: the model has %d rows of wpe, cannot evaluate %d positions",
                        m->cfg.max_seq, max_seq);
    if (m->rope_cos) {
        const int hd = m->cfg.d_model / m->cfg.n_head;
        size_t n = (size_t)max_seq * (size_t)(hd / 2);
        float *c = (float *)lmc_alloc_array(n, sizeof(float), err), *s = (float *)lmc_alloc_array(n, sizeof(float), err);
        if (!c || !s) { lmc_free(c); lmc_free(s); return LMC_ENOMEM; }
        k_rope_table(c, s, max_seq, hd, m->cfg.rope_theta);
        lmc_free(m->rope_cos);
        lmc_free(m->rope_sin);
        m->rope_cos = c;
        m->rope_sin = s;
    }
    const int prev = m->cfg.max_seq;
    m->cfg.max_seq = max_seq;
    /* anGPT: its attention-sum factor table covers every position (the first ones stay as they were) */
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT && gpt2_angpt_setup(m, err)) { m->cfg.max_seq = prev; return LMC_ENOMEM; }
    return 0;
}
