/* Document-masked attention (issue 15, model.doc_mask) against PyTorch: F.scaled_dot_product_attention
 * in float64 with an explicit block-causal T x T mask (softmax MHA / GQA / MQA / ALiBi) and the LSSA /
 * LSSAR formula with document-relative rows (tests/reference/make_docmask_fixtures.py). Tolerances,
 * as max |ours - ref| / max |ref| per tensor: forward 1e-5, dqkv 1e-4 (fp32 kernels against an
 * fp64 reference over up to 130 keys; the plain causal kernels meet the same bounds in
 * test_family_kernels). Also: an all-zero start table is bitwise the unmasked kernel, backward is
 * independent of the thread count, and the per-row position kernels equal the window ones. */
#include "test.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attn_switch.h"
#include "model/fixture_util.h"

static void run(int power, float *out, float *lse, float *dqkv, const float *qkv, const float *dout, int B, int T,
                int H, int KV, int hd, const float *sl, const int32_t *ds) {
    if (power < 0) {
        CHECK(k_attention_fwd_doc(out, lse, qkv, B, T, H, KV, hd, sl, ds) == 0);
        CHECK(k_attention_bwd_doc(dqkv, dout, qkv, out, lse, B, T, H, KV, hd, sl, ds) == 0);
    } else {
        CHECK(k_attention_lssa_fwd_doc(out, qkv, B, T, H, KV, hd, power, ds) == 0);
        CHECK(k_attention_lssa_bwd_doc(dqkv, dout, qkv, B, T, H, KV, hd, power, ds) == 0);
    }
}

static void one_case(const st_file *f, const char *name) {
    int H, KV, hd, alibi, power;
    CHECK(sscanf(st_meta(f, name), "%d,%d,%d,%d,%d", &H, &KV, &hd, &alibi, &power) == 5);
    char key[64];
    snprintf(key, sizeof key, "%s.qkv", name);
    const st_tensor *tq = st_find(f, key);
    const int B = (int)tq->shape[0], T = (int)tq->shape[1];
    const size_t W = (size_t)(H + 2 * KV) * hd, nq = (size_t)B * T * W, no = (size_t)B * T * H * hd;
    float *qkv = read_tensor(f, key, NULL);
    snprintf(key, sizeof key, "%s.dout", name); float *dout = read_tensor(f, key, NULL);
    snprintf(key, sizeof key, "%s.out", name); float *rout = read_tensor(f, key, NULL);
    snprintf(key, sizeof key, "%s.dqkv", name); float *rdq = read_tensor(f, key, NULL);
    snprintf(key, sizeof key, "%s.ds", name); int32_t *ds = (int32_t *)read_tensor(f, key, NULL);
    float sl[16];
    k_alibi_slopes(sl, H);
    const float *slp = alibi ? sl : NULL;
    float *out = calloc(no, sizeof(float)), *lse = calloc((size_t)B * H * T, sizeof(float));
    float *dq = calloc(nq, sizeof(float)), *dq1 = calloc(nq, sizeof(float));
    float *out0 = calloc(no, sizeof(float)), *dq0 = calloc(nq, sizeof(float)), *outn = calloc(no, sizeof(float));
    float *dqn = calloc(nq, sizeof(float));
    run(power, out, lse, dq, qkv, dout, B, T, H, KV, hd, slp, ds);
    double ef = rel_err(out, rout, no, 0, 0, 0), eb = rel_err(dq, rdq, nq, 0, 0, 0);
    printf("docmask %-10s H=%d KV=%d hd=%d alibi=%d power=%d: out %.3g dqkv %.3g\n", name, H, KV, hd, alibi, power,
           ef, eb);
    CHECK_MSG(ef < 1e-5, "%s forward %.3g", name, ef);
    CHECK_MSG(eb < 1e-4, "%s backward %.3g", name, eb);
    /* the mask does something here: unmasked causal attention differs from the reference */
    run(power, outn, lse, dqn, qkv, dout, B, T, H, KV, hd, slp, NULL);
    CHECK(rel_err(outn, rout, no, 0, 0, 0) > 1e-2);
    /* thread-count independence of the masked backward (dK/dV group sums in a fixed order) */
    int th = lmc_kernels_get_threads();
    lmc_kernels_set_threads(1);
    run(power, out0, lse, dq1, qkv, dout, B, T, H, KV, hd, slp, ds);
    lmc_kernels_set_threads(th);
    CHECK(memcmp(dq, dq1, nq * sizeof(float)) == 0);
    CHECK(memcmp(out, out0, no * sizeof(float)) == 0);
    /* every row starting at 0 is the unmasked kernel, bit for bit */
    int32_t *zero = calloc((size_t)B * T, sizeof(int32_t));
    run(power, out0, lse, dq0, qkv, dout, B, T, H, KV, hd, slp, zero);
    CHECK(memcmp(out0, outn, no * sizeof(float)) == 0);
    CHECK(memcmp(dq0, dqn, nq * sizeof(float)) == 0);
    free(zero);
    free(qkv); free(dout); free(rout); free(rdq); free(ds); free(out); free(lse); free(dq); free(dq1);
    free(out0); free(dq0); free(outn); free(dqn);
}

/* k_rope_apply_pos / k_encoder_*_pos with pos = t are the window kernels (bitwise). */
static void test_pos_kernels(void) {
    const int B = 2, T = 9, hd = 6, nh = 3, C = 8, V = 5;
    const size_t ld = (size_t)nh * hd + 2, N = (size_t)B * T;
    float ct[9 * 3], st[9 * 3];
    k_rope_table(ct, st, T, hd, 10000.0f);
    float *x = calloc(N * ld, sizeof(float)), *y = calloc(N * ld, sizeof(float));
    int32_t pos[18], inp[18];
    for (size_t n = 0; n < N; n++) { pos[n] = (int32_t)(n % T); inp[n] = (int32_t)(n * 7 % V); }
    for (size_t i = 0; i < N * ld; i++) x[i] = y[i] = (float)sin(0.37 * (double)i);
    k_rope_apply(x, ld, B, T, 0, 1, nh, hd, ct, st, 0);
    k_rope_apply_pos(y, ld, N, pos, 1, nh, hd, ct, st, 0);
    CHECK(memcmp(x, y, N * ld * sizeof(float)) == 0);
    float wte[5 * 8], wpe[9 * 8], o1[18 * 8], o2[18 * 8];
    for (int i = 0; i < V * C; i++) wte[i] = (float)cos(0.3 * i);
    for (int i = 0; i < T * C; i++) wpe[i] = (float)sin(0.7 * i);
    k_encoder_fwd(o1, inp, wte, wpe, B, T, C);
    k_encoder_fwd_pos(o2, inp, pos, wte, wpe, N, C);
    CHECK(memcmp(o1, o2, sizeof o1) == 0);
    float g1[5 * 8] = {0}, g2[5 * 8] = {0}, p1[9 * 8] = {0}, p2[9 * 8] = {0};
    k_encoder_bwd(g1, p1, o1, inp, B, T, C);
    k_encoder_bwd_pos(g2, p2, o1, inp, pos, N, C);
    CHECK(memcmp(g1, g2, sizeof g1) == 0);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    free(x); free(y);
}

int main(void) {
    (void)read_f64;  /* fixture_util.h's scalar reader: not needed here */
    lmc_kernels_set_threads(2);
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/kernels/fixtures/docmask_attn.safetensors", test_source_dir());
    lmc_err err = {0};
    st_file f;
    int rc = st_open(&f, path, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        char cases[256];
        snprintf(cases, sizeof cases, "%s", st_meta(&f, "cases"));
        int n = 0;
        for (char *c = strtok(cases, ","); c; c = strtok(NULL, ","), n++) one_case(&f, c);
        CHECK(n >= 7);
        st_close(&f);
    }
    test_pos_kernels();
    return test_summary("test_docmask");
}
