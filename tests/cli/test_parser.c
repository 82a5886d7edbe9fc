/* The command-line framework: parsing, validation, generated help, exit statuses.
 * Registers a demo command with every option type and a subcommand group, then drives
 * lmc_cli_main() with argument vectors and checks the exit status and the stderr line. */
#include <fcntl.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "test.h"

static int g_ran;
static int64_t g_n;
static double g_x;
static const char *g_s;
static int g_nlist, g_npos, g_flag;

static const lmc_opt demo_opts[] = {
    {"count", 'n', OPT_INT, "7", "N", "an integer"},
    {"rate", 0, OPT_FLOAT, "0.5", "X", "a number"},
    {"out", 'o', OPT_STR, NULL, "FILE", "a string"},
    {"tag", 0, OPT_LIST, NULL, "TAG", "a repeatable string"},
    {"fast", 0, OPT_FLAG, NULL, NULL, "a flag"},
    LMC_OPTS_END};

static int run_demo(lmc_args *a) {
    g_ran = 1;
    g_n = lmc_arg_int(a, "count");
    g_x = lmc_arg_float(a, "rate");
    g_s = lmc_arg_str(a, "out");
    lmc_arg_list(a, "tag", &g_nlist);
    g_npos = lmc_arg_npos(a);
    g_flag = lmc_arg_flag(a, "fast");
    return 0;
}

static const lmc_command demo = {"demo", "a demo command", "[options] INPUT...", "Longer text.",
                                 demo_opts, 1, 3, run_demo, NULL, 5};
static const lmc_command sub_a = {"alpha", "first subcommand", "[options]", NULL, demo_opts, 0, 0, run_demo, NULL, 0};
static const lmc_command *const group_subs[] = {&sub_a, NULL};
static const lmc_command group = {"group", "a command with subcommands", "SUBCOMMAND", NULL, NULL, 0, 0, NULL,
                                  group_subs, 6};
LMC_COMMAND(demo)
LMC_COMMAND(group)

static char captured[8192];

/* Run lmc_cli_main on a NULL-terminated list, capturing stdout+stderr. */
static int run(const char *first, ...) {
    const char *argv[32] = {"lmc"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) argv[argc++] = s;
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    char path[] = "/tmp/lmc-cli-XXXXXX";
    int fd = mkstemp(path);
    int save_out = dup(1), save_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    g_ran = 0;
    int rc = lmc_cli_main(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, 1);
    dup2(save_err, 2);
    close(save_out);
    close(save_err);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, captured, sizeof captured - 1);
    captured[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return rc;
}

int main(void) {
    /* top-level help lists registered commands in order, with one line each */
    CHECK_EQ_INT(run("--help", NULL), 0);
    CHECK_STR_CONTAINS(captured, "demo         a demo command");
    CHECK_STR_CONTAINS(captured, "group        a command with subcommands");
    CHECK(strstr(captured, "demo") < strstr(captured, "group"));
    CHECK_EQ_INT(run("--version", NULL), 0);
    CHECK_STR_CONTAINS(captured, "lmc 0.1.0 (commit ");
    CHECK_STR_CONTAINS(captured, "BLAS: ");
    CHECK_STR_CONTAINS(captured, "backends: cpu");

    /* a good invocation: values, defaults, list, flag, positionals, --opt=value, -oVALUE */
    CHECK_EQ_INT(run("demo", "-n", "12", "--rate=2.5e-3", "-oout.bin", "--tag", "a", "--tag", "b", "--fast", "in1", "in2", NULL), 0);
    CHECK(g_ran && g_n == 12 && g_x == 2.5e-3 && g_s && !strcmp(g_s, "out.bin") && g_nlist == 2 && g_npos == 2 && g_flag);
    CHECK_EQ_INT(run("demo", "in", NULL), 0);
    CHECK(g_n == 7 && g_x == 0.5 && g_s == NULL && g_nlist == 0 && !g_flag);
    CHECK_EQ_INT(run("demo", "--", "--not-an-option", NULL), 0);
    CHECK(g_npos == 1);

    /* errors: one line naming the problem, exit 2, command not run */
    CHECK_EQ_INT(run("nosuch", NULL), 2);
    CHECK_STR_CONTAINS(captured, "lmc: unknown command 'nosuch'");
    CHECK_EQ_INT(run("--bogus", NULL), 2);
    CHECK_STR_CONTAINS(captured, "unknown option '--bogus'");
    CHECK_EQ_INT(run("demo", "--nope", "x", NULL), 2);
    CHECK_STR_CONTAINS(captured, "lmc demo: unknown option '--nope'");
    CHECK(!g_ran);
    CHECK_EQ_INT(run("demo", "x", "-z", NULL), 2);
    CHECK_STR_CONTAINS(captured, "unknown option '-z'");
    CHECK_EQ_INT(run("demo", "x", "--count", NULL), 2);
    CHECK_STR_CONTAINS(captured, "option --count needs a value (N)");
    CHECK_EQ_INT(run("demo", "x", "--count", "12abc", NULL), 2);
    CHECK_STR_CONTAINS(captured, "option --count expects an integer, got '12abc'");
    CHECK_EQ_INT(run("demo", "x", "--rate", "fast", NULL), 2);
    CHECK_STR_CONTAINS(captured, "option --rate expects a number, got 'fast'");
    CHECK_EQ_INT(run("demo", "x", "--count", "99999999999999999999999", NULL), 2);
    CHECK_EQ_INT(run("demo", "x", "--fast=1", NULL), 2);
    CHECK_STR_CONTAINS(captured, "takes no value");
    CHECK_EQ_INT(run("demo", NULL), 2);
    CHECK_STR_CONTAINS(captured, "missing argument");
    CHECK_EQ_INT(run("demo", "a", "b", "c", "d", NULL), 2);
    CHECK_STR_CONTAINS(captured, "unexpected argument 'd'");
    CHECK(!g_ran);
    /* each error is a single line */
    CHECK(strchr(captured, '\n') == captured + strlen(captured) - 1);

    /* command help is generated from the table */
    CHECK_EQ_INT(run("demo", "--help", NULL), 0);
    CHECK_STR_CONTAINS(captured, "usage: lmc demo [options] INPUT...");
    CHECK_STR_CONTAINS(captured, "-n, --count N");
    CHECK_STR_CONTAINS(captured, "[default: 7]");
    CHECK_STR_CONTAINS(captured, "--tag TAG");
    CHECK_STR_CONTAINS(captured, "(repeatable)");
    CHECK_STR_CONTAINS(captured, "--quiet");
    CHECK(!g_ran);
    char help1[8192];
    memcpy(help1, captured, sizeof help1);
    CHECK_EQ_INT(run("help", "demo", NULL), 0);
    CHECK(!strcmp(help1, captured));
    CHECK_EQ_INT(run("help", "nosuch", NULL), 2);

    /* subcommands */
    CHECK_EQ_INT(run("group", "--help", NULL), 0);
    CHECK_STR_CONTAINS(captured, "alpha");
    CHECK_EQ_INT(run("group", "alpha", "--count", "3", NULL), 0);
    CHECK(g_ran && g_n == 3);
    CHECK_EQ_INT(run("group", "beta", NULL), 2);
    CHECK_STR_CONTAINS(captured, "lmc group: unknown subcommand 'beta'");
    CHECK_EQ_INT(run("group", NULL), 2);
    CHECK_EQ_INT(run("group", "alpha", "--bad", NULL), 2);
    CHECK_STR_CONTAINS(captured, "lmc group alpha: unknown option '--bad'");
    CHECK_EQ_INT(run("help", "group", "alpha", NULL), 0);
    CHECK_STR_CONTAINS(captured, "usage: lmc group alpha");
    return test_summary("cli/parser");
}
