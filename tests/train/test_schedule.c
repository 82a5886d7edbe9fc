/* LR schedules at chosen steps (../shared/TECHNIQUES.md §4 tests). */
#include "test.h"
#include "train/schedule.h"

int main(void) {
    train_schedule s = {TRAIN_SCHED_WSD, TRAIN_DECAY_1SQRT, 1000, 100, 0.0, 0.2, 100.0};
    /* warmup: f(0) = 1/100, f(50) = 0.5 + 0.5/100, f(n_warmup) = 1 */
    CHECK_CLOSE(train_schedule_factor(&s, 0), 0.01, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 50), 0.505, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 100), 1.0, 1e-12, 0);
    /* stable until hold = 1000 - 200 = 800 */
    CHECK_CLOSE(train_schedule_factor(&s, 799), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 800), 1.0, 1e-12, 0);
    /* 1-sqrt mid-decay: 1 - sqrt(0.5) = 0.2929 */
    CHECK_CLOSE(train_schedule_factor(&s, 900), 1.0 - sqrt(0.5), 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 999), 1.0 - sqrt(199.0 / 200.0), 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 1000), 0.0, 1e-12, 0);
    /* monotone non-increasing after warmup */
    int mono = 1;
    for (int64_t t = 101; t < 1000; t++)
        if (train_schedule_factor(&s, t) > train_schedule_factor(&s, t - 1) + 1e-15) mono = 0;
    CHECK(mono);
    /* linear with a floor a = 0.1: a + (1-a)(1-u) */
    s.shape = TRAIN_DECAY_LINEAR;
    s.min_ratio = 0.1;
    CHECK_CLOSE(train_schedule_factor(&s, 900), 0.1 + 0.9 * 0.5, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 850), 0.1 + 0.9 * 0.75, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&s, 5000), 0.1, 1e-12, 0);

    /* cosine: warmup then a + (1-a)(1+cos(pi u))/2 over [warmup, total) */
    train_schedule c = {TRAIN_SCHED_COSINE, TRAIN_DECAY_LINEAR, 1000, 100, 0.1, 0, 100.0};
    CHECK_CLOSE(train_schedule_factor(&c, 0), 0.01, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&c, 100), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&c, 550), 0.55, 1e-12, 0); /* u = 0.5: a + (1-a)/2 */
    CHECK_CLOSE(train_schedule_factor(&c, 1000), 0.1, 1e-12, 0);
    CHECK(train_schedule_factor(&c, 999) > 0.1 && train_schedule_factor(&c, 999) < 0.1001);

    /* constant (WSO): warmup, then 1 to the end and beyond */
    train_schedule k = {TRAIN_SCHED_CONSTANT, TRAIN_DECAY_LINEAR, 1000, 10, 0.0, 0, 100.0};
    CHECK_CLOSE(train_schedule_factor(&k, 0), 0.01, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&k, 10), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&k, 999), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&k, 2000), 1.0, 1e-12, 0);

    /* no warmup */
    train_schedule z = {TRAIN_SCHED_WSD, TRAIN_DECAY_LINEAR, 10, 0, 0.0, 0.5, 100.0};
    CHECK_CLOSE(train_schedule_factor(&z, 0), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&z, 5), 1.0, 1e-12, 0);
    CHECK_CLOSE(train_schedule_factor(&z, 6), 0.8, 1e-12, 0);

    train_sched_kind kind;
    train_decay_shape shape;
    CHECK_EQ_INT(train_schedule_kind_parse("wsd", &kind), 0);
    CHECK_EQ_INT(kind, TRAIN_SCHED_WSD);
    CHECK(train_schedule_kind_parse("step", &kind) < 0);
    CHECK_EQ_INT(train_schedule_shape_parse("1-sqrt", &shape), 0);
    CHECK_EQ_INT(shape, TRAIN_DECAY_1SQRT);
    return test_summary("train/schedule");
}
