/* `lmc report`: one self-contained HTML file (inline SVG, no scripts, no external assets) with the
 * curves of one or more run directories overlaid: loss and val loss against step and against
 * tokens, learning rate, gradient norm and throughput against step, plus a summary table. */
#ifndef LMC_TRAIN_REPORT_H
#define LMC_TRAIN_REPORT_H

#include "base/error.h"

/* Read RUN/metrics.jsonl for each run and write the report to out_path atomically. */
int train_report_write(const char *const *runs, int n_runs, const char *out_path, lmc_err *err);

#endif
