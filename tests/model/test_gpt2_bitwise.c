/* The GPT-2 preset must train bit for bit as the GPT-2-only model did before the model became a
 * family: a fixed seeded run (init, 4 AdamW steps with accumulation and clipping, at 1 and 2 threads)
 * hashes parameters and AdamW state, and the hash must equal the one recorded from the code before the
 * change (tests/model/fixtures/gpt2_bitwise.txt). The hash depends on the GEMM library and CPU, so a
 * change of GEMM backend regenerates it: LMC_WRITE_FIXTURE=1 build/test_model_gpt2_bitwise, run on the
 * commit BEFORE a model change, then compare after it. Compiler flags change the bits too (FMA
 * contraction, vectorisation), so the recorded hash is the release build's (scripts/build.sh release);
 * the sanitizer build skips this test.
 * The recorded hash came from the BLAS GEMM path (before oneDNN became the default), so the test runs that
 * path (k_gemm_force_blas) and checks it only where OpenBLAS picks the same kernels as when it was recorded
 * (the core name is in the fixture; another CPU skips with a message). The oneDNN path is covered by the
 * PyTorch fixtures (model/test_gpt2_ref, model/test_family_ref). */
#include "test.h"
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/rng.h"
#include "kernels/cpu/gemm.h"
#include <cblas.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

static uint64_t run(int threads) {
    lmc_kernels_set_threads(threads);
    lmc_err err;
    gpt2_config c = {0};
    c.n_layer = 2; c.n_head = 4; c.d_model = 64; c.max_seq = 32; c.vocab_size = 300;
    gpt2_model *m = NULL;
    CHECK(gpt2_create(&m, &c, &err) == 0 && gpt2_enable_training(m, &err) == 0);
    gpt2_init_random(m, 11);
    lmc_rng r;
    lmc_rng_init(&r, 5);
    int B = 2, T = 24;
    int32_t x[48], y[48];
    gpt2_adamw hp = {3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    float loss = 0;
    for (int s = 0; s < 4; s++) {
        gpt2_zero_grad(m);
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < B * T; i++) { x[i] = (int32_t)lmc_rng_below(&r, 300); y[i] = (int32_t)lmc_rng_below(&r, 300); }
            CHECK(gpt2_forward(m, x, y, B, T, &loss, &err) == 0);
            CHECK(gpt2_backward(m, 0.5f, &err) == 0);
        }
        gpt2_clip_grad(m, 0.5);
        CHECK(gpt2_adamw_step(m, &hp, &err) == 0);
    }
    uint64_t h = 1469598103934665603ull;
    h = fnv(h, m->params, m->n_floats * sizeof(float));
    h = fnv(h, m->m, m->n_floats * sizeof(float));
    h = fnv(h, m->v, m->n_floats * sizeof(float));
    h = fnv(h, &loss, sizeof loss);
    gpt2_free(m);
    return h;
}

int main(void) {
#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__) || defined(__NO_INLINE__)
    TEST_SKIP("the bitwise fixture is recorded with the release build's compiler flags");
#endif
    k_gemm_force_blas(1);
    uint64_t h1 = run(1), h2 = run(2);
    const char *core = openblas_get_corename();
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/model/fixtures/gpt2_bitwise.txt", test_source_dir());
    if (getenv("LMC_WRITE_FIXTURE")) {
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f) { fprintf(f, "%016llx %016llx %s\n", (unsigned long long)h1, (unsigned long long)h2, core); fclose(f); }
        return test_summary("test_gpt2_bitwise (written)");
    }
    FILE *f = fopen(path, "r");
    unsigned long long e1 = 0, e2 = 0;
    char rec_core[64] = "";
    CHECK(f && fscanf(f, "%llx %llx %63s", &e1, &e2, rec_core) == 3);
    if (f) fclose(f);
    if (strcmp(rec_core, core))
        TEST_SKIP("the hash was recorded with OpenBLAS core %s, this machine's OpenBLAS uses %s", rec_core, core);
    CHECK_MSG(h1 == e1, "1 thread: %016llx, recorded %016llx", (unsigned long long)h1, e1);
    CHECK_MSG(h2 == e2, "2 threads: %016llx, recorded %016llx", (unsigned long long)h2, e2);
    return test_summary("test_gpt2_bitwise");
}
