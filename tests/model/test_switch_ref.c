/* The research switches (LayerNorm Scaling, learnable Hermite/Fourier/tropical activations, multi-token
 * heads, nGPT, anGPT) against PyTorch (tests/reference/make_switch_fixtures.py, float64 reference): logits and every
 * parameter gradient (of the summed multi-token loss) to 1e-4, the summed loss to 1e-5, 10 AdamW steps
 * (with clipping) to 1e-5 relative in the next-token loss. Error norm per tensor:
 * max_i |ours_i - ref_i| / max_i |ref_i|. */
#include "test.h"
#include "model/gpt2.h"
#include "interop/safetensors.h"
#include "kernels/cpu/kernels.h"
#include "fixture_util.h"


static int meta_int(const st_file *f, const char *k) { return atoi(st_meta(f, k)); }
static int meta_is(const st_file *f, const char *k, const char *v) { return strcmp(st_meta(f, k), v) == 0; }

/* The fixture's switches as a gpt2_config (the same mapping train_model_config does). */
static gpt2_config fixture_config(const st_file *f) {
    gpt2_config c;
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.n_layer = meta_int(f, "n_layer"); c.n_head = meta_int(f, "n_head"); c.n_kv_head = meta_int(f, "n_kv_head");
    c.d_model = meta_int(f, "d_model"); c.d_ff = meta_int(f, "d_ff"); c.max_seq = meta_int(f, "seq_len");
    c.vocab_size = meta_int(f, "vocab_size");
    c.norm = meta_is(f, "norm", "rmsnorm") ? GPT2_NORM_RMSNORM : GPT2_NORM_LAYERNORM;
    c.position = meta_is(f, "position", "rope") ? GPT2_POS_ROPE : meta_is(f, "position", "alibi") ? GPT2_POS_ALIBI
               : meta_is(f, "position", "none") ? GPT2_POS_NONE : GPT2_POS_LEARNED;
    c.mlp = meta_is(f, "mlp", "swiglu") ? GPT2_MLP_SWIGLU : GPT2_MLP_GELU;
    c.no_bias = meta_is(f, "bias", "false");
    c.untied = meta_is(f, "tie_embeddings", "false");
    c.ln_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.depth_scaling = meta_is(f, "depth_scaling", "lns") ? GPT2_DEPTH_LNS : GPT2_DEPTH_NONE;
    c.act = meta_is(f, "activation", "hermite") ? GPT2_ACT_HERMITE : meta_is(f, "activation", "fourier") ? GPT2_ACT_FOURIER
          : meta_is(f, "activation", "tropical") ? GPT2_ACT_TROPICAL : GPT2_ACT_MLP;
    c.act_degree = meta_int(f, "activation_degree");
    c.mtp_heads = meta_int(f, "mtp_heads");
    c.normalized = meta_is(f, "normalized", "ngpt") ? GPT2_NORMALIZED_NGPT
                 : meta_is(f, "normalized", "angpt") ? GPT2_NORMALIZED_ANGPT : GPT2_NORMALIZED_NONE;
    c.qk_norm = st_meta(f, "qk_norm") && meta_is(f, "qk_norm", "true");
    return c;
}

static void load_params(gpt2_model *m, const st_file *f) {
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        char name[80];
        snprintf(name, sizeof name, "p.%s", v->name);
        size_t n;
        float *p = read_tensor(f, name, &n);
        CHECK_EQ_INT(n, v->numel);
        memcpy(m->params + v->offset, p, v->numel * sizeof(float));
        free(p);
    }
}

/* nGPT: after every step each matrix's d-long vectors have norm 1 (to 1e-5 in fp32). */
static double vec_norm(const float *w, size_t n, size_t stride) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)w[i * stride] * w[i * stride];
    return sqrt(ss);
}

static void sphere_check(gpt2_model *m, const char *vname, int step) {
    const size_t C = (size_t)m->cfg.d_model, F = (size_t)m->cfg.d_ff, V = (size_t)m->cfg.vocab_size;
    double worst = 0;
#define UPD(x) do { double e_ = fabs((x) - 1.0); if (e_ > worst) worst = e_; } while (0)
    for (size_t r = 0; r < V; r++) { UPD(vec_norm(m->wte + r * C, C, 1)); UPD(vec_norm(m->lm_head + r * C, C, 1)); }
    for (int l = 0; l < m->cfg.n_layer; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        for (size_t j = 0; j < 3 * C; j++) UPD(vec_norm(p.qkv_w + j, C, 3 * C));
        for (size_t j = 0; j < 2 * F; j++) UPD(vec_norm(p.fc_w + j, C, 2 * F));
        for (size_t r = 0; r < C; r++) UPD(vec_norm(p.proj_w + r * C, C, 1));
        for (size_t r = 0; r < F; r++) UPD(vec_norm(p.fcproj_w + r * C, C, 1));
    }
#undef UPD
    CHECK_MSG(worst < 1e-5, "%s step %d: a matrix vector is off the unit sphere by %.3g", vname, step, worst);
}

/* anGPT: after every step each matrix's d-long vectors have norm <= 1 (and the bound was needed: some
 * vector sits on the sphere). */
static void ball_check(gpt2_model *m, const char *vname, int step) {
    const size_t C = (size_t)m->cfg.d_model, F = (size_t)m->cfg.d_ff, V = (size_t)m->cfg.vocab_size;
    double mx = 0;
#define UPD(x) do { double n_ = (x); if (n_ > mx) mx = n_; } while (0)
    for (size_t r = 0; r < V; r++) { UPD(vec_norm(m->wte + r * C, C, 1)); UPD(vec_norm(m->lm_head + r * C, C, 1)); }
    for (int l = 0; l < m->cfg.n_layer; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        for (size_t j = 0; j < 3 * C; j++) UPD(vec_norm(p.qkv_w + j, C, 3 * C));
        for (size_t j = 0; j < 2 * F; j++) UPD(vec_norm(p.fc_w + j, C, 2 * F));
        for (size_t r = 0; r < C; r++) UPD(vec_norm(p.proj_w + r * C, C, 1));
        for (size_t r = 0; r < F; r++) UPD(vec_norm(p.fcproj_w + r * C, C, 1));
    }
#undef UPD
    CHECK_MSG(mx <= 1.0 + 1e-6 && mx > 1.0 - 1e-6, "%s step %d: largest matrix vector norm %.9g (want 1 at most, and reached)",
              vname, step, mx);
}

/* anGPT's constant factors: lmc's Monte Carlo attention-sum factors (256 draws) within 4% of the
 * fixture's independent 200000-draw estimate (the paper: errors of ~2% in the nu's do not matter; 4%
 * is about 3 standard errors of 256 draws at the noisiest prefix lengths), nu_act to 1e-6 (both are
 * quadratures); then the fixture's values replace lmc's so that the model math is compared exactly. */
static void angpt_factors(gpt2_model *m, const st_file *f, const char *vname) {
    size_t n = 0;
    float *ref = read_tensor(f, "angpt.nu_att", &n);
    CHECK_EQ_INT(n, m->cfg.max_seq);
    double worst = 0;
    for (size_t t = 0; t < n; t++) {
        double e = fabs(m->angpt_nu[t] - ref[t]) / ref[t];
        if (e > worst) worst = e;
    }
    CHECK_MSG(worst < 0.04, "%s: attention-sum factors differ from the reference Monte Carlo by %.3g", vname, worst);
    CHECK(m->angpt_nu[0] == 1.0f);  /* one key: the weight is 1 */
    CHECK_CLOSE(m->angpt_nu[m->cfg.max_seq], read_f64(f, "angpt.nu_act", 0), 0, 1e-6);
    printf("%-15s nu_att[T-1] %.4f (ref %.4f, worst rel %.3g), nu_act %.6f\n", vname, m->angpt_nu[n - 1], ref[n - 1],
           worst, m->angpt_nu[m->cfg.max_seq]);
    memcpy(m->angpt_nu, ref, n * sizeof(float));
    free(ref);
}

static void variant(const char *vname) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/model/fixtures/switch_%s.safetensors", test_source_dir(), vname);
    lmc_err err = {0};
    st_file ref;
    int rc = st_open(&ref, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    gpt2_config c = fixture_config(&ref);
    gpt2_model *m = NULL;
    rc = gpt2_create(&m, &c, &err);
    CHECK_MSG(rc == 0, "%s: %s", vname, err.msg);
    if (rc) { st_close(&ref); return; }
    /* every fixture parameter is a view of the model and the other way round */
    size_t n_p = 0;
    for (size_t i = 0; i < ref.n_tensors; i++) n_p += strncmp(ref.tensors[i].name, "p.", 2) == 0;
    CHECK_EQ_INT(n_p, m->n_views);
    CHECK_EQ_INT(gpt2_param_count(&m->cfg), gpt2_param_count(&c));
    size_t total = 0;
    for (int i = 0; i < m->n_views; i++) total += m->views[i].numel;
    CHECK_EQ_INT(gpt2_param_count(&c), total);
    load_params(m, &ref);
    if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) angpt_factors(m, &ref, vname);
    const st_tensor *ti = st_find(&ref, "inputs");
    int B = (int)ti->shape[0], T = (int)ti->shape[1];
    int32_t *inputs = (int32_t *)read_tensor(&ref, "inputs", NULL);
    int32_t *targets = (int32_t *)read_tensor(&ref, "targets", NULL);
    for (int i = 0; i < B * T; i++) if (targets[i] < 0) targets[i] = -1;
    float *ref_logits = read_tensor(&ref, "logits", NULL);
    double ref_loss = read_f64(&ref, "loss", 0);
    const int V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab;

    float loss = 0;
    rc = gpt2_forward(m, inputs, targets, B, T, &loss, &err);  /* inference mode */
    CHECK_MSG(rc == 0, "%s", err.msg);
    double e_logits = rel_err(m->logits, ref_logits, (size_t)B * T * V, Vp, V, V);
    CHECK_MSG(e_logits < 1e-4, "%s logits %.3g", vname, e_logits);
    CHECK_CLOSE(loss, ref_loss, 0, 1e-5);
    CHECK_CLOSE(m->mtp_loss, read_f64(&ref, "loss_total", 0), 0, 1e-5);

    CHECK(gpt2_enable_training(m, &err) == 0);
    gpt2_zero_grad(m);
    rc = gpt2_forward(m, inputs, targets, B, T, NULL, &err);
    rc |= gpt2_backward(m, 1.0f, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        char name[80];
        snprintf(name, sizeof name, "grad.%s", v->name);
        float *g = read_tensor(&ref, name, NULL);
        double e = rel_err(m->grads + v->offset, g, v->numel, 0, 0, 0);
        if (e > worst) { worst = e; worst_name = v->name; }
        CHECK_MSG(e < 1e-4, "%s: %s rel err %.3g", vname, v->name, e);
        free(g);
    }

    /* 10 AdamW steps with clipping on the same batch, from the fixture weights */
    memset(m->m, 0, m->n_floats * sizeof(float));
    memset(m->v, 0, m->n_floats * sizeof(float));
    load_params(m, &ref);
    m->step = 0;
    gpt2_adamw hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    double worst_l = 0, worst_n = 0;
    for (int s = 0; s < 10; s++) {
        gpt2_zero_grad(m);
        float l = 0;
        rc = gpt2_forward(m, inputs, targets, B, T, &l, &err);
        rc |= gpt2_backward(m, 1.0f, &err);
        double norm = gpt2_clip_grad(m, 1.0);
        rc |= gpt2_adamw_step(m, &hp, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        if (m->cfg.normalized == GPT2_NORMALIZED_NGPT) sphere_check(m, vname, s);
        if (m->cfg.normalized == GPT2_NORMALIZED_ANGPT) ball_check(m, vname, s);
        double rl = read_f64(&ref, "train_losses", (size_t)s), rn = read_f64(&ref, "train_norms", (size_t)s);
        if (fabs(l - rl) / rl > worst_l) worst_l = fabs(l - rl) / rl;
        if (fabs(norm - rn) / rn > worst_n) worst_n = fabs(norm - rn) / rn;
        CHECK_CLOSE(l, rl, 0, 1e-5);
        CHECK_CLOSE(norm, rn, 0, 1e-4);
    }
    printf("%-15s logits %.2g  worst grad %.2g (%s, %d tensors)  10 steps: loss %.2g  norm %.2g\n", vname,
           e_logits, worst, worst_name, m->n_views, worst_l, worst_n);
    free(inputs); free(targets); free(ref_logits);
    st_close(&ref);
    gpt2_free(m);
}

int main(void) {
    lmc_kernels_set_threads(1);  /* tiny tensors: one thread is faster and immune to oversubscription */
    const char *vs[] = {"lns_gpt2", "lns_llama", "hermite", "fourier", "tropical", "hermite5_lns", "mtp2_llama", "mtp3_gpt2", "ngpt", "ngpt_nope", "angpt", "angpt_noqk"};
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) variant(vs[i]);
    return test_summary("switch_ref");
}
