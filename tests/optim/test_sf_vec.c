/* The vectorised Schedule-Free AdamW update (src/optim/sf_adamw_vec.c) gives bitwise the scalar
 * loop's results, for AVX2 and AVX-512 (each where the CPU has it; skipped with a message where not),
 * on both branches of torch.lerp's formula (c < 0.5 and c >= 0.5), with and without weight decay,
 * for lengths that leave a scalar tail, and over several steps so the state feeds back. The scalar
 * loop itself is checked against schedulefree by test_optim_ref. */
#include "test.h"
#include <math.h>
#include "kernels/cpu/kernels.h"
#include "optim/optim.h"

static void fill(float *x, size_t n, unsigned seed, float scale, float shift) {
    unsigned s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = scale * ((float)(s >> 8) / 16777216.0f - shift);
    }
}

int main(void) {
    lmc_cpu_features f = lmc_cpu_detect();
    const int best = lmc_isa_best();
    printf("cpu: avx2 %d avx512f %d; best sf-adamw loop: %d\n", f.avx2, f.avx512f, best);
    const size_t sizes[] = {1, 15, 64, 1000, 4096 + 37};
    const float cs[] = {0.1f, 0.5f, 0.9f};
    const float wds[] = {0.0f, 0.1f};
    int tested[3] = {1, 0, 0};
    for (int isa = LMC_ISA_AVX2; isa <= LMC_ISA_AVX512; isa++) {
        if (isa > best) {
            printf("SKIP: this CPU lacks %s: that loop is not exercised here\n", isa == LMC_ISA_AVX2 ? "AVX2" : "AVX-512F");
            continue;
        }
        tested[isa] = 1;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (int ci = 0; ci < 3; ci++)
                for (int wi = 0; wi < 2; wi++) {
                    size_t n = sizes[si];
                    float *st[2][3], *g = malloc(n * sizeof(float));
                    for (int k = 0; k < 2; k++)
                        for (int b = 0; b < 3; b++) st[k][b] = malloc(n * sizeof(float));
                    for (int k = 0; k < 2; k++) {
                        fill(st[k][0], n, 1, 0.2f, 0.5f); /* y */
                        fill(st[k][1], n, 2, 0.2f, 0.5f); /* z */
                        fill(st[k][2], n, 3, 1e-4f, 0.0f); /* v >= 0 */
                    }
                    int moved = 0;
                    for (int t = 0; t < 4; t++) {
                        fill(g, n, 10u + (unsigned)t, 0.05f, 0.5f);
                        if (t == 2) for (size_t i = 0; i < n; i += 3) g[i] = 0.0f; /* zeros: v can stay tiny */
                        optim_sf_args a = {0.95f, 0.05f, 1.0f - powf(0.95f, (float)(t + 1)), 1e-8f, wds[wi], cs[ci],
                                           1e-3f * (0.9f * (1.0f - cs[ci]) - 1.0f), 1e-3f};
                        float y0 = st[0][0][0];
                        optim_sf_update(st[0][0], st[0][1], st[0][2], g, n, &a, LMC_ISA_SCALAR);
                        optim_sf_update(st[1][0], st[1][1], st[1][2], g, n, &a, isa);
                        moved |= st[0][0][0] != y0;
                    }
                    int same = 1;
                    for (int b = 0; b < 3; b++) same &= !memcmp(st[0][b], st[1][b], n * sizeof(float));
                    CHECK_MSG(same, "isa %d, n %zu, c %g, wd %g: differs from the scalar loop", isa, n, cs[ci], wds[wi]);
                    CHECK(moved);
                    for (int k = 0; k < 2; k++)
                        for (int b = 0; b < 3; b++) free(st[k][b]);
                    free(g);
                }
    }
    printf("bitwise against the scalar loop: avx2 %s, avx512 %s\n", tested[1] ? "checked" : "skipped",
           tested[2] ? "checked" : "skipped");
    return test_summary("optim/sf_vec");
}
