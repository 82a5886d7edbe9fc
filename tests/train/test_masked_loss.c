/* The masked step (src/train/masked_step.c) against PyTorch (tests/reference/make_lossmask_fixtures.py):
 * 3 micro-batches with 30%, 70% and 0% of their targets masked; the step's loss is the mean over the
 * unmasked targets of the whole step (cross_entropy ignore_index=-100, reduction sum / N), float64 reference.
 * Tolerances as test_gpt2_ref's (the same model in fp32 against fp64): loss 1e-5 relative, every gradient
 * tensor max|diff| / max|ref| < 1e-4. The fixture's mean of per-micro-batch means differs from the loss by
 * 5e-3, far outside the tolerance, so weighting the micro-batches equally would fail here. */
#include "test.h"
#include "model/gpt2.h"
#include "interop/safetensors.h"
#include "kernels/cpu/kernels.h"
#include "train/loader_mask.h"
#include "train/masked_step.h"
#include "../model/fixture_util.h"

int main(void) {
    lmc_kernels_set_threads(2);
    lmc_kernels_set_precision(LMC_PREC_FP32, NULL);
    char mdir[4200], rpath[4200];
    snprintf(mdir, sizeof mdir, "%s/tests/model/fixtures/gpt2_tiny", test_source_dir());
    snprintf(rpath, sizeof rpath, "%s/tests/train/fixtures/lossmask_ref.safetensors", test_source_dir());
    lmc_err err = {0};
    gpt2_model *m = NULL;
    int rc = gpt2_load_hf(mdir, &m, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return test_summary("masked_loss");
    st_file ref;
    rc = st_open(&ref, rpath, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return test_summary("masked_loss");
    const st_tensor *ti = st_find(&ref, "inputs");
    int rows = (int)ti->shape[0], T = (int)ti->shape[1], accum = 3, mb = rows / accum;
    int32_t *in = (int32_t *)read_tensor(&ref, "inputs", NULL);
    int32_t *tg = (int32_t *)read_tensor(&ref, "targets", NULL);
    int32_t *nt = (int32_t *)read_tensor(&ref, "n_targets", NULL);
    double ref_loss = read_f64(&ref, "loss", 0), mom = read_f64(&ref, "mean_of_means", 0);
    CHECK(fabs(ref_loss - mom) > 1e-3); /* the fixture tells the two weightings apart */
    CHECK_EQ_INT(train_count_targets(tg, (size_t)rows * T), nt[0]);

    CHECK(gpt2_enable_training(m, &err) == 0);
    gpt2_zero_grad(m);
    double loss = 0;
    uint64_t n = 0;
    rc = train_masked_accum(m, in, tg, accum, mb, T, &loss, &n, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_EQ_INT(n, nt[0]);
    printf("loss %.8f vs PyTorch %.8f (mean of means %.8f), %llu targets\n", loss, ref_loss, mom, (unsigned long long)n);
    CHECK_CLOSE(loss, ref_loss, 0, 1e-5);
    double worst = 0;
    for (int i = 0; i < m->n_views; i++) {
        const gpt2_view *v = &m->views[i];
        char name[80];
        snprintf(name, sizeof name, "grad.%s", v->name);
        size_t cnt;
        float *g = read_tensor(&ref, name, &cnt);
        CHECK_EQ_INT(cnt, v->numel);
        double e = rel_err(m->grads + v->offset, g, v->numel, 0, 0, 0);
        if (e > worst) worst = e;
        CHECK_MSG(e < 1e-4, "%s rel err %.3g", v->name, e);
        free(g);
    }
    printf("worst gradient rel err %.3g over %d tensors\n", worst, m->n_views);

    /* a step whose every target is masked is an error, not a silent zero */
    for (int i = 0; i < rows * T; i++) tg[i] = -1;
    CHECK(train_masked_accum(m, in, tg, accum, mb, T, &loss, &n, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "masked");
    free(in);
    free(tg);
    free(nt);
    st_close(&ref);
    gpt2_free(m);
    return test_summary("masked_loss");
}
