/* The command line framework.
 *
 * Each command defines its options once, in a table (name, type, default, help); the parser, the
 * validation of values and the --help text are all generated from that table, so usage never drifts
 * from the parser. Commands register themselves with LMC_COMMAND(...) in their own cmd_<name>.c, so
 * main.c lists exactly the commands that exist.
 *
 * Errors in the command line (unknown command or option, missing value, malformed number) print one
 * line "lmc CMD: ..." on stderr and exit with status 2. Errors while running exit with status 1. */
#ifndef LMC_CLI_H
#define LMC_CLI_H

#include <stdint.h>
#include <stddef.h>

typedef enum {
    OPT_END = 0,
    OPT_FLAG,   /* --name          (no value) */
    OPT_STR,    /* --name VALUE */
    OPT_INT,    /* --name 123      (also 1e6, 2k, 3M, 4G suffixes are NOT accepted: plain integers only) */
    OPT_FLOAT,  /* --name 1.5e-3 */
    OPT_LIST,   /* --name VALUE, repeatable; values collected in order */
} lmc_opt_type;

typedef struct lmc_opt {
    const char *name;      /* long name without dashes: "vocab-size" */
    char short_name;       /* 'o' for -o, or 0 */
    lmc_opt_type type;
    const char *def;       /* default as text (NULL = none) */
    const char *metavar;   /* "N", "FILE"; NULL = derived from the type */
    const char *help;      /* one line */
} lmc_opt;

#define LMC_OPTS_END { 0, 0, OPT_END, 0, 0, 0 }

typedef struct lmc_args lmc_args;
typedef struct lmc_command lmc_command;

struct lmc_command {
    const char *name;          /* "tokenizer" or, for a subcommand, "encode" */
    const char *summary;       /* one line for the command list */
    const char *usage;         /* positional part: "[options] INPUT..." */
    const char *description;   /* paragraphs after the usage (may be NULL) */
    const lmc_opt *opts;       /* table ending in LMC_OPTS_END (may be NULL) */
    int min_pos, max_pos;      /* positional argument count; max_pos < 0 = unlimited */
    int (*run)(lmc_args *a);   /* returns the process exit status */
    const lmc_command *const *subs; /* NULL-terminated subcommands, or NULL */
    int order;                 /* sort key in `lmc --help` (pipeline order) */
};

/* Register a top-level command (call from a constructor; use LMC_COMMAND). */
void lmc_cli_register(const lmc_command *cmd);

#define LMC_COMMAND(var) \
    __attribute__((constructor)) static void lmc_register_##var(void) { lmc_cli_register(&(var)); }

/* Accessors for parsed arguments. Names are the long names. Values were validated by the parser. */
int lmc_arg_flag(const lmc_args *a, const char *name);
const char *lmc_arg_str(const lmc_args *a, const char *name);     /* NULL if unset and no default */
int64_t lmc_arg_int(const lmc_args *a, const char *name);         /* default if unset */
double lmc_arg_float(const lmc_args *a, const char *name);
int lmc_arg_is_set(const lmc_args *a, const char *name);          /* given on the command line */
const char *const *lmc_arg_list(const lmc_args *a, const char *name, int *n);
int lmc_arg_npos(const lmc_args *a);
const char *lmc_arg_pos(const lmc_args *a, int i);
const char *const *lmc_arg_positionals(const lmc_args *a);
/* "lmc tokenizer encode": for messages. */
const char *lmc_arg_cmdpath(const lmc_args *a);

/* Print "lmc CMD: message" on stderr and return 2 (usage) / 1 (runtime): `return lmc_usage_error(a, ...)`. */
int lmc_usage_error(const lmc_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lmc_fail(const lmc_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The entry point used by main(). */
int lmc_cli_main(int argc, char **argv);

#endif
