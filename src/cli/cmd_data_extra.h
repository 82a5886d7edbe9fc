/* Parts of `lmc data` that live in their own files (cmd_data_substr.c, cmd_data_audit.c). */
#ifndef LMC_CLI_CMD_DATA_EXTRA_H
#define LMC_CLI_CMD_DATA_EXTRA_H

#include "cli/cli.h"
#include "data/data.h"

/* `lmc data dedup --substring`: run with the input options the other data commands parsed. */
int lmc_data_substring(const lmc_args *a, const data_pipeline_cfg *in);

/* `lmc data audit` */
extern const lmc_command lmc_data_audit_cmd;

/* `lmc data classify train|score` (cmd_data_classify.c) */
extern const lmc_command lmc_data_classify_cmd;
/* `lmc data score --model DIR` (cmd_data_lmscore.c) */
extern const lmc_command lmc_data_lmscore_cmd;

#endif
