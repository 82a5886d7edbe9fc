/* The status line: every rate over the same window of the last N steps (issue 21: an EMA of tok/s
 * stood next to the last step's MFU). */
#include <math.h>
#include "test.h"
#include "train/status.h"

int main(void) {
    lmc_err err;
    train_status s;
    CHECK(train_status_init(&s, 3, &err) == 0);
    char line[256];
    train_status_format(&s, line, sizeof line, 0, 10, 1e-3, 100, 6, 1e4);
    CHECK_STR_CONTAINS(line, "| - tok/s | MFU - | ETA - | last 0 steps");
    /* a slow first step (say a cold cache) and then three of 0.5 s: the window forgets the first */
    train_status_push(&s, 4.0, 4.5, 9.0);
    train_status_push(&s, 0.5, 1.0, 3.0);
    train_status_push(&s, 0.5, 1.0, NAN); /* a skipped step: no loss, its time still counts */
    train_status_push(&s, 0.5, 1.0, 5.0);
    train_status_rates r = train_status_get(&s, 100, 6, 1e4);
    CHECK_EQ_INT(r.steps, 3);
    CHECK_CLOSE(r.loss, 4.0, 0, 1e-12);       /* mean of 3 and 5 */
    CHECK_CLOSE(r.tok_per_s, 200.0, 0, 1e-12); /* 300 tokens in 1.5 s */
    CHECK_CLOSE(r.mfu, 6 * 200.0 / 1e4, 0, 1e-12);
    CHECK_CLOSE(r.wall_per_step, 1.0, 0, 1e-12);
    train_status_val(&s, 4, 4.25);
    train_status_format(&s, line, sizeof line, 4, 10, 1e-3, 100, 6, 1e4);
    CHECK_MSG(!strcmp(line, "step 4/10 | loss 4.0000 | val 4.2500 @4 | lr 1.000e-03 | 200 tok/s | MFU 12.0% | ETA 6.0s | last 3 steps"), "%s", line);
    train_status_free(&s);
    return test_summary("train/status");
}
