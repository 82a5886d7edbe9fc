/* End to end through the binary: text -> lmc tokenizer train -> encode -> lmc train with
 * vocab_size 0 (from the tokenizer) -> checkpoint with tokenizer.json -> lmc sample --prompt (same
 * seed, same text) -> lmc eval with bits per byte -> lmc report. */
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "base/base.h"
#include "train/checkpoint.h"

extern char **environ;

static char *run_cmd(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    lmc_buf b = {0};
    char chunk[4096];
    size_t n;
    lmc_err err;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) lmc_buf_append(&b, chunk, n, &err);
    lmc_buf_append(&b, "", 1, &err);
    *status = pclose(p);
    return b.data;
}

int main(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) TEST_SKIP("LMC_BIN not set");
    char *dir = test_tmpdir();
    char path[16800], cmd[40000];
    int st;
    /* ~40 KB of sentences from a small vocabulary, as JSONL documents */
    static const char *const words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to",
                                        "house", "with", "red", "door", "in", "morning", "light", "was", "warm"};
    lmc_rng r;
    lmc_rng_init(&r, 9);
    const char *names[2] = {"train", "val"};
    for (int f = 0; f < 2; f++) {
        snprintf(path, sizeof path, "%s/%s.jsonl", dir, names[f]);
        FILE *o = fopen(path, "w");
        for (int d = 0; d < (f ? 30 : 400); d++) {
            fputs("{\"text\": \"", o);
            int n = 8 + (int)lmc_rng_below(&r, 12);
            for (int w = 0; w < n; w++)
                fprintf(o, "%s%s", w ? " " : "", words[lmc_rng_below(&r, sizeof words / sizeof words[0])]);
            fputs(".\"}\n", o);
        }
        fclose(o);
    }
    snprintf(cmd, sizeof cmd,
             "cd %s && %s tokenizer train -q -o tok.json --vocab-size 300 --special '<|endoftext|>' train.jsonl && "
             "%s tokenizer encode -q -t tok.json -o train.bin train.jsonl && "
             "%s tokenizer encode -q -t tok.json -o val.bin val.jsonl 2>&1",
             dir, bin, bin, bin);
    char *out = run_cmd(cmd, &st);
    CHECK_MSG(st == 0, "data prep failed: %s", out);
    free(out);

    snprintf(path, sizeof path, "%s/run.yaml", dir);
    FILE *y = fopen(path, "w");
    fprintf(y, "run: {name: e2e, dir: %s/runs, sample_tokens: 16, peak_tflops: 1}\n"
               "data: {train: %s/train.bin, val: %s/val.bin, tokenizer: %s/tok.json}\n"
               "model: {n_layer: 2, n_head: 2, d_model: 32, seq_len: 32}\n"
               "train: {steps: 8, batch_size: 4, micro_batch: 4, warmup_steps: 1, eval_every: 4, eval_batches: 1,\n"
               "        checkpoint_every: 0, lr: 0.003}\n",
            dir, dir, dir, dir);
    fclose(y);
    snprintf(cmd, sizeof cmd, "%s train %s 2>&1", bin, path);
    out = run_cmd(cmd, &st);
    CHECK_MSG(st == 0, "lmc train failed: %s", out);
    CHECK_STR_CONTAINS(out, "vocab 300");
    free(out);
    char ck[8400];
    snprintf(ck, sizeof ck, "%s/runs/e2e/checkpoints/step_00000008", dir);
    snprintf(path, sizeof path, "%s/tokenizer.json", ck);
    CHECK(lmc_file_exists(path));
    snprintf(path, sizeof path, "%s/runs/e2e/samples.txt", dir);
    CHECK(lmc_file_exists(path));

    char *s[2];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "%s sample -q --model %s/runs/e2e --prompt 'the cat' --max-tokens 12 --seed 4 --no-stop", bin, dir);
        s[i] = run_cmd(cmd, &st);
        CHECK(st == 0);
    }
    CHECK(s[0] && s[1] && !strcmp(s[0], s[1]));
    CHECK(s[0] && !strncmp(s[0], "the cat", 7) && strlen(s[0]) > 10);
    free(s[0]);
    free(s[1]);
    /* The context (32) ends generation early: a note on stderr says so; --slide goes on to
     * --max-tokens on a window of the last 16 tokens. */
    for (int slide = 0; slide < 2; slide++) {
        snprintf(cmd, sizeof cmd, "%s sample -q --model %s/runs/e2e --prompt 'the cat' --max-tokens 60 --seed 4 --no-stop --ids%s 2>%s/note.txt",
                 bin, dir, slide ? " --slide" : "", dir);
        out = run_cmd(cmd, &st);
        CHECK(st == 0);
        int ids = 0;
        for (const char *q = out; q && *q; q++)
            if (*q >= '0' && *q <= '9' && (q == out || q[-1] == ' ')) ids++;
        size_t nl;
        snprintf(path, sizeof path, "%s/note.txt", dir);
        char *note = NULL;
        lmc_err e2;
        CHECK(lmc_read_file(path, &note, &nl, &e2) == 0);
        if (!slide) {
            CHECK_MSG(ids > 20 && ids < 32, "%d ids", ids);
            CHECK_STR_CONTAINS(note, "filled the model's context (32 tokens); --slide");
        } else {
            CHECK_EQ_INT(ids, 60);
            CHECK(note && !strstr(note, "filled the model's context"));
        }
        free(note);
        free(out);
    }

    snprintf(cmd, sizeof cmd, "%s eval -q --model %s --data %s/val.bin --seq-len 32", bin, ck, dir);
    out = run_cmd(cmd, &st);
    CHECK(st == 0);
    CHECK_STR_CONTAINS(out, "\"bpb\"");
    double loss = 0, bpb = 0;
    unsigned long long tokens = 0, bytes = 0;
    const char *l = out ? strstr(out, "\"loss\": ") : NULL, *t = out ? strstr(out, "\"tokens\": ") : NULL;
    const char *b = out ? strstr(out, "\"bytes\": ") : NULL, *p = out ? strstr(out, "\"bpb\": ") : NULL;
    if (l && t && b && p) {
        loss = strtod(l + 8, NULL);
        tokens = strtoull(t + 10, NULL, 10);
        bytes = strtoull(b + 9, NULL, 10);
        bpb = strtod(p + 7, NULL);
    }
    CHECK(tokens > 0 && bytes > tokens); /* merges: more than one byte per token on average */
    CHECK_CLOSE(bpb, loss * (double)tokens / log(2.0) / (double)bytes, 1e-6, 1e-6);
    free(out);

    snprintf(cmd, sizeof cmd, "%s report -q %s/runs/e2e", bin, dir);
    out = run_cmd(cmd, &st);
    CHECK(st == 0);
    free(out);
    snprintf(path, sizeof path, "%s/runs/e2e/report.html", dir);
    CHECK(lmc_file_exists(path));
    /* SIGINT: the run finishes its step, checkpoints and exits 0; --resume continues from there. */
    char sigcfg[16800], metrics[16800];
    snprintf(sigcfg, sizeof sigcfg, "%s/runs/sig.yaml", dir);
    y = fopen(sigcfg, "w");
    fprintf(y, "run: {name: sig, dir: %s/runs, sample_tokens: 0, peak_tflops: 1}\n"
               "data: {train: %s/train.bin, tokenizer: %s/tok.json}\n"
               "model: {n_layer: 1, n_head: 1, d_model: 16, seq_len: 16}\n"
               "train: {steps: 100000, batch_size: 2, micro_batch: 2, warmup_steps: 1, checkpoint_every: 0}\n",
            dir, dir, dir);
    fclose(y);
    snprintf(metrics, sizeof metrics, "%s/runs/sig/metrics.jsonl", dir);
    char *argv[] = {(char *)bin, "train", "-q", sigcfg, NULL};
    pid_t pid;
    CHECK_EQ_INT(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
    for (int i = 0; i < 6000; i++) { /* wait (up to 60 s) until it is training */
        struct stat sb;
        if (!stat(metrics, &sb) && sb.st_size > 0) break;
        usleep(10000);
    }
    kill(pid, SIGINT);
    int ws = 0;
    waitpid(pid, &ws, 0);
    CHECK_MSG(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "status %d", ws);
    char *latest = NULL;
    int64_t stopped = 0;
    lmc_err err;
    snprintf(path, sizeof path, "%s/runs/sig/checkpoints", dir);
    CHECK_EQ_INT(train_ckpt_latest(path, &latest, &stopped, &err), 0);
    CHECK(stopped > 0 && stopped < 100000);
    free(latest);
    snprintf(cmd, sizeof cmd, "%s train -q %s --resume --stop-at %lld 2>&1", bin, sigcfg, (long long)stopped + 3);
    out = run_cmd(cmd, &st);
    CHECK_MSG(st == 0, "%s", out);
    free(out);
    CHECK_EQ_INT(train_ckpt_latest(path, &latest, &stopped, &err), 0);
    free(latest);
    size_t mlen;
    char *m = NULL;
    CHECK_EQ_INT(lmc_read_file(metrics, &m, &mlen, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "{\"step\":%lld,", (long long)stopped);
    CHECK_STR_CONTAINS(m, want);
    free(m);

    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/e2e");
}
