/* lmc report: an HTML report (inline SVG charts) of one or more run directories. */
#include <stdio.h>
#include <stdlib.h>
#include "base/base.h"
#include "cli/cli.h"
#include "train/report.h"

static int run_report(lmc_args *a) {
    lmc_err err = {0};
    int n = lmc_arg_npos(a);
    const char *out = lmc_arg_str(a, "output");
    char *def = NULL;
    if (!out) {
        /* One run: the report lives in its run directory. Several: in the current directory. */
        def = n == 1 && lmc_is_dir(lmc_arg_pos(a, 0)) ? lmc_path_join(lmc_arg_pos(a, 0), "report.html") : NULL;
        out = def ? def : "report.html";
    }
    int rc = train_report_write(lmc_arg_positionals(a), n, out, &err);
    if (!rc && lmc_progress_default_mode() != LMC_PROGRESS_QUIET) fprintf(stderr, "wrote %s\n", out);
    free(def);
    return rc ? lmc_fail(a, "%s", err.msg) : 0;
}

static const lmc_opt report_opts[] = {
    {"output", 'o', OPT_STR, NULL, "FILE", "where to write (default: RUN_DIR/report.html for one run, ./report.html for several)"},
    LMC_OPTS_END};

static const lmc_command report_cmd = {
    "report", "HTML report of runs: a chart per metric, smoothing, log y, hover, config diff", "[options] RUN...",
    "Writes one self-contained HTML file (inline SVG drawn by an inline script; no network) for one\n"
    "run or several overlaid. RUN is a run directory (metrics.jsonl, config.yaml, samples.txt,\n"
    "checkpoints/, train.log), its tb/ folder, or any TensorBoard event file or folder of them (e.g.\n"
    "PyTorch's SummaryWriter). One chart per metric key (val_X is the dashed validation line of chart\n"
    "X), axes over every point, EMA smoothing slider, log y, hover values, x = step, tokens or wall\n"
    "clock; then the config table with differences highlighted, final samples, checkpoints, hardware.",
    report_opts, 1, -1, run_report, NULL, 60};
LMC_COMMAND(report_cmd)
