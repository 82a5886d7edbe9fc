/* lmc train: run, stop and resume a training run from a YAML config. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include "base/base.h"
#include "cli/cli.h"
#include "dist/dist.h"
#include "train/config.h"
#include "train/train.h"

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* First SIGINT/SIGTERM: finish the step, checkpoint, exit 0. A second one kills (SA_RESETHAND). */
static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    lmc_progress *p;
    int quiet;
} event_ctx;

static void print_event(void *ctx, int kind, const char *line) {
    event_ctx *e = ctx;
    if (e->quiet) return;
    if (e->p && e->p->printed) fputs("\r\033[K", stderr); /* clear the live status line first */
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    (void)kind;
}

static int load_config(lmc_args *a, train_config *c, lmc_err *err) {
    train_config_defaults(c);
    if (lmc_arg_npos(a) > 0 && train_config_load_file(c, lmc_arg_pos(a, 0), err)) return -1;
    int n = 0;
    const char *const *sets = lmc_arg_list(a, "set", &n);
    for (int i = 0; i < n; i++)
        if (train_config_set(c, sets[i], err)) return -1;
    return 0;
}

/* Threads per rank when train.threads is 0: the CPUs the launcher bound this rank to, or, unbound, the
 * machine's CPUs shared among the ranks on this node. */
static int default_rank_threads(void) {
    cpu_set_t set;
    int aff = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : get_nprocs();
    if (aff < get_nprocs()) return aff;
    const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!ls) ls = getenv("MPI_LOCALNRANKS");
    if (!ls) ls = getenv("SLURM_NTASKS_PER_NODE");
    int local = ls ? atoi(ls) : 1;
    int n = local > 0 ? aff / local : aff;
    return n > 0 ? n : 1;
}

static int run_train_inner(lmc_args *a, dist_ctx *dist);

/* Under mpirun / srun every rank runs this command; rank 0 alone prints and writes the run folder. An
 * error on any rank stops the whole job (MPI_Abort), so no rank waits for a dead peer. */
static int run_train(lmc_args *a) {
    if (!dist_launched() || lmc_arg_flag(a, "keys-markdown") || lmc_arg_flag(a, "print-config"))
        return run_train_inner(a, NULL);
    lmc_err err = {0};
    dist_ctx d;
    /* the deadline is the config's; until it is read, MPI start-up waits forever */
    if (dist_init(&d, 0, &err)) return lmc_fail(a, "%s", err.msg);
    int rc = run_train_inner(a, &d);
    if (rc) dist_abort(&d, rc);
    dist_finalize(&d);
    return rc;
}

static int run_train_inner(lmc_args *a, dist_ctx *dist) {
    lmc_err err = {0};
    train_config cfg;
    if (lmc_arg_flag(a, "keys-markdown")) {
        lmc_buf b = {0};
        if (train_config_keys_markdown(&b, &err)) return lmc_fail(a, "%s", err.msg);
        fwrite(b.data, 1, b.len, stdout);
        lmc_buf_free(&b);
        return 0;
    }
    if (load_config(a, &cfg, &err)) return lmc_fail(a, "%s", err.msg);
    if (lmc_arg_flag(a, "print-config")) {
        if (train_config_validate(&cfg, 0, &err)) return lmc_fail(a, "%s", err.msg);
        lmc_buf b = {0};
        if (train_config_to_yaml(&cfg, &b, &err)) return lmc_fail(a, "%s", err.msg);
        fwrite(b.data, 1, b.len, stdout);
        lmc_buf_free(&b);
        return 0;
    }
    if (lmc_arg_npos(a) < 1) return lmc_usage_error(a, "missing CONFIG.yaml (or use --print-config)");
    if (dist) {
        dist->timeout_s = cfg.dist_timeout_s;
        if (cfg.threads == 0 && dist->size > 1) cfg.threads = default_rank_threads();
    }

    int quiet = lmc_progress_default_mode() == LMC_PROGRESS_QUIET || (dist && dist->rank != 0);
    int tty = !quiet && lmc_progress_default_mode() != LMC_PROGRESS_PLAIN && isatty(fileno(stderr));
    lmc_progress prog;
    event_ctx ev = {tty ? &prog : NULL, quiet};
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = lmc_arg_flag(a, "resume");
    o.stop_at = lmc_arg_int(a, "stop-at");
    o.stop_flag = &g_stop;
    o.progress = tty ? &prog : NULL;
    o.on_event = print_event;
    o.event_ctx = &ev;
    o.dist = dist;
    install_handlers();
    train_result res;
    int rc = train_run(&cfg, &o, &res, &err);
    if (rc && dist && dist->size > 1) {
        fprintf(stderr, "lmc train: rank %d of %d: %s\n", dist->rank, dist->size, err.msg);
        return 1;
    }
    if (rc) return lmc_fail(a, "%s", err.msg);
    if (!quiet) {
        fprintf(stderr, "\nrun directory: %s\n", res.run_path);
        fprintf(stderr, "  config.yaml, metrics.jsonl, train.log, samples.txt\n");
        if (res.last_ckpt[0]) fprintf(stderr, "  latest checkpoint: %s\n", res.last_ckpt);
        fprintf(stderr, "  step %lld", (long long)res.step);
        if (res.last_loss == res.last_loss) fprintf(stderr, ", loss %.4f", res.last_loss);
        if (res.last_val_loss == res.last_val_loss) fprintf(stderr, ", val_loss %.4f", res.last_val_loss);
        if (res.skipped) fprintf(stderr, ", %lld non-finite steps skipped", (long long)res.skipped);
        fprintf(stderr, "\n");
        if (res.stopped) fprintf(stderr, "  stopped early: run the same command with --resume to continue\n");
    }
    return 0;
}

static const lmc_opt train_opts_table[] = {
    {"set", 0, OPT_LIST, NULL, "KEY=VALUE", "override a config key, e.g. --set train.lr=3e-4 (repeatable)"},
    {"resume", 0, OPT_FLAG, NULL, NULL, "continue from the newest complete checkpoint in the run directory"},
    {"stop-at", 0, OPT_INT, "0", "STEP", "finish step STEP, write a checkpoint and exit 0 (as on preemption)"},
    {"print-config", 0, OPT_FLAG, NULL, NULL, "print the resolved config (defaults + CONFIG + --set) and exit"},
    {"keys-markdown", 0, OPT_FLAG, NULL, NULL, "print the table of config keys as Markdown and exit"},
    LMC_OPTS_END};

static const lmc_command train_cmd = {
    "train", "train a model from a YAML config (resumable)", "[options] [CONFIG.yaml]",
    "Runs the training described by CONFIG.yaml in run.dir/run.name/ (config.yaml, metrics.jsonl,\n"
    "train.log, samples.txt, checkpoints/). Every key has a default: `lmc train --print-config` lists\n"
    "them with their meaning. SIGINT/SIGTERM stop at the next step boundary after writing a\n"
    "checkpoint; `--resume` continues bit-for-bit where the run stopped.",
    train_opts_table, 0, 1, run_train, NULL, 30};
LMC_COMMAND(train_cmd)
