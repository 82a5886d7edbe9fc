/* TREC's c_t = eta_t prod_{s>t} (1 - eta_s lambda) (TECHNIQUES.md 12b): with a constant learning rate and
 * weight decay, c_t is proportional to (1 - eta lambda)^(T - t), increasing in t, 1 at t = T; with a
 * cosine decay to 0.1 the late steps' smaller eta pulls the maximum before the end. */
#include "test.h"
#include "eval/trec.h"

int main(void) {
    train_config *c = malloc(sizeof *c);
    train_config_defaults(c);
    snprintf(c->schedule, sizeof c->schedule, "constant");
    c->steps = 50;
    c->warmup_steps = 0;
    c->lr = 0.01;
    c->weight_decay = 0.5;
    double w[50];
    CHECK(lmc_trec_weights(c, w) == 0);
    for (int t = 1; t <= 50; t++) CHECK_CLOSE(w[t - 1], pow(1 - 0.01 * 0.5, 50 - t), 0, 1e-12);
    for (int t = 1; t < 50; t++) CHECK(w[t] > w[t - 1]);
    snprintf(c->schedule, sizeof c->schedule, "cosine");
    c->min_lr_ratio = 0.1;
    c->weight_decay = 0.1;
    CHECK(lmc_trec_weights(c, w) == 0);
    int arg = 0;
    for (int t = 0; t < 50; t++) if (w[t] > w[arg]) arg = t;
    CHECK(arg < 49 && w[arg] == 1.0);
    free(c);
    printf("%d checks, %d failures\n", lmc_test_checks, lmc_test_failures);
    return lmc_test_failures != 0;
}
