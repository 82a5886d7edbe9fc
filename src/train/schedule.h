/* Learning-rate schedules as pure functions of the step (../shared/TECHNIQUES.md §4).
 *
 * All return a multiplier on the peak lr for the 0-based update index t in [0, total):
 *   warmup (t < warmup):  t/warmup + (1 - t/warmup)/100     (linear from lr/100, as epfml's wsd_schedule)
 *   cosine:   a + (1-a)(1+cos(pi u))/2,  u = (t-warmup)/(total-warmup)
 *   wsd:      1 until hold = total - floor(decay_fraction*total), then over u = (t-hold)/n_decay:
 *             linear a + (1-a)(1-u),   1-sqrt a + (1-a)(1-sqrt(u))
 *   constant: 1 after warmup (WSO: warmup-stable-only)
 * with a = min_lr_ratio; t >= total returns a (constant: 1). */
#ifndef LMC_TRAIN_SCHEDULE_H
#define LMC_TRAIN_SCHEDULE_H

#include <stdint.h>

typedef enum { TRAIN_SCHED_COSINE, TRAIN_SCHED_WSD, TRAIN_SCHED_CONSTANT } train_sched_kind;
typedef enum { TRAIN_DECAY_LINEAR, TRAIN_DECAY_1SQRT } train_decay_shape;

typedef struct train_schedule {
    train_sched_kind kind;
    train_decay_shape shape;
    int64_t total, warmup;
    double min_ratio;        /* a */
    double decay_fraction;   /* wsd */
    double init_div;         /* warmup starts at 1/init_div (100) */
} train_schedule;

/* Parse names ("cosine", "wsd", "constant"; "linear", "1-sqrt"). 0 ok, -1 unknown. */
int train_schedule_kind_parse(const char *s, train_sched_kind *out);
int train_schedule_shape_parse(const char *s, train_decay_shape *out);
/* The multiplier at 0-based update t. */
double train_schedule_factor(const train_schedule *s, int64_t t);

#endif
