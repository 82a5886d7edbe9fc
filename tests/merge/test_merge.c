/* lmc merge against the PyTorch reference written from the papers (tests/reference/merge_reference.py):
 * Task Arithmetic, TIES and steering bit for bit, DARE bit for bit with the same-seed masks (the masks
 * themselves compared too); the properties of TECHNIQUES §13 (one model at lambda 1 gives it back,
 * TIES at density 1 with agreeing signs is the mean, the trim keeps floor(density * numel) entries,
 * DARE's mean over seeds approaches tau and density 1 is TA, steering with k = 0 is the base); and the
 * whole-model path on GPT-2 models. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "base/rng.h"
#include "interop/safetensors.h"
#include "merge/merge.h"
#include "model/gpt2.h"

static st_file F;

static const float *get(const char *fmt, int a, int b) {
    char name[64];
    snprintf(name, sizeof name, fmt, a, b);
    const st_tensor *t = st_find(&F, name);
    if (!t) { fprintf(stderr, "missing %s\n", name); exit(1); }
    return (const float *)t->data; /* safetensors data is 8-aligned after the header */
}

static size_t numel(int v) {
    char name[32];
    snprintf(name, sizeof name, "base.%d", v);
    return st_find(&F, name)->numel;
}

static void check_same(const char *what, int v, const float *got, const float *want, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(&got[i], &want[i], 4) != 0;
    printf("%s tensor %d: %zu of %zu values differ from PyTorch\n", what, v, bad, n);
    CHECK(bad == 0);
}

static void test_reference(void) {
    lmc_err err;
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/merge/fixtures/merge_ref.safetensors", test_source_dir());
    int rc = st_open(&F, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    float w_ta[] = {0.5f, 1.0f, -0.3f}, w_ties[] = {0.5f, 1.0f, 0.8f}, w_dare[] = {1.0f, 0.5f, 1.0f};
    for (int v = 0; v < 3; v++) {
        size_t n = numel(v);
        const float *base = get("base.%d%.0d", v, 0);
        const float *ms[3];
        for (int t = 0; t < 3; t++) ms[t] = get("m%d.%d", t, v);
        float *out = malloc(n * 4);
        merge_opts o = {MERGE_TA, w_ta, 0.7f, 0, 0};
        CHECK(merge_tensor(&o, base, ms, 3, n, (uint64_t)v, out, &err) == 0);
        check_same("ta", v, out, get("ta.%d%.0d", v, 0), n);
        merge_opts ot = {MERGE_TIES, w_ties, 1.0f, 0.3f, 0};
        CHECK(merge_tensor(&ot, base, ms, 3, n, (uint64_t)v, out, &err) == 0);
        check_same("ties", v, out, get("ties.%d%.0d", v, 0), n);
        merge_opts od = {MERGE_DARE, w_dare, 0.9f, 0.4f, 1234};
        CHECK(merge_tensor(&od, base, ms, 3, n, (uint64_t)v, out, &err) == 0);
        check_same("dare", v, out, get("dare.%d%.0d", v, 0), n);
        merge_opts os = {MERGE_STEER, NULL, 1.5f, 0, 0};
        CHECK(merge_tensor(&os, base, ms, 2, n, (uint64_t)v, out, &err) == 0);
        check_same("steer", v, out, get("steer.%d%.0d", v, 0), n);
        /* the masks: lmc's rule, evaluated here, against the reference's */
        for (int t = 0; t < 3; t++) {
            char name[32];
            snprintf(name, sizeof name, "mask%d.%d", t, v);
            const uint8_t *mk = st_find(&F, name)->data;
            uint64_t key = lmc_rng_derive(lmc_rng_derive(1234, (uint64_t)t), (uint64_t)v);
            size_t bad = 0, kept = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t b[4];
                lmc_philox4x32(i / 4, key, b);
                int keep = (float)(b[i % 4] >> 8) * (1.0f / 16777216.0f) < 0.4f;
                bad += keep != mk[i];
                kept += keep;
            }
            CHECK(bad == 0);
            if (v == 0) printf("dare mask model %d: kept %zu of %zu (density 0.4)\n", t, kept, n);
        }
        free(out);
    }
    /* an error: steer with three models */
    merge_opts os = {MERGE_STEER, NULL, 1.0f, 0, 0};
    float out[12];
    const float *ms3[3] = {get("m%d.%d", 0, 2), get("m%d.%d", 1, 2), get("m%d.%d", 2, 2)};
    CHECK(merge_tensor(&os, get("base.%d%.0d", 2, 0), ms3, 3, 12, 2, out, &err) == LMC_EINVAL);
    st_close(&F);
}

static void test_properties(void) {
    enum { N = 1000 };
    lmc_rng r;
    lmc_rng_init(&r, 5);
    float base[N], a[N], b[N], out[N], out2[N];
    for (int i = 0; i < N; i++) {
        base[i] = lmc_rng_normal(&r);
        a[i] = base[i] + 0.1f * lmc_rng_normal(&r);
        b[i] = base[i] + 0.05f + 0.1f * fabsf(lmc_rng_normal(&r)); /* tau_b > 0 */
    }
    lmc_err err;
    const float *one[1] = {a};
    merge_opts o = {MERGE_TA, NULL, 1.0f, 0, 0};
    CHECK(merge_tensor(&o, base, one, 1, N, 0, out, &err) == 0);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= fabsf(out[i] - a[i]) <= 1e-6f * (1 + fabsf(a[i]));
    CHECK(ok); /* one model at lambda 1 gives it back (to rounding of (a - base) + base) */
    /* TIES at density 1 with agreeing signs (both tau > 0 here) = the mean of the task vectors */
    float c[N];
    for (int i = 0; i < N; i++) c[i] = base[i] + 2 * (b[i] - base[i]);
    const float *two[2] = {b, c};
    merge_opts ot = {MERGE_TIES, NULL, 1.0f, 1.0f, 0};
    CHECK(merge_tensor(&ot, base, two, 2, N, 0, out, &err) == 0);
    ok = 1;
    for (int i = 0; i < N; i++) ok &= fabsf(out[i] - (base[i] + 0.5f * ((b[i] - base[i]) + (c[i] - base[i])))) <= 1e-6f * (1 + fabsf(out[i]));
    CHECK(ok);
    /* the trim keeps exactly floor(density * numel) entries: merge one model at density 0.2 */
    merge_opts o2 = {MERGE_TIES, NULL, 1.0f, 0.2f, 0};
    CHECK(merge_tensor(&o2, base, one, 1, N, 0, out, &err) == 0);
    int kept = 0;
    for (int i = 0; i < N; i++) kept += out[i] != base[i];
    CHECK_EQ_INT(kept, 200);
    /* DARE: density 1 is TA; the mean over seeds approaches tau */
    merge_opts od = {MERGE_DARE, NULL, 1.0f, 1.0f, 9};
    CHECK(merge_tensor(&od, base, one, 1, N, 0, out, &err) == 0);
    CHECK(merge_tensor(&o, base, one, 1, N, 0, out2, &err) == 0);
    CHECK(!memcmp(out, out2, sizeof out));
    double mean_err = 0;
    static double acc[N];
    od.density = 0.3f;
    for (int s = 0; s < 400; s++) {
        od.seed = (uint64_t)s;
        CHECK(merge_tensor(&od, base, one, 1, N, 0, out, &err) == 0);
        for (int i = 0; i < N; i++) acc[i] += (double)out[i] - base[i];
    }
    double scale = 0;
    for (int i = 0; i < N; i++) { mean_err += fabs(acc[i] / 400 - (a[i] - base[i])); scale += fabs(a[i] - base[i]); }
    printf("dare: mean |E[tau~] - tau| / mean |tau| over 400 seeds = %.3f (expected ~ sqrt((1-p)/p/400) = %.3f)\n",
           mean_err / scale, sqrt(0.7 / 0.3 / 400) * 0.8);
    CHECK(mean_err / scale < 0.12);
    /* steering with k = 0 is the base */
    merge_opts os = {MERGE_STEER, NULL, 0.0f, 0, 0};
    const float *pn[2] = {a, b};
    CHECK(merge_tensor(&os, base, pn, 2, N, 0, out, &err) == 0);
    CHECK(!memcmp(out, base, sizeof out));
}

static void test_models(void) {
    gpt2_config c = {0};
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.n_layer = 2; c.n_head = 2; c.d_model = 32; c.max_seq = 16; c.vocab_size = 100;
    lmc_err err;
    CHECK(gpt2_config_check(&c, &err) == 0);
    gpt2_model *b, *m1, *m2, *out;
    CHECK(gpt2_create(&b, &c, &err) == 0 && gpt2_create(&m1, &c, &err) == 0 && gpt2_create(&m2, &c, &err) == 0 &&
          gpt2_create(&out, &c, &err) == 0);
    gpt2_init_random(b, 1);
    gpt2_init_random(m1, 2);
    gpt2_init_random(m2, 3);
    gpt2_model *ms[2] = {m1, m2};
    float w[2] = {0.25f, 0.75f};
    merge_opts o = {MERGE_TA, w, 0.5f, 0, 0};
    CHECK(merge_models(&o, b, ms, 2, out, &err) == 0);
    int ok = 1;
    for (int v = 0; v < b->n_views; v++) {
        const gpt2_view *vw = &b->views[v];
        for (size_t i = 0; i < vw->numel; i++) {
            size_t k = vw->offset + i;
            float acc = 0.0f;
            acc = acc + w[0] * (m1->params[k] - b->params[k]);
            acc = acc + w[1] * (m2->params[k] - b->params[k]);
            ok &= out->params[k] == b->params[k] + 0.5f * acc;
        }
    }
    CHECK(ok);
    /* a model of another size is refused */
    gpt2_config c2 = c;
    c2.d_model = 64;
    c2.padded_vocab = 0;
    gpt2_model *big;
    CHECK(gpt2_config_check(&c2, &err) == 0 && gpt2_create(&big, &c2, &err) == 0);
    gpt2_model *bad[1] = {big};
    CHECK(merge_models(&o, b, bad, 1, out, &err) == LMC_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "different architecture");
    gpt2_free(big); gpt2_free(b); gpt2_free(m1); gpt2_free(m2); gpt2_free(out);
}

int main(void) {
    test_reference();
    test_properties();
    test_models();
    return test_summary("test_merge");
}
