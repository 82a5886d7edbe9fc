/* MeCo's cooldown (TECHNIQUES.md §9a): the final train.meco_cooldown_fraction F of the steps read the plain
 * shards of data.cooldown_train instead of data.train. It is a data switch only: the optimizer state and the
 * lr schedule run on as if nothing happened (the paper's stage 2 keeps both and drops the loader state).
 *
 * Steps are 1-based: step s reads the cooldown pool when s >= train_cooldown_start(). The cooldown loader
 * starts at its own (epoch 0, sequence 0), so the data position a checkpoint stores is the cooldown loader's
 * once the checkpoint's step is at or past the switch (train_cooldown_active(c, step + 1)), the main
 * loader's before: a resume on either side of the switch continues the exact token stream. */
#ifndef LMC_TRAIN_COOLDOWN_H
#define LMC_TRAIN_COOLDOWN_H

#include <math.h>
#include <stdint.h>
#include "train/config.h"

/* First cooldown step (steps - floor(F * steps) + 1), or steps + 1 when F = 0. */
static inline int64_t train_cooldown_start(const train_config *c) {
    if (c->meco_cooldown_fraction <= 0) return c->steps + 1;
    return c->steps - (int64_t)floor(c->meco_cooldown_fraction * (double)c->steps) + 1;
}
static inline int train_cooldown_active(const train_config *c, int64_t step) {
    return step >= train_cooldown_start(c);
}

#endif
