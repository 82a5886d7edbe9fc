/* The merging scaling law fit (src/scaling/merge_law.h): parameters recovered from exact synthetic
 * points; with noise, fitting k <= 4 extrapolates to k = 8 within the noise; too few distinct k and
 * bad points are errors. */
#include <math.h>
#include "test.h"
#include "base/rng.h"
#include "scaling/merge_law.h"

int main(void) {
    double k[8], y[8];
    lmc_err err;
    merge_law m, truth = {3.2, 0.45, 1.7, 0};
    for (int i = 0; i < 8; i++) { k[i] = i + 1; y[i] = merge_law_loss(&truth, k[i]); }
    CHECK(merge_law_fit(k, y, 8, &m, &err) == 0);
    printf("exact: C %.6f A %.6f b %.6f (truth 3.2 0.45 1.7)\n", m.C, m.A, m.b);
    CHECK_CLOSE(m.C, 3.2, 1e-6, 0);
    CHECK_CLOSE(m.A, 0.45, 1e-5, 0);
    CHECK_CLOSE(m.b, 1.7, 1e-4, 0);
    /* noisy points; fit k = 1..4, predict k = 8 */
    lmc_rng r;
    lmc_rng_init(&r, 4);
    double worst = 0;
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < 8; i++) y[i] = merge_law_loss(&truth, k[i]) + 1e-4 * lmc_rng_normal(&r);
        CHECK(merge_law_fit(k, y, 4, &m, &err) == 0);
        double e = fabs(merge_law_loss(&m, 8) - merge_law_loss(&truth, 8));
        if (e > worst) worst = e;
    }
    printf("noise 1e-4, fit on k <= 4: worst error at k = 8 over 20 trials %.2e\n", worst);
    CHECK(worst < 5e-3);
    CHECK(merge_law_gain(&truth, 1) == 0);
    CHECK(merge_law_gain(&truth, 1e9) > 0.999);
    double k2[3] = {1, 1, 2}, y2[3] = {1, 1, 1};
    CHECK(merge_law_fit(k2, y2, 3, &m, &err) == LMC_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "2 distinct k");
    double k3[3] = {0.5, 2, 3};
    CHECK(merge_law_fit(k3, y2, 3, &m, &err) == LMC_EINVAL);
    return test_summary("test_merge_law");
}
