/* The loss-only training forward (gpt2_set_loss_only): the output head and the loss run over row chunks
 * and backward recomputes each chunk's logits, so the (B*T) x padded_vocab logits never exist at once.
 * It must give the same loss and gradients as the full-logits path. Rows are independent in the head
 * GEMM and the loss, so per-row losses agree to rounding of the GEMM's blocking (same K order: ~1 ulp);
 * the head gradient is a sum over rows that the chunks split into partial sums, so it differs by the
 * reassociation of N fp32 terms: |err| <= N * eps * sum|terms| in the worst case, in practice a few eps
 * relative to the largest entry. The bounds below (2e-6 for losses, 1e-5 for gradients, relative to the
 * tensor's largest magnitude) are ~10-100x eps32 = 1.2e-7. In bf16 every GEMM input is rounded to bf16
 * (8 bits of mantissa, half-ulp 2^-9 = 2e-3 relative): an fp32 difference of one ulp upstream can flip
 * one rounding, which moves that element by up to 2^-8 of itself; relative to a tensor's largest entry
 * that stays below 1e-3 (measured 2.2e-4). gpt2_forward_backward (the head's backward inside the forward)
 * must equal the two calls bitwise. */
#include "test.h"
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"

enum { B = 3, T = 300, N = B * T, V = 50000 };   /* Vp 50,048: chunks of 320 rows, 3 of them */

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static double rel_diff(const float *a, const float *b, size_t n) {
    double d = 0, s = max_abs(b, n);
    for (size_t i = 0; i < n; i++) d = fabs((double)a[i] - b[i]) > d ? fabs((double)a[i] - b[i]) : d;
    return s > 0 ? d / s : d;
}

/* two micro-batches of gradient accumulation, some targets ignored (< 0) */
static void step(gpt2_model *m, const int32_t *x, const int32_t *y, float *loss) {
    lmc_err err;
    gpt2_zero_grad(m);
    for (int k = 0; k < 2; k++) {
        CHECK_MSG(gpt2_forward(m, x + k * N, y + k * N, B, T, loss + k, &err) == 0, "%s", err.msg);
        CHECK_MSG(gpt2_backward(m, 0.5f, &err) == 0, "%s", err.msg);
    }
}

static void compare(const char *what, double tol_loss, double tol_grad) {
    lmc_err err;
    gpt2_config c = {.n_layer = 1, .n_head = 2, .d_model = 32, .max_seq = T, .vocab_size = V};
    gpt2_model *full = NULL, *chunked = NULL;
    CHECK(gpt2_create(&full, &c, &err) == 0 && gpt2_create(&chunked, &c, &err) == 0);
    if (!full || !chunked) return;
    gpt2_init_random(full, 3);
    gpt2_init_random(chunked, 3);
    static int32_t x[2 * N], y[2 * N];
    lmc_rng r;
    lmc_rng_init(&r, 11);
    for (int i = 0; i < 2 * N; i++) {
        x[i] = (int32_t)lmc_rng_below(&r, V);
        y[i] = i % 17 == 5 ? -1 : (int32_t)lmc_rng_below(&r, V);
    }
    /* an inference forward first: enabling training afterwards must give the chunk buffer too */
    CHECK(gpt2_forward(chunked, x, y, B, T, NULL, &err) == 0 && chunked->logits);
    CHECK(gpt2_enable_training(full, &err) == 0 && gpt2_enable_training(chunked, &err) == 0);
    CHECK(gpt2_set_loss_only(chunked, 1) == 0);

    /* forward: the same per-row losses, and no logits handed out */
    float lf = 0, lc = 0;
    CHECK(gpt2_forward(full, x, y, B, T, &lf, &err) == 0);
    CHECK(gpt2_forward(chunked, x, y, B, T, &lc, &err) == 0);
    CHECK(chunked->logits == NULL && full->logits != NULL);
    CHECK(chunked->n_targets == full->n_targets);
    double dl = rel_diff(chunked->losses, full->losses, N);
    printf("%s: losses %.8f / %.8f, per-row max rel diff %.2e\n", what, lc, lf, dl);
    CHECK(dl <= tol_loss);
    CHECK_CLOSE(lc, lf, 0, tol_loss);

    /* backward with accumulation: the same gradients */
    float lossf[2], lossc[2];
    step(full, x, y, lossf);
    step(chunked, x, y, lossc);
    double worst = 0;
    const char *worst_name = "";
    for (int v = 0; v < full->n_views; v++) {
        const gpt2_view *w = &full->views[v];
        double d = rel_diff(chunked->grads + w->offset, full->grads + w->offset, w->numel);
        if (d > worst) { worst = d; worst_name = w->name; }
    }
    printf("%s: worst gradient rel diff %.2e (%s)\n", what, worst, worst_name);
    CHECK(worst <= tol_grad);
    CHECK(max_abs(chunked->grads, chunked->n_floats) > 0);

    /* gpt2_forward_backward, as lmc train calls it: with 3 chunks the head's backward runs inside the
     * forward on the logits it just made (no recomputation); the logits are the ones backward would
     * recompute, so gradients and losses are bitwise those of the two calls */
    float *g2 = malloc(chunked->n_floats * sizeof(float)), lossz[2];
    memcpy(g2, chunked->grads, chunked->n_floats * sizeof(float));
    gpt2_zero_grad(chunked);
    for (int k = 0; k < 2; k++)
        CHECK_MSG(gpt2_forward_backward(chunked, x + k * N, y + k * N, B, T, 0.5f, lossz + k, &err) == 0, "%s", err.msg);
    CHECK_MSG(!memcmp(g2, chunked->grads, chunked->n_floats * sizeof(float)), "%s: forward_backward's gradients differ", what);
    CHECK(lossz[0] == lossc[0] && lossz[1] == lossc[1]);
    free(g2);
    CHECK(gpt2_forward_backward(chunked, x, NULL, B, T, 1.0f, NULL, &err) != 0);   /* needs targets */

    /* a backward without a fresh forward is refused, as on the full path */
    CHECK(gpt2_backward(chunked, 1.0f, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "forward pass with targets");

    /* a forward without targets, or with loss_only off, hands the logits out again */
    CHECK(gpt2_forward(chunked, x, NULL, B, T, NULL, &err) == 0 && chunked->logits);
    CHECK(gpt2_set_loss_only(chunked, 0) == 1);
    CHECK(gpt2_forward(chunked, x, y, B, T, NULL, &err) == 0 && chunked->logits);
    gpt2_free(full);
    gpt2_free(chunked);
}

int main(void) {
    lmc_kernels_set_threads(2);
    lmc_err err;
    CHECK(lmc_kernels_set_precision(LMC_PREC_FP32, &err) == 0);
    compare("fp32", 2e-6, 1e-5);
    if (lmc_kernels_set_precision(LMC_PREC_BF16, &err) == 0) compare("bf16", 1e-3, 1e-3);
    else printf("bf16: skipped (%s)\n", err.msg);
    lmc_kernels_set_precision(LMC_PREC_FP32, &err);
    return test_summary("head_chunks");
}
