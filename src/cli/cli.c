/* The command-line framework: registration, parsing and help generated from option tables.
 * See cli.h. */
#include "cli/cli.h"
#include "base/io.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/build_info.h"
#include "kernels/cpu/kernels.h"
#include "base/progress.h"

#define MAX_COMMANDS 64

static const lmc_command *g_commands[MAX_COMMANDS];
static int g_ncommands;

void lmc_cli_register(const lmc_command *cmd) {
    if (g_ncommands < MAX_COMMANDS) g_commands[g_ncommands++] = cmd;
}

typedef struct {
    const char **vals; /* for OPT_LIST: all values; otherwise vals[0] is the last value */
    int n;
    int set;
} opt_value;

struct lmc_args {
    const lmc_command *cmd;
    char path[128];            /* "lmc tokenizer encode" */
    opt_value *values;         /* one per option in cmd->opts */
    int nopts;
    const char **pos;
    int npos;
};

/* Options every command accepts, appended to its table for parsing and help. */
static const lmc_opt common_opts[] = {
    {"quiet", 'q', OPT_FLAG, NULL, NULL, "no progress output"},
    {"help", 'h', OPT_FLAG, NULL, NULL, "show this help and exit"},
    LMC_OPTS_END};

static int count_opts(const lmc_opt *o) {
    int n = 0;
    while (o && o[n].type != OPT_END) n++;
    return n;
}

/* The option at index i of the command's table followed by the common table. */
static const lmc_opt *opt_at(const lmc_command *c, int i) {
    int n = count_opts(c->opts);
    return i < n ? &c->opts[i] : &common_opts[i - n];
}

static int find_long(const lmc_args *a, const char *name, size_t len) {
    for (int i = 0; i < a->nopts; i++) {
        const lmc_opt *o = opt_at(a->cmd, i);
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return i;
    }
    return -1;
}

static int find_short(const lmc_args *a, char c) {
    for (int i = 0; i < a->nopts; i++)
        if (opt_at(a->cmd, i)->short_name == c) return i;
    return -1;
}

static const char *metavar(const lmc_opt *o) {
    if (o->metavar) return o->metavar;
    switch (o->type) {
    case OPT_INT: return "N";
    case OPT_FLOAT: return "X";
    default: return "VALUE";
    }
}

static int parse_int(const char *s, int64_t *out) {
    if (!*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out) {
    if (!*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || isnan(v)) return -1;
    *out = v;
    return 0;
}

static void print_opt_table(FILE *f, const lmc_command *c) {
    int n = count_opts(c->opts) + count_opts(common_opts);
    for (int i = 0; i < n; i++) {
        const lmc_opt *o = opt_at(c, i);
        char left[96];
        int k = 0;
        if (o->short_name) k = snprintf(left, sizeof left, "  -%c, --%s", o->short_name, o->name);
        else k = snprintf(left, sizeof left, "      --%s", o->name);
        if (o->type != OPT_FLAG && k < (int)sizeof left)
            snprintf(left + k, sizeof left - (size_t)k, " %s", metavar(o));
        fprintf(f, "%-30s %s", left, o->help ? o->help : "");
        if (strlen(left) > 30) fprintf(f, "\n%-30s", "");
        if (o->type == OPT_LIST) fprintf(f, " (repeatable)");
        if (o->def && o->type != OPT_FLAG) fprintf(f, " [default: %s]", o->def);
        fputc('\n', f);
    }
}

static void print_command_help(FILE *f, const char *path, const lmc_command *c) {
    fprintf(f, "usage: %s %s\n\n%s\n", path, c->usage ? c->usage : "[options]", c->summary);
    if (c->description) fprintf(f, "\n%s\n", c->description);
    if (c->subs) {
        fprintf(f, "\nsubcommands:\n");
        for (const lmc_command *const *s = c->subs; *s; s++) fprintf(f, "  %-14s %s\n", (*s)->name, (*s)->summary);
        fprintf(f, "\nRun '%s SUBCOMMAND --help' for the options of each.\n", path);
        return;
    }
    fprintf(f, "\noptions:\n");
    print_opt_table(f, c);
}

static int cmp_cmd(const void *a, const void *b) {
    const lmc_command *x = *(const lmc_command *const *)a, *y = *(const lmc_command *const *)b;
    if (x->order != y->order) return x->order - y->order;
    return strcmp(x->name, y->name);
}

static void print_main_help(FILE *f) {
    qsort(g_commands, (size_t)g_ncommands, sizeof g_commands[0], cmp_cmd);
    fprintf(f, "lmc %s: language-model pretraining in C, from raw text to a scaling law\n\n", lmc_version());
    fprintf(f, "usage: lmc [--version] [--help] [--quiet] COMMAND [ARGS...]\n\ncommands:\n");
    for (int i = 0; i < g_ncommands; i++) fprintf(f, "  %-12s %s\n", g_commands[i]->name, g_commands[i]->summary);
    fprintf(f, "  %-12s %s\n", "help", "show the full usage of a command: lmc help COMMAND [SUBCOMMAND]");
    fprintf(f, "\nRun 'lmc COMMAND --help' or 'lmc help COMMAND' for a command's options.\n");
}

static void print_version(void) {
    printf("lmc %s (commit %s)\n", lmc_version(), lmc_git_commit());
    printf("GEMM: %s\n", lmc_kernels_gemm_backend());
    printf("BLAS: %s, %s\n", lmc_blas_info(), lmc_kernels_blas_threading());
    lmc_cpu_features f = lmc_cpu_detect();
    char cpu[128];
    lmc_cpu_describe(&f, cpu, sizeof cpu);
    printf("CPU: %s; precision auto -> %s\n", cpu, lmc_precision_name(lmc_precision_resolve(LMC_PREC_AUTO)));
    char isa[384];
    lmc_isa_describe(isa, sizeof isa);
    printf("vector kernels: %s\n", isa);
    printf("OpenMP wait: %s\n", lmc_kernels_omp_wait());
    printf("backends: %s\n", lmc_backends());
}

static const lmc_command *find_cmd(const char *name) {
    for (int i = 0; i < g_ncommands; i++)
        if (!strcmp(g_commands[i]->name, name)) return g_commands[i];
    return NULL;
}

static const lmc_command *find_sub(const lmc_command *c, const char *name) {
    for (const lmc_command *const *s = c->subs; s && *s; s++)
        if (!strcmp((*s)->name, name)) return *s;
    return NULL;
}

static int usage_line(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vreport(const char *path, const char *fmt, va_list ap);
static int usage_line(const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(path, fmt, ap);
    va_end(ap);
    return 2;
}

/* Store one option value, validating numbers. Returns 0 or an exit status. */
static int store(lmc_args *a, int idx, const char *val, const char *spelled) {
    const lmc_opt *o = opt_at(a->cmd, idx);
    opt_value *v = &a->values[idx];
    if (o->type == OPT_INT) {
        int64_t x;
        if (parse_int(val, &x)) return usage_line(a->path, "option %s expects an integer, got '%s'", spelled, val);
    } else if (o->type == OPT_FLOAT) {
        double x;
        if (parse_float(val, &x)) return usage_line(a->path, "option %s expects a number, got '%s'", spelled, val);
    }
    if (o->type == OPT_LIST || v->n == 0) {
        const char **p = realloc(v->vals, sizeof *p * (size_t)(v->n + 1));
        if (!p) return usage_line(a->path, "out of memory");
        v->vals = p;
        v->vals[v->n++] = val;
    } else {
        v->vals[0] = val;
    }
    v->set = 1;
    return 0;
}

static void free_args(lmc_args *a) {
    for (int i = 0; i < a->nopts; i++) free(a->values[i].vals);
    free(a->values);
    free(a->pos);
}

/* Parse argv (after the command words) against c's table and run it. */
static int run_command(const char *path, const lmc_command *c, int argc, char **argv) {
    lmc_args a;
    memset(&a, 0, sizeof a);
    a.cmd = c;
    snprintf(a.path, sizeof a.path, "%s", path);
    a.nopts = count_opts(c->opts) + count_opts(common_opts);
    a.values = calloc((size_t)a.nopts, sizeof *a.values);
    a.pos = calloc((size_t)argc + 1, sizeof *a.pos);
    if (!a.values || !a.pos) return usage_line(path, "out of memory");
    int rc = 0, only_pos = 0;
    for (int i = 0; i < argc && !rc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || !strcmp(arg, "-")) {
            a.pos[a.npos++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_pos = 1;
            continue;
        }
        int idx;
        const char *inline_val = NULL;
        char spelled[96];
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            idx = find_long(&a, name, len);
            snprintf(spelled, sizeof spelled, "--%.*s", (int)len, name);
            if (idx < 0) { rc = usage_line(path, "unknown option '%s' (see '%s --help')", spelled, path); break; }
            if (eq) inline_val = eq + 1;
        } else {
            idx = find_short(&a, arg[1]);
            snprintf(spelled, sizeof spelled, "-%c", arg[1]);
            if (idx < 0) { rc = usage_line(path, "unknown option '%s' (see '%s --help')", spelled, path); break; }
            if (arg[2]) inline_val = arg + 2;
        }
        const lmc_opt *o = opt_at(c, idx);
        if (o->type == OPT_FLAG) {
            if (inline_val) { rc = usage_line(path, "option %s takes no value", spelled); break; }
            a.values[idx].set = 1;
            a.values[idx].n = 1;
            continue;
        }
        const char *val = inline_val;
        if (!val) {
            if (i + 1 >= argc) { rc = usage_line(path, "option %s needs a value (%s)", spelled, metavar(o)); break; }
            val = argv[++i];
        }
        rc = store(&a, idx, val, spelled);
    }
    if (!rc && lmc_arg_flag(&a, "help")) {
        print_command_help(stdout, path, c);
        free_args(&a);
        return 0;
    }
    if (!rc && lmc_arg_flag(&a, "quiet")) lmc_progress_set_default_mode(LMC_PROGRESS_QUIET);
    if (!rc && a.npos < c->min_pos)
        rc = usage_line(path, "missing argument: usage: %s %s", path, c->usage ? c->usage : "");
    if (!rc && c->max_pos >= 0 && a.npos > c->max_pos)
        rc = usage_line(path, "unexpected argument '%s': usage: %s %s", a.pos[c->max_pos], path, c->usage ? c->usage : "");
    if (!rc) {
        fflush(stdout);
        rc = c->run(&a);
    }
    free_args(&a);
    return rc;
}

static int dispatch(const char *path, const lmc_command *c, int argc, char **argv) {
    if (!c->subs) return run_command(path, c, argc, argv);
    char sub_path[128];
    if (argc == 0) {
        print_command_help(stderr, path, c);
        return 2;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        print_command_help(stdout, path, c);
        return 0;
    }
    const lmc_command *s = find_sub(c, argv[0]);
    if (!s && argv[0][0] == '-') return usage_line(path, "unknown option '%s' (see '%s --help')", argv[0], path);
    if (!s) return usage_line(path, "unknown subcommand '%s' (see '%s --help')", argv[0], path);
    snprintf(sub_path, sizeof sub_path, "%s %s", path, s->name);
    return dispatch(sub_path, s, argc - 1, argv + 1);
}

static int help_command(int argc, char **argv) {
    if (argc == 0) {
        print_main_help(stdout);
        return 0;
    }
    const lmc_command *c = find_cmd(argv[0]);
    if (!c) return usage_line("lmc help", "unknown command '%s'", argv[0]);
    char path[128];
    snprintf(path, sizeof path, "lmc %s", c->name);
    for (int i = 1; i < argc; i++) {
        const lmc_command *s = find_sub(c, argv[i]);
        if (!s) return usage_line("lmc help", "'%s' has no subcommand '%s'", path, argv[i]);
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, " %s", s->name);
        c = s;
    }
    print_command_help(stdout, path, c);
    return 0;
}

/* SIGINT/SIGTERM/SIGHUP: remove the temporaries of unfinished atomic writes (an interrupted
 * `lmc tokenizer encode -o OUT.bin` left OUT.bin.tmp.PID.0), then die of the signal as before.
 * Commands with their own handling (lmc train stops at a step boundary) install theirs over it. */
static void on_fatal_signal(int sig) {
    lmc_atomic_unlink_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_cleanup_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++) {
        struct sigaction old;
        /* a signal ignored by the parent (nohup, `trap '' INT`) stays ignored */
        if (sigaction(sigs[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[k], &sa, NULL);
    }
}

int lmc_cli_main(int argc, char **argv) {
    install_cleanup_handlers();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *g = argv[i];
        if (!strcmp(g, "--help") || !strcmp(g, "-h")) {
            print_main_help(stdout);
            return 0;
        } else if (!strcmp(g, "--version") || !strcmp(g, "-V")) {
            print_version();
            return 0;
        } else if (!strcmp(g, "--quiet") || !strcmp(g, "-q")) {
            lmc_progress_set_default_mode(LMC_PROGRESS_QUIET);
        } else {
            return usage_line("lmc", "unknown option '%s' (see 'lmc --help')", g);
        }
    }
    if (i >= argc) {
        print_main_help(stderr);
        return 2;
    }
    const char *name = argv[i];
    if (!strcmp(name, "help")) return help_command(argc - i - 1, argv + i + 1);
    const lmc_command *c = find_cmd(name);
    if (!c) return usage_line("lmc", "unknown command '%s' (see 'lmc --help')", name);
    char path[128];
    snprintf(path, sizeof path, "lmc %s", c->name);
    return dispatch(path, c, argc - i - 1, argv + i + 1);
}

/* ---- accessors ---- */

static int idx_of(const lmc_args *a, const char *name) {
    int i = find_long(a, name, strlen(name));
    if (i < 0) {
        /* A programming error: the command asked for an option it did not declare. */
        fprintf(stderr, "%s: internal error: no option '--%s' in the table\n", a->path, name);
        abort();
    }
    return i;
}

int lmc_arg_flag(const lmc_args *a, const char *name) { return a->values[idx_of(a, name)].set; }

int lmc_arg_is_set(const lmc_args *a, const char *name) { return a->values[idx_of(a, name)].set; }

const char *lmc_arg_str(const lmc_args *a, const char *name) {
    int i = idx_of(a, name);
    if (a->values[i].n) return a->values[i].vals[a->values[i].n - 1];
    return opt_at(a->cmd, i)->def;
}

int64_t lmc_arg_int(const lmc_args *a, const char *name) {
    const char *s = lmc_arg_str(a, name);
    int64_t v = 0;
    if (s) parse_int(s, &v);
    return v;
}

double lmc_arg_float(const lmc_args *a, const char *name) {
    const char *s = lmc_arg_str(a, name);
    double v = 0;
    if (s) parse_float(s, &v);
    return v;
}

const char *const *lmc_arg_list(const lmc_args *a, const char *name, int *n) {
    int i = idx_of(a, name);
    *n = a->values[i].n;
    return a->values[i].vals;
}

int lmc_arg_npos(const lmc_args *a) { return a->npos; }
const char *lmc_arg_pos(const lmc_args *a, int i) { return i < a->npos ? a->pos[i] : NULL; }
const char *const *lmc_arg_positionals(const lmc_args *a) { return a->pos; }
const char *lmc_arg_cmdpath(const lmc_args *a) { return a->path; }

static void vreport(const char *path, const char *fmt, va_list ap) {
    fprintf(stderr, "%s: ", path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int lmc_usage_error(const lmc_args *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(a->path, fmt, ap);
    va_end(ap);
    return 2;
}

int lmc_fail(const lmc_args *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(a->path, fmt, ap);
    va_end(ap);
    return 1;
}
