/* `lmc report`: one self-contained HTML file (no network: inline SVG drawn by a small inline script
 * of our own, src/train/report.js) for one run or several overlaid. Each run is an lmc run directory
 * (metrics.jsonl, config.yaml, samples.txt, checkpoints/, train.log) or a TensorBoard event file or
 * folder of them (RUN/tb, PyTorch's SummaryWriter log dir). The page has one chart per metric key
 * found (val_X is drawn in chart X, dashed), axes that include every point, a colour per run and a
 * legend, EMA smoothing with a slider (raw line faint behind), log-y, a hover read-out and an x axis
 * of step / tokens / wall clock; then the config table (differences between runs highlighted), the
 * final samples, the checkpoints and the hardware line of each run. */
#ifndef LMC_TRAIN_REPORT_H
#define LMC_TRAIN_REPORT_H

#include "base/error.h"

/* Read each run and write the report to out_path atomically. */
int train_report_write(const char *const *runs, int n_runs, const char *out_path, lmc_err *err);

#endif
