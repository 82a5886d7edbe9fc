/* data.sources: the list of a data mixture's sources, and the cross-key checks of the data.mixing keys.
 *
 *   data:
 *     sources:
 *       - {name: wiki, train: "shards/wiki_train_*.bin", val: "shards/wiki_val_*.bin", weight: 0.5}
 *       - {name: code, train: "shards/code_train_*.bin", weight: 0.2, target_loss: 1.5}
 *
 * name: [A-Za-z0-9_.-], unique (it is part of the metric keys mix/<name>/...); train: a glob (required);
 * val: a glob (optional: no val/<name>/loss without it); weight: a positive finite number (the weights are
 * normalised to sum 1); target_loss: Velocitune's target loss of the source (data.mixing: velocitune). */
#ifndef LMC_TRAIN_MIX_CONFIG_H
#define LMC_TRAIN_MIX_CONFIG_H
#include <yaml.h>
#include "base/error.h"
#include "base/mem.h"
#include "train/config.h"

#define TRAIN_MAX_SOURCES 8

/* Parse the list after the key event *ev (which it deletes and replaces); leaves *ev at the list's end.
 * name: the config's path for messages (file:line:col). */
int train_mix_sources_parse(yaml_parser_t *p, yaml_event_t *ev, train_config *c, const char *name, lmc_err *err);
/* Append "  sources:\n    - {...}" (nothing when the list is empty); re-loading it gives the same list. */
int train_mix_sources_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err);
/* Checks across keys: data.mixing other than static needs data.sources, velocitune a target_loss per
 * source, doremi data.mixing_reference, chameleon two sources. */
int train_mix_validate(const train_config *c, lmc_err *err);
#endif
