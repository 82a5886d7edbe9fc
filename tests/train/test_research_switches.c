/* Research switches (issue 13) end to end: the identities (LNS with one layer = Pre-LN bit for bit;
 * MTP heads with none active = the plain model bit for bit, inactive heads never move), the curriculum
 * schedule, the config keys, HF folder round trip with lmc_switches, the KV-cache generator against the
 * full forward, and a training run stopped and resumed bitwise (LNS + tropical + MTP forward curriculum;
 * nGPT; anGPT). anGPT's constant factors, norm bound and hidden-state norms: angpt_norms, angpt. */
#include "test.h"
#include "tiny_run.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "model/switches.h"
#include "gen/gen.h"
#include "kernels/cpu/kernels.h"
#include "base/json.h"
#include "base/rng.h"
#include "interop/hf_family.h"
#include "model/gpt2_context.h"

static gpt2_config small(int arch, int L) {
    gpt2_config c;
    gpt2_config_preset(&c, arch);
    c.n_layer = L; c.n_head = 2; c.d_model = 16; c.max_seq = 12; c.vocab_size = 50;
    return c;
}

/* Copy every view that b also has (by name) from a into b. */
static void copy_shared(const gpt2_model *a, gpt2_model *b) {
    for (int i = 0; i < b->n_views; i++) {
        const gpt2_view *va = gpt2_find_view(a, b->views[i].name);
        if (va) memcpy(b->params + b->views[i].offset, a->params + va->offset, va->numel * sizeof(float));
    }
}

static void fwd_bwd(gpt2_model *m, const int32_t *in, const int32_t *tg, int B, int T) {
    lmc_err err;
    gpt2_zero_grad(m);
    CHECK_EQ_INT(gpt2_forward(m, in, tg, B, T, NULL, &err), 0);
    CHECK_EQ_INT(gpt2_backward(m, 1.0f, &err), 0);
}

static void batch(int32_t *in, int32_t *tg, int n, int V) {
    for (int i = 0; i < n; i++) { in[i] = (i * 7 + 3) % V; tg[i] = (i * 11 + 5) % V; }
}

static void identity_lns(int arch) {
    lmc_err err;
    gpt2_config c0 = small(arch, 1), c1 = c0;
    c1.depth_scaling = GPT2_DEPTH_LNS;
    gpt2_model *a, *b;
    CHECK_EQ_INT(gpt2_create(&a, &c0, &err), 0);
    CHECK_EQ_INT(gpt2_create(&b, &c1, &err), 0);
    gpt2_init_random(a, 5);
    copy_shared(a, b);
    gpt2_enable_training(a, &err);
    gpt2_enable_training(b, &err);
    int32_t in[24], tg[24];
    batch(in, tg, 24, 50);
    fwd_bwd(a, in, tg, 2, 12);
    fwd_bwd(b, in, tg, 2, 12);
    CHECK(a->loss == b->loss);
    CHECK_MSG(!memcmp(a->grads, b->grads, a->n_floats * sizeof(float)), "arch %d: LNS L=1 grads differ from Pre-LN", arch);
    CHECK_EQ_INT(gpt2_forward(a, in, NULL, 2, 12, NULL, &err), 0);
    CHECK_EQ_INT(gpt2_forward(b, in, NULL, 2, 12, NULL, &err), 0);
    CHECK(!memcmp(a->logits, b->logits, (size_t)24 * a->cfg.padded_vocab * sizeof(float)));
    gpt2_free(a);
    gpt2_free(b);
    /* with 3 layers LNS differs, and arch gpt2's residual projections get the plain 0.02 init */
    c0.n_layer = c1.n_layer = 3;
    CHECK_EQ_INT(gpt2_create(&a, &c0, &err), 0);
    CHECK_EQ_INT(gpt2_create(&b, &c1, &err), 0);
    gpt2_init_random(a, 5);
    gpt2_init_random(b, 5);
    const gpt2_view *pa = gpt2_find_view(a, "h.2.mlp.c_proj.weight"), *pb = gpt2_find_view(b, "h.2.mlp.c_proj.weight");
    double ra = sqrt(k_sumsq(a->params + pa->offset, pa->numel) / pa->numel);
    double rb = sqrt(k_sumsq(b->params + pb->offset, pb->numel) / pb->numel);
    if (arch == GPT2_ARCH_GPT2) CHECK_CLOSE(ra * sqrt(6.0), rb, 0, 0.01);
    else CHECK(ra == rb);
    copy_shared(a, b);
    CHECK_EQ_INT(gpt2_forward(a, in, NULL, 2, 12, NULL, &err), 0);
    float l0 = a->logits[7];
    CHECK_EQ_INT(gpt2_forward(b, in, NULL, 2, 12, NULL, &err), 0);
    CHECK(l0 != b->logits[7]);
    gpt2_free(a);
    gpt2_free(b);
}

static void identity_mtp(void) {
    lmc_err err;
    gpt2_config c0 = small(GPT2_ARCH_LLAMA, 2), c1 = c0;
    c1.mtp_heads = 3;
    gpt2_model *a, *b;
    CHECK_EQ_INT(gpt2_create(&a, &c0, &err), 0);
    CHECK_EQ_INT(gpt2_create(&b, &c1, &err), 0);
    CHECK_EQ_INT(b->mtp_active, 3);
    CHECK_EQ_INT(gpt2_param_count(&c1), gpt2_param_count(&c0) + 3 * 50 * 16);
    gpt2_init_random(a, 9);
    gpt2_init_random(b, 9);
    /* the extra views come after the plain ones: same seed, same trunk */
    CHECK(!memcmp(a->params, b->params, a->n_floats * sizeof(float)));
    gpt2_enable_training(a, &err);
    gpt2_enable_training(b, &err);
    b->mtp_active = 0;
    int32_t in[24], tg[24];
    batch(in, tg, 24, 50);
    gpt2_adamw hp = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
    float *h1 = b->params + b->views[b->mtp_view0].offset;
    float *h1_0 = malloc(50 * 16 * sizeof(float));
    memcpy(h1_0, h1, 50 * 16 * sizeof(float));
    for (int s = 0; s < 3; s++) {
        fwd_bwd(a, in, tg, 2, 12);
        fwd_bwd(b, in, tg, 2, 12);
        CHECK(a->loss == b->loss && b->mtp_loss == b->loss);
        CHECK(!memcmp(a->grads, b->grads, a->n_floats * sizeof(float)));
        gpt2_adamw_step(a, &hp, &err);
        gpt2_adamw_step(b, &hp, &err);
        CHECK(!memcmp(a->params, b->params, a->n_floats * sizeof(float)));
        CHECK_MSG(!memcmp(h1, h1_0, 50 * 16 * sizeof(float)), "an inactive head moved (weight decay or update)");
    }
    /* one active head: head 1's loss is on targets shifted by one, positions past the row get none */
    b->mtp_active = 1;
    fwd_bwd(b, in, tg, 2, 12);
    CHECK(b->mtp_losses[1] > 0 && b->mtp_losses[2] == 0);
    CHECK_CLOSE(b->mtp_loss, b->mtp_losses[0] + b->mtp_losses[1], 0, 1e-6);
    const gpt2_view *v2 = gpt2_find_view(b, "mtp.2.weight");
    CHECK(k_sumsq(b->grads + v2->offset, v2->numel) == 0.0);
    const gpt2_view *v1 = gpt2_find_view(b, "mtp.1.weight");
    CHECK(k_sumsq(b->grads + v1->offset, v1->numel) > 0.0);
    /* inference forward: logits of the next-token head only, identical to the plain model */
    CHECK_EQ_INT(gpt2_forward(a, in, NULL, 2, 12, NULL, &err), 0);
    CHECK_EQ_INT(gpt2_forward(b, in, NULL, 2, 12, NULL, &err), 0);
    free(h1_0);
    gpt2_free(a);
    gpt2_free(b);
}

static void curriculum(void) {
    /* K = 3 extra heads (k_max = 4), E = 8 steps: stages of 2 */
    int fwd[8] = {0, 0, 1, 1, 2, 2, 3, 3}, rev[8] = {3, 3, 2, 2, 1, 1, 0, 0};
    for (int e = 0; e < 8; e++) {
        CHECK_EQ_INT(gpt2_mtp_active_at(GPT2_MTP_CURRICULUM_FORWARD, 3, e, 8), fwd[e]);
        CHECK_EQ_INT(gpt2_mtp_active_at(GPT2_MTP_CURRICULUM_REVERSE, 3, e, 8), rev[e]);
        CHECK_EQ_INT(gpt2_mtp_active_at(GPT2_MTP_CURRICULUM_NONE, 3, e, 8), 3);
    }
    /* uneven: E = 10, k_max = 3: stage = floor(3e/10) -> 0,0,0,0,1,1,1,2,2,2 */
    int f10[10] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    for (int e = 0; e < 10; e++) CHECK_EQ_INT(gpt2_mtp_active_at(GPT2_MTP_CURRICULUM_FORWARD, 2, e, 10), f10[e]);
    CHECK_EQ_INT(gpt2_mtp_active_at(GPT2_MTP_CURRICULUM_FORWARD, 0, 3, 10), 0);
}

static int mc_of(const char *yaml, gpt2_config *mc, lmc_err *err) {
    train_config c;
    train_config_defaults(&c);
    if (train_config_load_buf(&c, yaml, strlen(yaml), "cfg.yaml", err)) return -1;
    if (train_config_validate(&c, 0, err)) return -1;
    return train_model_config(&c, mc, err);
}

static void config_keys(void) {
    lmc_err err;
    gpt2_config mc;
    CHECK(mc_of("model: {vocab_size: 300, depth_scaling: lns, activation: tropical, activation_degree: 4, mtp_heads: 2}\n", &mc, &err) == 0);
    CHECK(mc.depth_scaling == GPT2_DEPTH_LNS && mc.act == GPT2_ACT_TROPICAL && mc.act_degree == 4 && mc.mtp_heads == 2);
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, activation: hermite}\n", &mc, &err) == 0);
    CHECK(mc.act == GPT2_ACT_HERMITE && mc.mlp == GPT2_MLP_GELU && mc.act_degree == 3);
    CHECK(mc_of("model: {vocab_size: 300, activation: swiglu}\n", &mc, &err) == 0);
    CHECK(mc.act == GPT2_ACT_MLP && mc.mlp == GPT2_MLP_SWIGLU);
    CHECK(mc_of("model: {vocab_size: 300}\n", &mc, &err) == 0);
    CHECK(mc.act == 0 && mc.depth_scaling == 0 && mc.mtp_heads == 0);
    CHECK(mc_of("model: {depth_scaling: sqrt}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.depth_scaling");
    CHECK(mc_of("model: {mtp_heads: 9}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.mtp_heads");
    CHECK(mc_of("train: {mtp_curriculum: sideways}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "train.mtp_curriculum");
    gpt2_config c = small(GPT2_ARCH_LLAMA, 1);
    c.act = GPT2_ACT_FOURIER;
    CHECK(gpt2_config_check(&c, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "swiglu");
}

/* Save as an HF folder, load back: same config, weights and logits; lmc_switches names the switches. */
static void hf_round_trip(int arch, const char *tmp) {
    lmc_err err;
    gpt2_config c = small(arch, 2);
    c.depth_scaling = GPT2_DEPTH_LNS;
    c.mtp_heads = 2;
    if (arch == GPT2_ARCH_GPT2) { c.act = GPT2_ACT_FOURIER; c.act_degree = 2; }
    gpt2_model *a, *b;
    CHECK_EQ_INT(gpt2_create(&a, &c, &err), 0);
    gpt2_init_random(a, 3);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/hf_%d", tmp, arch);
    CHECK_MSG(gpt2_save_hf(a, dir, &err) == 0, "%s", err.msg);
    CHECK_MSG(gpt2_load_hf(dir, &b, &err) == 0, "%s", err.msg);
    if (!b) { gpt2_free(a); return; }
    CHECK(b->cfg.depth_scaling == c.depth_scaling && b->cfg.act == c.act && b->cfg.mtp_heads == 2 &&
          b->cfg.act_degree == a->cfg.act_degree);
    CHECK_EQ_INT(b->n_floats, a->n_floats);
    CHECK(!memcmp(a->params, b->params, a->n_floats * sizeof(float)));
    char p[4300];
    snprintf(p, sizeof p, "%s/config.json", dir);
    json_t *j = lmc_json_load_file(p, &err);
    json_t *s = j ? json_object_get(j, "lmc_switches") : NULL;
    CHECK(s && !strcmp(json_string_value(json_object_get(s, "depth_scaling")), "lns"));
    CHECK(s && json_integer_value(json_object_get(s, "mtp_heads")) == 2);
    json_decref(j);
    gpt2_free(a);
    gpt2_free(b);
}

/* KV-cache decoding with LNS + a learnable activation against the full forward. */
static void kv_vs_full(int act) {
    lmc_err err;
    gpt2_config c = small(GPT2_ARCH_GPT2, 3);
    c.depth_scaling = GPT2_DEPTH_LNS;
    c.act = act;
    c.mtp_heads = 1;
    gpt2_model *m;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    gpt2_init_random(m, 11);
    k_scale(m->wte, 8.0f, (size_t)m->cfg.padded_vocab * 16);  /* sharper logits */
    int32_t seq[12];
    for (int i = 0; i < 12; i++) seq[i] = (i * 7 + 3) % 50;
    CHECK_EQ_INT(gpt2_forward(m, seq, NULL, 1, 12, NULL, &err), 0);
    gen_kv kv;
    CHECK_EQ_INT(gen_kv_init(&kv, m, 12, &err), 0);
    double md = 0, ma = 0;
    for (int t = 0; t < 12; t++) {
        CHECK_EQ_INT(gen_kv_step(&kv, m, seq[t], &err), 0);
        for (int v = 0; v < 50; v++) {
            double d = fabs((double)kv.logits[v] - m->logits[(size_t)t * m->cfg.padded_vocab + v]);
            if (d > md) md = d;
            if (fabs(kv.logits[v]) > ma) ma = fabs(kv.logits[v]);
        }
    }
    CHECK_MSG(md <= 1e-5 * (1 + ma), "act %d: KV logits differ by %g (max %g)", act, md, ma);
    gen_kv_free(&kv);
    gpt2_free(m);
}

/* mode 0: LNS + tropical + MTP curriculum; 1: nGPT; 2: anGPT (with QK-norm) */
static void resume_bitwise(const char *dir, int ngpt) {
    lmc_err err;
    train_result res;
    train_config a, b;
    train_opts o;
    const char *names[3][2] = {{"sw_a", "sw_b"}, {"ng_a", "ng_b"}, {"an_a", "an_b"}};
    tiny_config(&a, dir, names[ngpt][0]);
    if (ngpt) {
        snprintf(a.arch, sizeof a.arch, "llama");
        snprintf(a.normalized, sizeof a.normalized, ngpt == 2 ? "angpt" : "ngpt");
        if (ngpt == 2) snprintf(a.qk_norm, sizeof a.qk_norm, "true");
        a.weight_decay = 0;
        a.warmup_steps = 0;
    } else {
        snprintf(a.depth_scaling, sizeof a.depth_scaling, "lns");
        snprintf(a.activation, sizeof a.activation, "tropical");
        a.mtp_heads = 2;
        snprintf(a.mtp_curriculum, sizeof a.mtp_curriculum, "forward");
    }
    a.threads = 1;
    b = a;
    snprintf(b.run_name, sizeof b.run_name, "%s", names[ngpt][1]);
    memset(&o, 0, sizeof o);
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    CHECK(res.last_val_loss == res.last_val_loss);
    o.stop_at = 7;
    CHECK_MSG(train_run(&b, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 7);
    o.stop_at = 0;
    o.resume = 1;
    CHECK_MSG(train_run(&b, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char *ma = tiny_metrics(&a), *mb = tiny_metrics(&b);
    CHECK_MSG(ma && mb && !strcmp(ma, mb), "metrics differ after resume");
    free(ma);
    free(mb);
    char pa[2048], pb[2048];
    snprintf(pa, sizeof pa, "%s/runs/%s/checkpoints/step_00000012", dir, a.run_name);
    snprintf(pb, sizeof pb, "%s/runs/%s/checkpoints/step_00000012", dir, b.run_name);
    const char *files[] = {"model.safetensors", "optimizer.safetensors"};
    for (int i = 0; i < 2; i++) {
        size_t la = 0, lb = 0;
        char *x = tiny_file(pa, files[i], &la), *y = tiny_file(pb, files[i], &lb);
        CHECK_MSG(x && y && la == lb && !memcmp(x, y, la), "%s differs after resume", files[i]);
        free(x);
        free(y);
    }
}

/* gpt2_depth_stats: var[0] is the embeddings' variance, angular distances lie in [0, 1]; the MTP drafts
 * (mtp_argmax) are the argmax of each head's logits. */
static void diagnostics(void) {
    lmc_err err;
    gpt2_config c = small(GPT2_ARCH_LLAMA, 3);
    c.depth_scaling = GPT2_DEPTH_LNS;
    c.mtp_heads = 2;
    gpt2_model *m;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    gpt2_init_random(m, 4);
    int32_t in[24], tg[24];
    batch(in, tg, 24, 50);
    double var[4] = {0}, ang[4] = {0};
    CHECK(gpt2_depth_stats(m, in, 2, 12, var, ang, &err) != 0);  /* needs training state */
    gpt2_enable_training(m, &err);
    CHECK_EQ_INT(gpt2_depth_stats(m, in, 2, 12, var, ang, &err), 0);
    double s = 0, s2 = 0;
    for (int i = 0; i < 24; i++)
        for (int k = 0; k < 16; k++) { double x = m->wte[(size_t)in[i] * 16 + k]; s += x; s2 += x * x; }
    CHECK_CLOSE(var[0], s2 / 384 - (s / 384) * (s / 384), 1e-12, 1e-6);
    for (int l = 0; l < 3; l++) CHECK(ang[l] > 0 && ang[l] <= 1 && var[l + 1] > 0);
    int32_t *am = malloc(2 * 24 * sizeof(int32_t));
    m->mtp_argmax = am;
    CHECK_EQ_INT(gpt2_forward(m, in, tg, 2, 12, NULL, &err), 0);
    m->mtp_argmax = NULL;
    /* drafts are token ids, and the two heads (different weights) do not draft the same everywhere */
    int differ = 0;
    for (int i = 0; i < 24; i++) { CHECK(am[i] >= 0 && am[i] < 50 && am[24 + i] >= 0 && am[24 + i] < 50); differ |= am[i] != am[24 + i]; }
    CHECK(differ);
    free(am);
    gpt2_free(m);
}

/* nGPT: config key and its requirements, HF round trip, KV-cache decoding = full forward, and the
 * matrices on the unit sphere after init and after AdamW steps with weight decay. */
static void ngpt(const char *tmp) {
    lmc_err err;
    gpt2_config mc;
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, n_head: 4, normalized: ngpt}\n", &mc, &err) == 0);
    CHECK(mc.normalized == GPT2_NORMALIZED_NGPT);
    CHECK(mc_of("model: {vocab_size: 300, normalized: ngpt}\n", &mc, &err) != 0);  /* gpt2 preset: biases, GELU */
    CHECK_STR_CONTAINS(err.msg, "ngpt");
    gpt2_config c = small(GPT2_ARCH_LLAMA, 2);
    c.normalized = GPT2_NORMALIZED_NGPT;
    gpt2_model *m, *b;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    gpt2_init_random(m, 21);
    const gpt2_view *sz = gpt2_find_view(m, "ngpt.sz");
    CHECK(sz && fabs(m->params[sz->offset] - 0.25) < 1e-7);  /* base = 1/sqrt(16) */
    double n0 = sqrt(k_sumsq(m->wte + 16 * 7, 16));
    CHECK_CLOSE(n0, 1.0, 0, 1e-6);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/hf_ngpt", tmp);
    CHECK_MSG(gpt2_save_hf(m, dir, &err) == 0, "%s", err.msg);
    CHECK_MSG(gpt2_load_hf(dir, &b, &err) == 0, "%s", err.msg);
    if (b) {
        CHECK(b->cfg.normalized == GPT2_NORMALIZED_NGPT);
        CHECK(!memcmp(m->params, b->params, m->n_floats * sizeof(float)));
        gpt2_free(b);
    }
    int32_t seq[12];
    for (int i = 0; i < 12; i++) seq[i] = (i * 5 + 1) % 50;
    CHECK_EQ_INT(gpt2_forward(m, seq, NULL, 1, 12, NULL, &err), 0);
    gen_kv kv;
    CHECK_EQ_INT(gen_kv_init(&kv, m, 12, &err), 0);
    double md = 0, ma = 0;
    for (int t = 0; t < 12; t++) {
        CHECK_EQ_INT(gen_kv_step(&kv, m, seq[t], &err), 0);
        for (int v = 0; v < 50; v++) {
            double d = fabs((double)kv.logits[v] - m->logits[(size_t)t * m->cfg.padded_vocab + v]);
            if (d > md) md = d;
            if (fabs(kv.logits[v]) > ma) ma = fabs(kv.logits[v]);
        }
    }
    CHECK_MSG(md <= 1e-5 * (1 + ma), "nGPT KV logits differ by %g (max %g)", md, ma);
    gen_kv_free(&kv);
    /* steps with weight decay (which would shrink the rows): still on the sphere */
    gpt2_enable_training(m, &err);
    int32_t in[24], tg[24];
    batch(in, tg, 24, 50);
    gpt2_adamw hp = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
    float first = 0;
    for (int st = 0; st < 5; st++) {
        fwd_bwd(m, in, tg, 2, 12);
        if (st == 0) first = m->loss;
        gpt2_adamw_step(m, &hp, &err);
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, 1);
        double worst = 0;
        for (int j = 0; j < 48; j++) {  /* columns of W_qkv over d */
            double ss = 0;
            for (int r = 0; r < 16; r++) ss += (double)p.qkv_w[r * 48 + j] * p.qkv_w[r * 48 + j];
            if (fabs(sqrt(ss) - 1) > worst) worst = fabs(sqrt(ss) - 1);
        }
        for (int r = 0; r < 16; r++) {  /* rows of W_o */
            double e = fabs(sqrt(k_sumsq(p.proj_w + r * 16, 16)) - 1);
            if (e > worst) worst = e;
        }
        CHECK_MSG(worst < 1e-5, "step %d: off the sphere by %g", st, worst);
    }
    CHECK(m->loss < first);
    gpt2_free(m);
}

/* Every d-long matrix vector of m has norm <= 1 + tol; returns the largest. */
static double max_vec_norm(const gpt2_model *m) {
    const size_t C = (size_t)m->cfg.d_model, F = (size_t)m->cfg.d_ff, V = (size_t)m->cfg.vocab_size;
    double mx = 0;
#define UPD(p, n, st) do { double ss_ = 0; for (size_t i_ = 0; i_ < (n); i_++) ss_ += (double)(p)[i_ * (st)] * (p)[i_ * (st)]; \
                           if (sqrt(ss_) > mx) mx = sqrt(ss_); } while (0)
    for (size_t r = 0; r < V; r++) { UPD(m->wte + r * C, C, 1); UPD(m->lm_head + r * C, C, 1); }
    for (int l = 0; l < m->cfg.n_layer; l++) {
        gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
        for (size_t j = 0; j < 3 * C; j++) UPD(p.qkv_w + j, C, 3 * C);
        for (size_t j = 0; j < 2 * F; j++) UPD(p.fc_w + j, C, 2 * F);
        for (size_t r = 0; r < C; r++) UPD(p.proj_w + r * C, C, 1);
        for (size_t r = 0; r < F; r++) UPD(p.fcproj_w + r * C, C, 1);
    }
#undef UPD
    return mx;
}

/* anGPT at d = 64 (4 heads of 16, d_ff 256, 32 positions, 2000 tokens: random unit inputs, since the
 * init puts every embedding row on the sphere): each constant factor brings its op's output norm to 1
 * (TECHNIQUES §3b test 1: q, k, v heads, the attention output, x_A, up, the activation, x_M; within 5%,
 * the attention output within 10% since its factor assumes independent values), and the mean ||h||
 * entering every block stays within 10% of 1 at init and after 30 AdamW steps at lr 3e-3 (the experiments'
 * lr) on fresh batches (test 4; at 1e-2 the deepest block's input drifts to ~1.8, see docs/research.md);
 * every matrix vector has norm <= 1 after every step (test 2). */
static void angpt_norms(void) {
    lmc_err err;
    gpt2_config c;
    gpt2_config_preset(&c, GPT2_ARCH_LLAMA);
    c.n_layer = 4; c.n_head = 4; c.d_model = 64; c.max_seq = 32; c.vocab_size = 2000;
    c.qk_norm = 1;
    c.normalized = GPT2_NORMALIZED_ANGPT;
    gpt2_model *m;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    CHECK_EQ_INT(m->cfg.d_ff, 256);
    gpt2_init_random(m, 77);
    CHECK_CLOSE(max_vec_norm(m), 1.0, 0, 1e-6);
    CHECK(gpt2_enable_training(m, &err) == 0);
    enum { B = 4, T = 32 };
    int32_t in[B * T], tg[B * T];
    lmc_rng r;
    lmc_rng_init(&r, 5);
    for (int i = 0; i < B * T; i++) { in[i] = (int32_t)lmc_rng_below(&r, 2000); tg[i] = (int32_t)lmc_rng_below(&r, 2000); }
    double st[GPT2_ANGPT_STATS], hn[5];
    CHECK(gpt2_angpt_stats(m, st, hn) == -1);  /* no forward yet */
    CHECK_EQ_INT(gpt2_forward(m, in, tg, B, T, NULL, &err), 0);
    CHECK_EQ_INT(gpt2_angpt_stats(m, st, hn), 0);
    const char *what[GPT2_ANGPT_STATS] = {"q head", "k head", "v head", "attention output head", "x_A", "up", "activation", "x_M"};
    for (int i = 0; i < GPT2_ANGPT_STATS; i++) {
        const double tol = i == 3 ? 0.10 : 0.05;
        CHECK_MSG(fabs(st[i] - 1) < tol, "anGPT init: mean norm of the %s after its factor is %.4f", what[i], st[i]);
    }
    printf("anGPT init norms: q %.3f k %.3f v %.3f att %.3f xA %.3f up %.3f act %.3f xM %.3f | h", st[0], st[1], st[2],
           st[3], st[4], st[5], st[6], st[7]);
    for (int l = 0; l <= 4; l++) { printf(" %.3f", hn[l]); CHECK_MSG(fabs(hn[l] - 1) < 0.1, "init: mean ||h_%d|| = %.4f", l, hn[l]); }
    gpt2_adamw hp = {3e-3f, 0.9f, 0.95f, 1e-8f, 0.0f};
    float first = 0;
    double worst = 0;
    for (int s = 0; s < 30; s++) {
        /* a new batch every step from a skewed unigram (token id = the square of a uniform, scaled): the
         * model can learn it but not memorise a batch */
        for (int i = 0; i < B * T; i++) {
            double u = (double)lmc_rng_below(&r, 1 << 20) / (1 << 20);
            in[i] = (int32_t)(u * u * 1999); u = (double)lmc_rng_below(&r, 1 << 20) / (1 << 20); tg[i] = (int32_t)(u * u * 1999);
        }
        fwd_bwd(m, in, tg, B, T);
        if (s == 0) first = m->loss;
        gpt2_adamw_step(m, &hp, &err);
        double mx = max_vec_norm(m);
        if (mx > worst) worst = mx;
    }
    CHECK_MSG(worst <= 1.0 + 1e-6, "a matrix vector grew past the unit ball: %.9g", worst);
    CHECK_EQ_INT(gpt2_forward(m, in, tg, B, T, NULL, &err), 0);
    CHECK(m->loss < first - 0.01f);
    CHECK_EQ_INT(gpt2_angpt_stats(m, st, hn), 0);
    printf("\nanGPT after 30 steps: loss %.3f -> %.3f, q %.3f k %.3f v %.3f att %.3f xA %.3f up %.3f act %.3f xM %.3f | h",
           first, m->loss, st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]);
    for (int l = 0; l <= 4; l++) { printf(" %.3f", hn[l]); CHECK_MSG(fabs(hn[l] - 1) < 0.1, "trained: mean ||h_%d|| = %.4f", l, hn[l]); }
    printf("\n");
    /* the factors themselves: nu_att = 1 for one key, falling then rising towards sqrt(n/e); nu_act as the
     * paper's 3.74 at d_ff = 4d (our quadrature: 3.72) */
    CHECK(m->angpt_nu[0] == 1.0f && m->angpt_nu[31] > 2.0f);
    CHECK_CLOSE(gpt2_angpt_nu_act(64, 256), 3.72, 0, 0.01);
    gpt2_free(m);
}

/* anGPT: config key, its checks (weight decay, sf-adamw refused; HF export refused), HF folder round trip
 * with lmc_switches, KV-cache decoding = the full forward, and the bound after steps of another optimizer
 * (muon: train.c's step_optimizer applies it). */
static void angpt(const char *tmp) {
    lmc_err err;
    gpt2_config mc;
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, n_head: 4, normalized: angpt, qk_norm: true}\n", &mc, &err) == 0);
    CHECK(mc.normalized == GPT2_NORMALIZED_ANGPT && mc.qk_norm == 1);
    CHECK(mc_of("model: {vocab_size: 300, normalized: angpt}\n", &mc, &err) != 0);  /* gpt2 preset */
    CHECK_STR_CONTAINS(err.msg, "angpt");
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, normalized: ngpt, qk_norm: true}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "qk_norm");
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, normalized: angpt, attention: lssa}\n", &mc, &err) != 0);
    CHECK(mc_of("model: {arch: llama, vocab_size: 300, normalized: bngpt}\n", &mc, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.normalized");
    gpt2_config c = small(GPT2_ARCH_LLAMA, 2);
    c.normalized = GPT2_NORMALIZED_ANGPT;
    c.qk_norm = 1;
    CHECK(!hf_expressible(&c));
    CHECK_STR_CONTAINS(hf_unexpressible_switch(&c), "angpt");
    CHECK_EQ_INT(gpt2_param_count(&c), gpt2_param_count(&(gpt2_config){.n_layer = 2, .n_head = 2, .d_model = 16, .max_seq = 12,
        .vocab_size = 50, .arch = GPT2_ARCH_LLAMA, .norm = GPT2_NORM_RMSNORM, .position = GPT2_POS_ROPE,
        .mlp = GPT2_MLP_SWIGLU, .no_bias = 1, .untied = 1, .qk_norm = 1}) + 2 * 2 * 16 + 50);
    gpt2_model *m, *b;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    gpt2_init_random(m, 23);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/hf_angpt", tmp);
    CHECK_MSG(gpt2_save_hf(m, dir, &err) == 0, "%s", err.msg);
    CHECK_MSG(gpt2_load_hf(dir, &b, &err) == 0, "%s", err.msg);
    if (b) {
        CHECK(b->cfg.normalized == GPT2_NORMALIZED_ANGPT && b->cfg.qk_norm == 1);
        CHECK(!memcmp(m->params, b->params, m->n_floats * sizeof(float)));
        gpt2_free(b);
    }
    char p[4300];
    snprintf(p, sizeof p, "%s/config.json", dir);
    json_t *j = lmc_json_load_file(p, &err);
    json_t *s = j ? json_object_get(j, "lmc_switches") : NULL;
    CHECK(s && !strcmp(json_string_value(json_object_get(s, "normalized")), "angpt"));
    json_decref(j);
    int32_t seq[12];
    for (int i = 0; i < 12; i++) seq[i] = (i * 5 + 1) % 50;
    k_scale(gpt2_angpt_param(m, m->params, 2, 0), 8.0f, 50);  /* sharper logits */
    CHECK_EQ_INT(gpt2_forward(m, seq, NULL, 1, 12, NULL, &err), 0);
    gen_kv kv;
    CHECK_EQ_INT(gen_kv_init(&kv, m, 12, &err), 0);
    double md = 0, ma = 0;
    for (int t = 0; t < 12; t++) {
        CHECK_EQ_INT(gen_kv_step(&kv, m, seq[t], &err), 0);
        for (int v = 0; v < 50; v++) {
            double d = fabs((double)kv.logits[v] - m->logits[(size_t)t * m->cfg.padded_vocab + v]);
            if (d > md) md = d;
            if (fabs(kv.logits[v]) > ma) ma = fabs(kv.logits[v]);
        }
    }
    CHECK_MSG(md <= 1e-5 * (1 + ma) && ma > 1, "anGPT KV logits differ by %g (max %g)", md, ma);
    gen_kv_free(&kv);
    /* a longer context (lmc eval --extrapolate) extends the factor table; the first positions keep theirs */
    float nu12[13];
    memcpy(nu12, m->angpt_nu, sizeof nu12);
    CHECK_EQ_INT(gpt2_set_context(m, 40, &err), 0);
    CHECK(!memcmp(m->angpt_nu, nu12, 12 * sizeof(float)) && m->angpt_nu[40] == nu12[12] && m->angpt_nu[39] > 0);
    int32_t seq40[40];
    for (int i = 0; i < 40; i++) seq40[i] = (i * 7 + 2) % 50;
    CHECK_EQ_INT(gpt2_forward(m, seq40, NULL, 1, 40, NULL, &err), 0);
    gpt2_free(m);
    /* train-level checks: weight decay and sf-adamw refused; muon keeps the bound */
    train_config a;
    train_result res;
    train_opts o;
    memset(&o, 0, sizeof o);
    tiny_config(&a, tmp, "an_wd");
    snprintf(a.arch, sizeof a.arch, "llama");
    snprintf(a.normalized, sizeof a.normalized, "angpt");
    snprintf(a.qk_norm, sizeof a.qk_norm, "true");
    a.weight_decay = 0.1;
    CHECK(train_run(&a, &o, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "weight_decay");
    a.weight_decay = 0;
    snprintf(a.optimizer, sizeof a.optimizer, "sf-adamw");
    CHECK(train_run(&a, &o, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "angpt");
    snprintf(a.optimizer, sizeof a.optimizer, "muon");
    CHECK(train_run(&a, &o, &res, &err) != 0);  /* muon's own decay is 0.1 by default */
    CHECK_STR_CONTAINS(err.msg, "muon.weight_decay");
    a.muon_weight_decay = 0;
    snprintf(a.run_name, sizeof a.run_name, "an_muon");
    a.steps = 6;
    a.lr = 0.05;  /* large steps: the bound has work to do */
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    CHECK_MSG(gpt2_load_hf(res.last_ckpt, &m, &err) == 0, "%s", err.msg);
    if (m) {
        double mx = max_vec_norm(m);
        CHECK_MSG(mx <= 1.0 + 1e-6 && mx > 0.999, "muon run: largest matrix vector norm %.9g", mx);
        gpt2_free(m);
    }
}

int main(void) {
    lmc_kernels_set_threads(1);  /* small tensors: one thread is faster, and immune to oversubscription */
    char *tmp = test_tmpdir();
    identity_lns(GPT2_ARCH_GPT2);
    identity_lns(GPT2_ARCH_LLAMA);
    identity_mtp();
    curriculum();
    config_keys();
    hf_round_trip(GPT2_ARCH_GPT2, tmp);
    hf_round_trip(GPT2_ARCH_LLAMA, tmp);
    kv_vs_full(GPT2_ACT_HERMITE);
    kv_vs_full(GPT2_ACT_FOURIER);
    kv_vs_full(GPT2_ACT_TROPICAL);
    diagnostics();
    ngpt(tmp);
    resume_bitwise(tmp, 0);
    resume_bitwise(tmp, 1);
    angpt_norms();
    angpt(tmp);
    resume_bitwise(tmp, 2);
    free(tmp);
    return test_summary("train/research_switches");
}
