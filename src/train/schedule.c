#include "train/schedule.h"

#include <math.h>
#include <string.h>

int train_schedule_kind_parse(const char *s, train_sched_kind *out) {
    if (!strcmp(s, "cosine")) *out = TRAIN_SCHED_COSINE;
    else if (!strcmp(s, "wsd")) *out = TRAIN_SCHED_WSD;
    else if (!strcmp(s, "constant")) *out = TRAIN_SCHED_CONSTANT;
    else return -1;
    return 0;
}

int train_schedule_shape_parse(const char *s, train_decay_shape *out) {
    if (!strcmp(s, "linear")) *out = TRAIN_DECAY_LINEAR;
    else if (!strcmp(s, "1-sqrt")) *out = TRAIN_DECAY_1SQRT;
    else return -1;
    return 0;
}

double train_schedule_factor(const train_schedule *s, int64_t t) {
    double a = s->min_ratio;
    double div = s->init_div > 0 ? s->init_div : 100.0;
    if (t < 0) t = 0;
    if (t < s->warmup) {
        double w = (double)t / (double)s->warmup;
        return w + (1.0 - w) / div;
    }
    switch (s->kind) {
    case TRAIN_SCHED_CONSTANT:
        return 1.0;
    case TRAIN_SCHED_COSINE: {
        if (t >= s->total) return a;
        int64_t span = s->total - s->warmup;
        double u = span > 0 ? (double)(t - s->warmup) / (double)span : 1.0;
        return a + (1.0 - a) * 0.5 * (1.0 + cos(M_PI * u));
    }
    case TRAIN_SCHED_WSD: {
        int64_t n_decay = (int64_t)floor(s->decay_fraction * (double)s->total);
        int64_t hold = s->total - n_decay;
        if (t < hold) return 1.0;
        if (t >= s->total) return a;
        double u = (double)(t - hold) / (double)n_decay;
        if (s->shape == TRAIN_DECAY_LINEAR) return a + (1.0 - a) * (1.0 - u);
        return a + (1.0 - a) * (1.0 - sqrt(u));
    }
    }
    return 1.0;
}
