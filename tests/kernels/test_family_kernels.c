/* Transformer-family kernels (RMSNorm, RoPE, SwiGLU, token embedding, GQA/MQA attention, ALiBi):
 * (1) each double reference backward against central finite differences of its forward (1e-6 of the
 * largest gradient), (2) each optimised float kernel against the reference (1e-5 forward, 1e-4
 * backward, max|a-b| / max|ref|), (3) GQA backward is thread-count independent (bitwise). */
#include "test.h"
#include "ref_family.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"

static lmc_rng rng;
static double *drand_arr(size_t n, double scale) {
    double *a = (double *)malloc(n * sizeof(double) + 8);
    for (size_t i = 0; i < n; i++) a[i] = scale * (2.0 * lmc_rng_uniform_double(&rng) - 1.0);
    return a;
}
static double *dzeros(size_t n) { return (double *)calloc(n + 1, sizeof(double)); }
static float *to_f(const double *a, size_t n) {
    float *f = (float *)malloc(n * sizeof(float) + 4);
    for (size_t i = 0; i < n; i++) f[i] = (float)a[i];
    return f;
}
static float *fzeros(size_t n) { return (float *)calloc(n + 1, sizeof(float)); }
static double relerr(const double *a, const double *b, size_t n) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (!(d <= md)) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / (mb > 0 ? mb : 1);
}
static double relerr_f(const float *a, const double *b, size_t n) {
    double *t = (double *)malloc(n * sizeof(double) + 8);
    for (size_t i = 0; i < n; i++) t[i] = a[i];
    double e = relerr(t, b, n);
    free(t);
    return e;
}
static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
typedef double (*loss_fn)(void *ctx);
static void fd_grad(double *g, double *x, size_t n, loss_fn f, void *ctx) {
    for (size_t i = 0; i < n; i++) {
        double h = 1e-6 * (fabs(x[i]) > 1 ? fabs(x[i]) : 1.0), x0 = x[i];
        x[i] = x0 + h;
        double lp = f(ctx);
        x[i] = x0 - h;
        double lm = f(ctx);
        x[i] = x0;
        g[i] = (lp - lm) / (2 * h);
    }
}

/* ---- RMSNorm ---- */
typedef struct { int N, C; double *x, *w, *dout, *out; } rn_ctx;
static double rn_loss(void *p) {
    rn_ctx *c = (rn_ctx *)p;
    ref_rmsnorm_fwd(c->out, c->x, c->w, c->N, c->C, 1e-5);
    return dot(c->out, c->dout, (size_t)c->N * c->C);
}
static void test_rmsnorm(int N, int C) {
    rn_ctx c = {N, C, drand_arr((size_t)N * C, 2), drand_arr(C, 1.5), drand_arr((size_t)N * C, 1), dzeros((size_t)N * C)};
    size_t n = (size_t)N * C;
    double *dx = dzeros(n), *dw = dzeros(C), *gx = dzeros(n), *gw = dzeros(C);
    ref_rmsnorm_bwd(dx, dw, c.dout, c.x, c.w, N, C, 1e-5);
    fd_grad(gx, c.x, n, rn_loss, &c);
    fd_grad(gw, c.w, C, rn_loss, &c);
    CHECK_MSG(relerr(dx, gx, n) < 1e-6 && relerr(dw, gw, C) < 1e-6, "rmsnorm FD %.3g %.3g", relerr(dx, gx, n), relerr(dw, gw, C));
    rn_loss(&c);
    float *fx = to_f(c.x, n), *fw = to_f(c.w, C), *fd = to_f(c.dout, n), *fo = fzeros(n), *rs = fzeros(N);
    float *fdx = fzeros(n), *fdw = fzeros(C);
    k_rmsnorm_fwd(fo, rs, fx, fw, N, C, 1e-5f);
    k_rmsnorm_bwd(fdx, fdw, fd, fx, fw, rs, N, C);
    double ef = relerr_f(fo, c.out, n), ex = relerr_f(fdx, dx, n), ew = relerr_f(fdw, dw, C);
    printf("rmsnorm N=%d C=%d: fwd %.3g dx %.3g dw %.3g\n", N, C, ef, ex, ew);
    CHECK(ef < 1e-5 && ex < 1e-4 && ew < 1e-4);
    free(c.x); free(c.w); free(c.dout); free(c.out); free(dx); free(dw); free(gx); free(gw);
    free(fx); free(fw); free(fd); free(fo); free(rs); free(fdx); free(fdw);
}

/* ---- RoPE: forward against the reference; backward = inverse rotation, checked by FD ---- */
typedef struct { int B, T, ld, col0, nh, hd; double *x, *dout, *tmp; } rp_ctx;
static double rp_loss(void *p) {
    rp_ctx *c = (rp_ctx *)p;
    size_t n = (size_t)c->B * c->T * c->ld;
    memcpy(c->tmp, c->x, n * sizeof(double));
    ref_rope(c->tmp, c->ld, c->B, c->T, c->col0, c->nh, c->hd, 10000.0, 0);
    return dot(c->tmp, c->dout, n);
}
static void test_rope(int B, int T, int ld, int col0, int nh, int hd) {
    size_t n = (size_t)B * T * ld;
    rp_ctx c = {B, T, ld, col0, nh, hd, drand_arr(n, 1), drand_arr(n, 1), dzeros(n)};
    double *g = dzeros(n), *dx = dzeros(n);
    fd_grad(g, c.x, n, rp_loss, &c);
    memcpy(dx, c.dout, n * sizeof(double));
    ref_rope(dx, ld, B, T, col0, nh, hd, 10000.0, 1);
    CHECK_MSG(relerr(dx, g, n) < 1e-6, "rope FD %.3g", relerr(dx, g, n));
    rp_loss(&c);
    float *ct = fzeros((size_t)T * hd / 2), *st = fzeros((size_t)T * hd / 2);
    k_rope_table(ct, st, T, hd, 10000.0f);
    float *fx = to_f(c.x, n), *fd = to_f(c.dout, n);
    k_rope_apply(fx, (size_t)ld, B, T, 0, col0, nh, hd, ct, st, 0);
    k_rope_apply(fd, (size_t)ld, B, T, 0, col0, nh, hd, ct, st, 1);
    double ef = relerr_f(fx, c.tmp, n), eb = relerr_f(fd, dx, n);
    printf("rope B=%d T=%d nh=%d hd=%d: fwd %.3g bwd %.3g\n", B, T, nh, hd, ef, eb);
    CHECK(ef < 1e-5 && eb < 1e-5);
    /* pos0: rows of a later position equal the same rows rotated from position 0 */
    float *one = to_f(c.x + (size_t)(T - 1) * ld, ld);
    k_rope_apply(one, (size_t)ld, 1, 1, T - 1, col0, nh, hd, ct, st, 0);
    CHECK(relerr_f(one, c.tmp + (size_t)(T - 1) * ld, ld) < 1e-5);
    free(one); free(c.x); free(c.dout); free(c.tmp); free(g); free(dx); free(ct); free(st); free(fx); free(fd);
}

/* ---- SwiGLU ---- */
typedef struct { int N, F; double *h, *dout, *out; } sg_ctx;
static double sg_loss(void *p) {
    sg_ctx *c = (sg_ctx *)p;
    ref_swiglu_fwd(c->out, c->h, c->N, c->F);
    return dot(c->out, c->dout, (size_t)c->N * c->F);
}
static void test_swiglu(int N, int F) {
    size_t nh = (size_t)N * 2 * F, no = (size_t)N * F;
    sg_ctx c = {N, F, drand_arr(nh, 6), drand_arr(no, 1), dzeros(no)};
    double *dh = dzeros(nh), *g = dzeros(nh);
    ref_swiglu_bwd(dh, c.h, c.dout, N, F);
    fd_grad(g, c.h, nh, sg_loss, &c);
    CHECK_MSG(relerr(dh, g, nh) < 1e-6, "swiglu FD %.3g", relerr(dh, g, nh));
    sg_loss(&c);
    float *fh = to_f(c.h, nh), *fd = to_f(c.dout, no), *fo = fzeros(no), *fdh = fzeros(nh);
    for (size_t i = 0; i < nh; i++) fdh[i] = 55.0f;  /* overwritten */
    k_swiglu_fwd(fo, fh, N, F);
    k_swiglu_bwd(fdh, fh, fd, N, F);
    double ef = relerr_f(fo, c.out, no), eb = relerr_f(fdh, dh, nh);
    printf("swiglu N=%d F=%d: fwd %.3g bwd %.3g\n", N, F, ef, eb);
    CHECK(ef < 1e-5 && eb < 1e-4);
    free(c.h); free(c.dout); free(c.out); free(dh); free(g); free(fh); free(fd); free(fo); free(fdh);
}

/* ---- token embedding ---- */
static void test_embed(void) {
    int N = 37, C = 70, V = 9;
    int32_t inp[37];
    for (int i = 0; i < N; i++) inp[i] = (i * 5) % V;
    float *w = fzeros((size_t)V * C), *o = fzeros((size_t)N * C), *d = fzeros((size_t)N * C), *dw = fzeros((size_t)V * C);
    for (int i = 0; i < V * C; i++) w[i] = (float)i;
    for (int i = 0; i < N * C; i++) d[i] = (float)((i % 7) - 3);
    k_embed_fwd(o, inp, w, N, C);
    int ok = 1;
    for (int n = 0; n < N; n++)
        for (int j = 0; j < C; j++) ok &= o[n * C + j] == w[inp[n] * C + j];
    CHECK(ok);
    k_embed_bwd(dw, d, inp, N, C);
    ok = 1;
    for (int v = 0; v < V; v++)
        for (int j = 0; j < C; j++) {
            float s = 0;
            for (int n = 0; n < N; n++) if (inp[n] == v) s += d[n * C + j];
            ok &= dw[v * C + j] == s;
        }
    CHECK(ok);
    free(w); free(o); free(d); free(dw);
}

/* ---- GQA / MQA attention, ALiBi ---- */
typedef struct { int B, T, NH, NKV, hd; const double *sl; double *qkv, *dout, *out; } at_ctx;
static double at_loss(void *p) {
    at_ctx *c = (at_ctx *)p;
    ref_gqa_fwd(c->out, c->qkv, c->B, c->T, c->NH, c->NKV, c->hd, c->sl);
    return dot(c->out, c->dout, (size_t)c->B * c->T * c->NH * c->hd);
}
static void attention_case(int B, int T, int NH, int NKV, int hd, int alibi, int fd) {
    double sl[16];
    float fsl[16];
    k_alibi_slopes(fsl, NH);
    for (int h = 0; h < NH; h++) sl[h] = fsl[h];
    at_ctx c = {B, T, NH, NKV, hd, alibi ? sl : NULL, 0, 0, 0};
    size_t W = (size_t)(NH + 2 * NKV) * hd, nq = (size_t)B * T * W, no = (size_t)B * T * NH * hd;
    c.qkv = drand_arr(nq, 2); c.dout = drand_arr(no, 1); c.out = dzeros(no);
    double *dq = dzeros(nq);
    ref_gqa_bwd(dq, c.dout, c.qkv, B, T, NH, NKV, hd, c.sl);
    if (fd) {
        double *g = dzeros(nq);
        fd_grad(g, c.qkv, nq, at_loss, &c);
        CHECK_MSG(relerr(dq, g, nq) < 1e-6, "gqa FD NH=%d NKV=%d alibi=%d: %.3g", NH, NKV, alibi, relerr(dq, g, nq));
        free(g);
    }
    at_loss(&c);
    float *fq = to_f(c.qkv, nq), *fdo = to_f(c.dout, no), *fo = fzeros(no), *lse = fzeros((size_t)B * NH * T);
    float *fdq = fzeros(nq), *fdq1 = fzeros(nq);
    for (size_t i = 0; i < nq; i++) fdq[i] = 77.0f;  /* must be overwritten */
    const float *fs = alibi ? fsl : NULL;
    CHECK(k_attention_fwd_gqa(fo, lse, fq, B, T, NH, NKV, hd, fs) == 0);
    CHECK(k_attention_bwd_gqa(fdq, fdo, fq, fo, lse, B, T, NH, NKV, hd, fs) == 0);
    double ef = relerr_f(fo, c.out, no), eb = relerr_f(fdq, dq, nq);
    printf("gqa B=%d T=%d NH=%d NKV=%d hd=%d alibi=%d: fwd %.3g bwd %.3g\n", B, T, NH, NKV, hd, alibi, ef, eb);
    CHECK(ef < 1e-5 && eb < 1e-4);
    /* thread-count independence of the dK/dV group sums */
    int th = lmc_kernels_get_threads();
    lmc_kernels_set_threads(1);
    CHECK(k_attention_bwd_gqa(fdq1, fdo, fq, fo, lse, B, T, NH, NKV, hd, fs) == 0);
    lmc_kernels_set_threads(th);
    CHECK(memcmp(fdq, fdq1, nq * sizeof(float)) == 0);
    /* decode: the last row of each sequence against its cached K/V (NKV heads) */
    float *o1 = fzeros((size_t)NH * hd), *scratch = fzeros(T);
    for (int b = 0; b < B; b++) {
        const float *base = fq + (size_t)b * T * W;
        k_attention_decode_gqa(o1, base + (size_t)(T - 1) * W, base + NH * hd, base + (NH + NKV) * hd, T, W,
                               NH, NKV, hd, fs, scratch);
        CHECK(relerr_f(o1, c.out + ((size_t)b * T + T - 1) * NH * hd, (size_t)NH * hd) < 1e-5);
    }
    free(o1); free(scratch);
    free(c.qkv); free(c.dout); free(c.out); free(dq); free(fq); free(fdo); free(fo); free(lse); free(fdq); free(fdq1);
}

static void test_alibi_slopes(void) {
    float s[12];
    k_alibi_slopes(s, 8);
    for (int h = 0; h < 8; h++) CHECK_CLOSE(s[h], pow(2.0, -(h + 1.0)), 0, 1e-6);
    k_alibi_slopes(s, 12);  /* 8 of 2^(-8/8 * k), then 4 odd powers of 2^(-0.5) */
    CHECK_CLOSE(s[7], pow(2.0, -8.0), 0, 1e-6);
    CHECK_CLOSE(s[8], pow(2.0, -0.5), 0, 1e-6);
    CHECK_CLOSE(s[9], pow(2.0, -1.5), 0, 1e-6);
    CHECK_CLOSE(s[11], pow(2.0, -3.5), 0, 1e-6);
}

int main(void) {
    lmc_rng_init(&rng, 4242);
    lmc_kernels_set_threads(2);
    test_rmsnorm(5, 33);
    test_rmsnorm(3, 130);
    test_rope(2, 5, 40, 0, 3, 8);
    test_rope(1, 7, 30, 6, 2, 6);
    test_swiglu(4, 13);
    test_embed();
    test_alibi_slopes();
    attention_case(1, 7, 4, 2, 4, 0, 1);   /* GQA, finite differences */
    attention_case(1, 6, 3, 1, 4, 1, 1);   /* MQA + ALiBi (3 heads: non-power-of-two slopes) */
    attention_case(2, 70, 4, 2, 5, 1, 0);  /* crosses a 64-query block */
    attention_case(2, 150, 6, 3, 8, 0, 0); /* three blocks */
    attention_case(1, 1, 2, 1, 8, 1, 0);   /* a single position */
    return test_summary("test_family_kernels");
}
