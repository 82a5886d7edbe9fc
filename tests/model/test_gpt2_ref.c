/* GPT-2 forward, backward and 10 AdamW steps against the PyTorch fixture
 * (tests/reference/make_gpt2_fixtures.py; reference computed in float64).
 * Error norm per tensor: max_i |ours_i - ref_i| / max_i |ref_i|. */
#include "test.h"
#include "model/gpt2.h"
#include "interop/safetensors.h"
#include "kernels/cpu/kernels.h"
#include "fixture_util.h"

static char fix_dir[4096];


int main(void) {
    lmc_kernels_set_threads(2);
    snprintf(fix_dir, sizeof fix_dir, "%s/tests/model/fixtures", test_source_dir());
    char mdir[4200], rpath[4200];
    snprintf(mdir, sizeof mdir, "%s/gpt2_tiny", fix_dir);
    snprintf(rpath, sizeof rpath, "%s/gpt2_tiny_ref.safetensors", fix_dir);
    lmc_err err = {0};
    gpt2_model *m = NULL;
    int rc = gpt2_load_hf(mdir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return test_summary("gpt2_ref");
    st_file ref;
    rc = st_open(&ref, rpath, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return test_summary("gpt2_ref");
    const st_tensor *ti = st_find(&ref, "inputs");
    int B = (int)ti->shape[0], T = (int)ti->shape[1];
    int32_t *inputs = (int32_t *)read_tensor(&ref, "inputs", NULL);
    int32_t *targets = (int32_t *)read_tensor(&ref, "targets", NULL);
    float *ref_logits = read_tensor(&ref, "logits", NULL);
    double ref_loss = read_f64(&ref, "loss", 0);
    const int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;
    CHECK_EQ_INT(Vp, 1024);

    /* forward */
    float loss = 0;
    rc = gpt2_forward(m, inputs, targets, B, T, &loss, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    double e_logits = rel_err(m->logits, ref_logits, (size_t)B * T * V, Vp, V, V);
    printf("logits rel err %.3g, loss %.8f vs %.8f\n", e_logits, loss, ref_loss);
    CHECK(e_logits < 1e-4);
    CHECK_CLOSE(loss, ref_loss, 0, 1e-5);

    /* logits-only forward gives the same logits */
    float *saved = (float *)malloc((size_t)B * T * Vp * sizeof(float));
    memcpy(saved, m->logits, (size_t)B * T * Vp * sizeof(float));
    rc = gpt2_forward(m, inputs, NULL, B, T, NULL, &err);
    CHECK(rc == 0 && m->loss == -1.0f && memcmp(saved, m->logits, (size_t)B * T * Vp * sizeof(float)) == 0);
    CHECK(gpt2_backward(m, 1.0f, &err) != 0);  /* no targets, no backward (and no training state yet) */

    /* backward */
    CHECK(gpt2_enable_training(m, &err) == 0);
    gpt2_zero_grad(m);
    rc = gpt2_forward(m, inputs, targets, B, T, NULL, &err);
    /* training-mode forward (all layers kept) gives bitwise the inference-mode logits */
    CHECK(rc == 0 && memcmp(saved, m->logits, (size_t)B * T * Vp * sizeof(float)) == 0);
    rc |= gpt2_backward(m, 1.0f, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    double worst = 0;
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        char name[80];
        snprintf(name, sizeof name, "grad.%s", v->name);
        size_t n;
        float *g = read_tensor(&ref, name, &n);
        CHECK_EQ_INT(n, v->numel);
        double e = rel_err(m->grads + v->offset, g, v->numel, 0, 0, 0);
        if (e > worst) worst = e;
        CHECK_MSG(e < 1e-4, "%s rel err %.3g", v->name, e);
        free(g);
    }
    printf("worst gradient rel err %.3g over %d tensors\n", worst, m->n_views);
    /* padded wte rows get no gradient */
    int pad_zero = 1;
    for (size_t k = (size_t)V * m->cfg.d_model; k < (size_t)Vp * m->cfg.d_model; k++)
        if (m->grads[m->views[0].offset + k] != 0.0f) pad_zero = 0;
    CHECK(pad_zero);

    /* gradient accumulation: two half-scaled backward passes == one full (to rounding) */
    float *g1 = (float *)malloc(m->n_floats * sizeof(float));
    memcpy(g1, m->grads, m->n_floats * sizeof(float));
    gpt2_zero_grad(m);
    for (int k = 0; k < 2; k++) {
        gpt2_forward(m, inputs, targets, B, T, NULL, &err);
        gpt2_backward(m, 0.5f, &err);
    }
    CHECK(rel_err(m->grads, g1, m->n_floats, 0, 0, 0) < 1e-6);
    CHECK(gpt2_backward(m, 1.0f, &err) != 0);  /* backward twice without forward is refused */
    free(g1);

    /* 10 AdamW steps with clipping, same batch (as llm.c's test) */
    gpt2_free(m);
    m = NULL;
    CHECK(gpt2_load_hf(mdir, &m, &err) == 0);
    CHECK(gpt2_enable_training(m, &err) == 0);
    gpt2_adamw hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    for (int s = 0; s < 10; s++) {
        gpt2_zero_grad(m);
        float l = 0;
        rc = gpt2_forward(m, inputs, targets, B, T, &l, &err);
        rc |= gpt2_backward(m, 1.0f, &err);
        double norm = gpt2_clip_grad(m, 1.0);
        rc |= gpt2_adamw_step(m, &hp, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        double rl = read_f64(&ref, "train_losses", (size_t)s), rn = read_f64(&ref, "train_norms", (size_t)s);
        double rl32 = read_f64(&ref, "train_losses_fp32", (size_t)s);
        printf("step %d loss %.7f ref %.7f (rel %.2g; PyTorch fp32 %.7f) norm %.5f ref %.5f\n", s, l, rl,
               fabs(l - rl) / rl, rl32, norm, rn);
        CHECK_CLOSE(l, rl, 0, 1e-5);
        CHECK_CLOSE(norm, rn, 0, 1e-4);
    }
    CHECK_EQ_INT(m->step, 10);

    free(inputs); free(targets); free(ref_logits); free(saved);
    st_close(&ref);
    gpt2_free(m);
    return test_summary("gpt2_ref");
}
