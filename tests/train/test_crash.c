/* Crash consistency of `lmc train` (the real binary, $LMC_BIN): a short run with a checkpoint every
 * 2 steps is killed with SIGKILL, then resumed with --resume until it finishes, and must end bitwise
 * equal to an uninterrupted run: final weights, optimizer state, trainer state (all but wall time),
 * metrics and samples. The kills are
 *   - aimed: LMC_CRASH_AT=POINT:N (src/train/checkpoint.c) kills the process the N-th time it reaches
 *     a named point inside a checkpoint save or rotation, N drawn from a seeded RNG (and once right
 *     after the final checkpoint, before the final sample);
 *   - timed: kill -9 after a seeded random delay within the uninterrupted run's wall time.
 * After each resumed run: no temporary file is left anywhere in the run folder, and every checkpoint
 * folder is complete (has DONE): D4, an orphan folder after a kill between unlink(DONE) and the
 * folder's removal during rotation, failed this check before rotation learned to remove such folders.
 * A timed kill 9 ms into a run (inside config.yaml's atomic write) once left config.yaml.tmp.PID.0:
 * the trainer now removes stale temporaries from its run folder at start.
 * LMC_CRASH_KILLS=N sets the number of timed kills (default 4); LMC_CRASH_SEED the seed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "tiny_run.h"
#include "train/checkpoint.h"

#define STEPS 24
#define KEEP 2

static char dir[512]; /* short, so every path built from it fits its buffer */
static const char *bin;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Write the run config for run `name` (every run shares the shards). */
static void write_config(const char *name, char *cfg, size_t cap) {
    snprintf(cfg, cap, "%s/%s.yaml", dir, name);
    FILE *f = fopen(cfg, "w");
    if (!f) TEST_SKIP("cannot write %s", cfg);
    fprintf(f,
            "run: {name: %s, dir: %s/runs, seed: 7, log_every: 1000, sample_every: 6, sample_tokens: 8, peak_tflops: 1}\n"
            "data: {train: %s/train.bin, val: %s/val.bin}\n"
            "model: {n_layer: 2, n_head: 2, d_model: 32, seq_len: 16, vocab_size: 64}\n"
            "train: {steps: %d, batch_size: 4, micro_batch: 2, lr: 3e-3, warmup_steps: 2, eval_every: 4,\n"
            "        eval_batches: 2, checkpoint_every: 2, keep_checkpoints: %d, threads: 1}\n",
            name, dir, dir, dir, STEPS, KEEP);
    fclose(f);
}

/* Run `lmc train CFG [--resume]`; crash_at sets LMC_CRASH_AT in the child; kill_after > 0 sends SIGKILL
 * after that many seconds. Returns the wait status. */
static int run_lmc(const char *cfg, int resume, const char *crash_at, double kill_after) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char log[4200];
        snprintf(log, sizeof log, "%s.log", cfg);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (crash_at) setenv("LMC_CRASH_AT", crash_at, 1);
        else unsetenv("LMC_CRASH_AT");
        execl(bin, bin, "train", cfg, "--quiet", resume ? "--resume" : NULL, (char *)NULL);
        _exit(127);
    }
    if (kill_after > 0) {
        struct timespec ts = {(time_t)kill_after, (long)((kill_after - (time_t)kill_after) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return st;
}

static int tmp_found;
static int find_tmp(const char *path, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag;
    if (strstr(path + f->base, ".tmp")) {
        fprintf(stderr, "  left behind: %s\n", path);
        tmp_found++;
    }
    return 0;
}

/* Checkpoint folders without DONE under RUN/checkpoints (D4's orphans). */
static int count_incomplete(const char *run) {
    char p[8400];
    snprintf(p, sizeof p, "%s/checkpoints", run);
    DIR *d = opendir(p);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "step_", 5)) continue;
        snprintf(p, sizeof p, "%s/checkpoints/%s/DONE", run, e->d_name);
        if (!lmc_file_exists(p)) {
            fprintf(stderr, "  incomplete checkpoint folder: %s/checkpoints/%s\n", run, e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

static int same_file(const char *a, const char *b, const char *name) {
    size_t la = 0, lb = 0;
    char *x = tiny_file(a, name, &la), *y = tiny_file(b, name, &lb);
    int same = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return same;
}

static char *run_file(const char *name, const char *file) {
    char p[1024];
    size_t len;
    snprintf(p, sizeof p, "%s/runs/%s", dir, name);
    return tiny_file(p, file, &len);
}

/* Everything a finished run must share with the reference run. */
static void compare_with_ref(const char *name, const char *ref_metrics, const char *ref_samples) {
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/runs/ref/checkpoints/step_%08d", dir, STEPS);
    snprintf(b, sizeof b, "%s/runs/%s/checkpoints/step_%08d", dir, name, STEPS);
    CHECK_MSG(same_file(a, b, "model.safetensors"), "%s: final weights differ from the uninterrupted run", name);
    CHECK_MSG(same_file(a, b, "optimizer.safetensors"), "%s: final optimizer state differs", name);
    train_state sa, sb;
    lmc_err err;
    char p[1100];
    snprintf(p, sizeof p, "%s/trainer_state.json", a);
    CHECK_MSG(train_state_load(p, &sa, &err) == 0, "%s", err.msg);
    snprintf(p, sizeof p, "%s/trainer_state.json", b);
    CHECK_MSG(train_state_load(p, &sb, &err) == 0, "%s", err.msg);
    sa.elapsed_s = sb.elapsed_s = 0; /* wall time is the one field that legitimately differs */
    CHECK_MSG(!memcmp(&sa, &sb, sizeof sa), "%s: final trainer state differs", name);
    train_config c;
    train_config_defaults(&c);
    snprintf(c.run_dir, sizeof c.run_dir, "%s/runs", dir);
    snprintf(c.run_name, sizeof c.run_name, "%s", name);
    char *m = tiny_metrics(&c), *s = run_file(name, "samples.txt");
    CHECK_MSG(m && !strcmp(m, ref_metrics), "%s: metrics differ:\n--- uninterrupted\n%s--- killed and resumed\n%s",
              name, ref_metrics, m ? m : "(none)\n");
    CHECK_MSG(s && ref_samples && !strcmp(s, ref_samples), "%s: samples.txt differs:\n--- uninterrupted\n%s--- resumed\n%s",
              name, ref_samples ? ref_samples : "", s ? s : "(none)\n");
    free(m);
    free(s);
    snprintf(p, sizeof p, "%s/runs/%s", dir, name);
    tmp_found = 0;
    nftw(p, find_tmp, 16, FTW_PHYS);
    CHECK_MSG(tmp_found == 0, "%s: %d temporary files left in the run folder", name, tmp_found);
    int orphans = count_incomplete(p);
    CHECK_MSG(orphans == 0, "%s: %d orphan checkpoint folders (D4)", name, orphans);
}

int main(void) {
    bin = getenv("LMC_BIN");
    if (!bin || access(bin, X_OK)) TEST_SKIP("LMC_BIN (the lmc binary) is not set or not executable");
    char *tmp = test_tmpdir();
    if (strlen(tmp) >= 400) TEST_SKIP("temporary folder path too long: %s", tmp);
    snprintf(dir, sizeof dir, "%s", tmp);
    char p[1024];
    snprintf(p, sizeof p, "%s/train.bin", dir);
    tiny_shard(p, 600, 1);
    snprintf(p, sizeof p, "%s/val.bin", dir);
    tiny_shard(p, 200, 2);

    /* the uninterrupted reference run, timed for the timed kills */
    char cfg[1024];
    write_config("ref", cfg, sizeof cfg);
    double t0 = now();
    int st = run_lmc(cfg, 0, NULL, 0);
    double t_ref = now() - t0;
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reference run failed (see %s.log)", cfg);
    if (lmc_test_failures) return test_summary("train/crash");
    train_config rc;
    train_config_defaults(&rc);
    snprintf(rc.run_dir, sizeof rc.run_dir, "%s/runs", dir);
    snprintf(rc.run_name, sizeof rc.run_name, "ref");
    char *ref_metrics = tiny_metrics(&rc), *ref_samples = run_file("ref", "samples.txt");
    CHECK(ref_metrics && strstr(ref_metrics, "\"step\":24,"));
    CHECK(ref_samples != NULL);
    if (!ref_metrics) return test_summary("train/crash");
    printf("reference run: %d steps in %.2f s\n", STEPS, t_ref);

    const char *env_seed = getenv("LMC_CRASH_SEED"), *env_kills = getenv("LMC_CRASH_KILLS");
    lmc_rng rng;
    lmc_rng_init(&rng, env_seed ? strtoull(env_seed, NULL, 10) : 20261201);
    int timed = env_kills ? atoi(env_kills) : 4;
    /* 12 saves (steps 2, 4, ..., 24); rotation removes one folder from the 3rd save on (10 times) */
    static const char *points[] = {"save-model", "save-optimizer", "save-done", "save-renamed", "rotate-undone",
                                   "rotate-removed", "save-renamed"};
    int npoints = (int)(sizeof points / sizeof *points), total = npoints + timed, killed = 0, survived = 0;
    for (int k = 0; k < total; k++) {
        char name[32], crash[64] = "";
        double delay = 0;
        snprintf(name, sizeof name, "k%02d", k);
        if (k == npoints - 1) snprintf(crash, sizeof crash, "save-renamed:%d", STEPS / 2); /* the last save, before the final sample */
        else if (k < npoints) snprintf(crash, sizeof crash, "%s:%u", points[k], (unsigned)(1 + lmc_rng_below(&rng, 9)));
        else delay = t_ref * (0.05 + 0.9 * (lmc_rng_below(&rng, 1000) / 1000.0));
        write_config(name, cfg, sizeof cfg);
        st = run_lmc(cfg, 0, crash[0] ? crash : NULL, delay);
        int was_killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        /* a timed kill that came after the end (this run was faster than the reference): try earlier */
        for (int retry = 0; delay > 0 && !was_killed && retry < 3; retry++) {
            char rd[1024];
            lmc_err e;
            snprintf(rd, sizeof rd, "%s/runs/%s", dir, name);
            lmc_remove_tree(rd, &e);
            delay *= 0.5;
            st = run_lmc(cfg, 0, NULL, delay);
            was_killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
        }
        if (!was_killed && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            CHECK_MSG(0, "%s: first attempt neither killed nor finished (status %d, see %s.log)", name, st, cfg);
            continue;
        }
        killed += was_killed;
        /* resume until done: a clean resume must finish in one go */
        st = was_killed ? run_lmc(cfg, 1, NULL, 0) : st;
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: resume failed (status %d, see %s.log)", name, st, cfg);
        printf("%s: %s -> %s, resumed\n", name, crash[0] ? crash : "timed kill",
               was_killed ? "killed" : "finished before the kill");
        if (delay > 0 && was_killed) printf("     (kill -9 after %.3f s of %.3f s)\n", delay, t_ref);
        int before = lmc_test_failures;
        compare_with_ref(name, ref_metrics, ref_samples);
        survived += was_killed && lmc_test_failures == before;
    }
    printf("%d of %d runs were killed; %d killed runs resumed bitwise equal to the uninterrupted run\n", killed,
           total, survived);
    CHECK_MSG(killed >= npoints, "only %d runs were killed (every aimed kill must hit)", killed);

    /* A kill inside the start's atomic config.yaml write (seen once from a timed kill 9 ms in) leaves
     * config.yaml.tmp.PID.N; the next start of the run removes it. Planted here so it is checked every run. */
    write_config("ref", cfg, sizeof cfg);
    char stale[1100];
    snprintf(stale, sizeof stale, "%s/runs/ref/config.yaml.tmp.999999.0", dir);
    FILE *sf = fopen(stale, "w");
    CHECK(sf != NULL);
    if (sf) { fputs("run: {name: half", sf); fclose(sf); }
    st = run_lmc(cfg, 1, NULL, 0);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "resume of the finished reference run failed");
    CHECK_MSG(!lmc_file_exists(stale), "a stale temporary from a killed start was left: %s", stale);
    free(ref_metrics);
    free(ref_samples);
    lmc_err err;
    if (!lmc_test_failures) lmc_remove_tree(dir, &err);
    free(tmp);
    return test_summary("train/crash");
}
