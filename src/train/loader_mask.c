/* Loss-mask sidecars for the training loader. See loader_mask.h. */
#include "train/loader_mask.h"

#include <stdlib.h>
#include <string.h>

int train_mask_mode_parse(const char *s, train_mask_mode *mode) {
    if (!s || !*s || !strcmp(s, "auto")) *mode = TRAIN_MASK_AUTO;
    else if (!strcmp(s, "off")) *mode = TRAIN_MASK_OFF;
    else if (!strcmp(s, "require")) *mode = TRAIN_MASK_REQUIRE;
    else return -1;
    return 0;
}

int train_loader_attach_masks(train_loader *l, train_mask_mode mode, const char *what, lmc_err *err) {
    if (mode == TRAIN_MASK_OFF || l->nshards == 0) return 0;
    char **paths = calloc(l->nshards, sizeof *paths);
    if (!paths) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    int rc = 0;
    size_t present = 0, first_present = 0, first_missing = l->nshards;
    for (size_t i = 0; i < l->nshards && !rc; i++) {
        paths[i] = lmc_mask_path(l->shards[i].s.path);
        if (!paths[i]) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
        else if (lmc_file_exists(paths[i])) {
            if (!present++) first_present = i;
        } else if (first_missing == l->nshards) {
            first_missing = i;
        }
    }
    if (!rc && first_missing < l->nshards && (mode == TRAIN_MASK_REQUIRE || present)) {
        if (mode == TRAIN_MASK_REQUIRE)
            rc = lmc_errf(err, LMC_ENOTFOUND, "%s: data.loss_mask is require but %s has no loss mask %s", what,
                          l->shards[first_missing].s.path, paths[first_missing]);
        else
            rc = lmc_errf(err, LMC_ENOTFOUND, "%s: %s has a loss mask (%s), so every shard of the glob needs one, but "
                          "%s has none (%s expected; data.loss_mask: off ignores masks)", what,
                          l->shards[first_present].s.path, paths[first_present], l->shards[first_missing].s.path,
                          paths[first_missing]);
    }
    for (size_t i = 0; i < l->nshards && !rc && present; i++) {
        rc = lmc_mask_open(&l->shards[i].mask, paths[i], l->shards[i].s.ntok, err);
        if (rc) lmc_err_wrap(err, "%s", what);
        else l->masked++;
    }
    for (size_t i = 0; i < l->nshards; i++) free(paths[i]);
    free(paths);
    return rc;
}

uint64_t train_count_targets(const int32_t *targets, size_t n) {
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++) c += targets[i] >= 0;
    return c;
}
