/* Speculative vs plain sampling in one process (after a warm-up, so one-time costs such as oneDNN's
 * per-shape primitive creation are not counted): tokens/s, target passes, acceptance.
 * Usage: bench_spec_sample TARGET_DIR DRAFT_DIR [COUNTS_FILE] (OMP_NUM_THREADS as you like). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "gen/gen.h"
#include "gen/spec.h"
#include "model/gpt2.h"

static const int32_t prompt[] = {30, 31, 27, 12};

static void bench(const char *label, gpt2_model *t, gpt2_model *d, const spec_opts *so, float temp, int seeds) {
    gen_params gp = {t->cfg.max_seq - 4, temp, 0, 1.0f, -1};
    int32_t out[4096];
    lmc_err err;
    int64_t n = 0, passes = 0, acc = 0, dr = 0;
    for (int pass = 0; pass < 2; pass++) { /* pass 0: warm-up */
        n = passes = acc = dr = 0;
        double t0 = lmc_now();
        for (int s = 0; s < seeds; s++) {
            lmc_rng r;
            lmc_rng_init(&r, (uint64_t)s + 1);
            int k;
            spec_stats st;
            int rc = so ? spec_generate(t, d, prompt, 4, &gp, so, &r, out, &k, &st, NULL, NULL, &err)
                        : gen_generate(t, prompt, 4, &gp, &r, out, &k, NULL, NULL, &err);
            if (rc) { fprintf(stderr, "%s\n", err.msg); exit(1); }
            n += k;
            passes += so ? st.rounds : k;
            acc += so ? st.accepted : 0;
            dr += so ? st.drafted : 0;
        }
        double dt = lmc_now() - t0;
        char ab[32];
        if (pass) printf("%-34s T=%.0f %6lld tokens %7.3f s %8.1f tok/s  target passes %6lld  acceptance %s\n", label, temp,
                         (long long)n, dt, n / dt, (long long)passes, dr ? (snprintf(ab, sizeof ab, "%.3f", (double)acc / dr), ab) : "-");
    }
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s TARGET DRAFT [COUNTS]\n", argv[0]); return 2; }
    gpt2_model *t, *d;
    lmc_err err;
    if (gpt2_load_hf(argv[1], &t, &err) || gpt2_load_hf(argv[2], &d, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    for (int ti = 0; ti < 2; ti++) {
        float temp = ti ? 0.0f : 1.0f;
        bench("plain", t, d, NULL, temp, 30);
        spec_opts g2 = {2, NULL, 0}, g4 = {4, NULL, 0};
        bench("speculative gamma 2", t, d, &g2, temp, 30);
        bench("speculative gamma 4", t, d, &g4, temp, 30);
        for (int K = 256; argc > 3 && K >= 64; K /= 2) {
            int32_t *vh;
            int n;
            if (spec_read_vhigh(argv[3], K, t->cfg.vocab_size, &vh, &n, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            spec_opts so = {4, vh, n};
            char label[64];
            snprintf(label, sizeof label, "speculative gamma 4 FR-Spec K=%d", n);
            bench(label, t, d, &so, temp, 30);
            free(vh);
        }
    }
    gpt2_free(t);
    gpt2_free(d);
    return 0;
}
