/* Loss masks in the loader: the optional X.mask sidecar of each shard X.bin (format: src/data/mask.h,
 * docs/train.md). A token whose mask bit is 0 is not a target: the loader writes -1 at its target
 * position, which the model's loss and gradient already ignore.
 *
 * data.loss_mask: auto (the default) reads X.mask when one shard of the glob has one, and then requires it
 * for every shard of that glob (a set that is half masked is a mistake, not a mixture); require: every
 * shard must have one; off: masks are not read. */
#ifndef LMC_TRAIN_LOADER_MASK_H
#define LMC_TRAIN_LOADER_MASK_H

#include "train/loader.h"

typedef enum { TRAIN_MASK_AUTO = 0, TRAIN_MASK_OFF, TRAIN_MASK_REQUIRE } train_mask_mode;

/* "auto" / "off" / "require" -> mode; -1 for anything else. */
int train_mask_mode_parse(const char *s, train_mask_mode *mode);
/* Attach the sidecars of every shard of an open loader. `what` names the glob in errors (e.g. "data.train"). */
int train_loader_attach_masks(train_loader *l, train_mask_mode mode, const char *what, lmc_err *err);
/* Targets that count (>= 0) among n. */
uint64_t train_count_targets(const int32_t *targets, size_t n);

#endif
