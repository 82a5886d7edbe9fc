/* TensorBoard event files: CRC32C, lmc's writer byte for byte against the committed fixture (which
 * tests/reference/verify_tensorboard.py reads back with TensorBoard's EventAccumulator), lmc's reader
 * against what EventAccumulator read of that file and of a PyTorch SummaryWriter file, a real run with
 * run.tensorboard against its metrics.jsonl, bad files, and lmc report over event folders.
 * LMC_WRITE_FIXTURES=1 rewrites fixtures/tb/lmc/ (then run the reference script). */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include "test.h"
#include "tiny_run.h"
#include "train/report.h"
#include "train/report_data.h"
#include "train/tb_events.h"
#include "train/train.h"

#define FIX_WALL 1767225600.0

typedef struct { json_t *got; int n; } collect;

/* tag -> [[step, value, wall], ...] as EventAccumulator's fixture has it */
static int on_scalar(void *ctx, double wall, int64_t step, const char *tag, double value) {
    collect *c = ctx;
    json_t *a = json_object_get(c->got, tag);
    if (!a) {
        a = json_array();
        json_object_set_new(c->got, tag, a);
    }
    json_array_append_new(a, json_pack("[Iff]", (json_int_t)step, value, wall));
    c->n++;
    return 0;
}

/* equal as EventAccumulator read it: same tags, same steps, the same doubles (float32 values) */
static void same_as(json_t *got, json_t *want, const char *what) {
    CHECK_MSG(json_object_size(got) == json_object_size(want), "%s: %zu tags vs %zu", what, json_object_size(got),
              json_object_size(want));
    const char *tag;
    json_t *w;
    json_object_foreach(want, tag, w) {
        json_t *g = json_object_get(got, tag);
        CHECK_MSG(g && json_array_size(g) == json_array_size(w), "%s: tag %s", what, tag);
        if (!g || json_array_size(g) != json_array_size(w)) continue;
        for (size_t i = 0; i < json_array_size(w); i++) {
            json_t *a = json_array_get(g, i), *b = json_array_get(w, i);
            CHECK_MSG(json_integer_value(json_array_get(a, 0)) == json_integer_value(json_array_get(b, 0)), "%s %s[%zu] step",
                      what, tag, i);
            double va = json_number_value(json_array_get(a, 1)), vb = json_number_value(json_array_get(b, 1));
            CHECK_MSG(va == vb, "%s %s[%zu]: %.17g vs %.17g", what, tag, i, va, vb);
            double wa = json_number_value(json_array_get(a, 2)), wb = json_number_value(json_array_get(b, 2));
            CHECK_MSG(wa == wb, "%s %s[%zu] wall: %.17g vs %.17g", what, tag, i, wa, wb);
        }
    }
}

static char *first_event_file(const char *dir) {
    DIR *d = opendir(dir);
    char *out = NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (tb_is_event_file(e->d_name) && !out) out = lmc_path_join(dir, e->d_name);
    if (d) closedir(d);
    return out;
}

static int count(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p++) n++;
    return n;
}

int main(void) {
    lmc_err err;
    /* CRC-32C check value (RFC 3720 / iSCSI: "123456789" -> 0xE3069283) */
    CHECK_EQ_INT((long long)tb_crc32c("123456789", 9), 0xE3069283LL);
    const char *src = getenv("LMC_SOURCE_DIR");
    if (!src) TEST_SKIP("LMC_SOURCE_DIR not set");
    char fix[4096], path[8400];
    snprintf(fix, sizeof fix, "%s/tests/train/fixtures/tb", src);
    char *dir = test_tmpdir();

    /* 1. the writer, byte for byte: fixtures/tb/metrics.jsonl at wall times FIX_WALL + step/2 */
    snprintf(path, sizeof path, "%s/metrics.jsonl", fix);
    char *metrics;
    size_t mlen;
    CHECK(lmc_read_file(path, &metrics, &mlen, &err) == 0);
    char out_dir[8400];
    snprintf(out_dir, sizeof out_dir, "%s/w", dir);
    tb_writer w;
    CHECK_MSG(tb_writer_open(&w, out_dir, FIX_WALL, &err) == 0, "%s", err.msg);
    for (char *line = metrics; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        json_t *j = json_loadb(line, n, 0, NULL);
        double step = (double)json_integer_value(json_object_get(j, "step"));
        json_decref(j);
        CHECK_MSG(tb_writer_metrics_line(&w, line, n, FIX_WALL + 0.5 * step, &err) == 0, "%s", err.msg);
        if (!nl) break;
        line = nl + 1;
    }
    CHECK(tb_writer_close(&w, &err) == 0);
    free(metrics);
    char *mine = first_event_file(out_dir), *data = NULL, *want = NULL;
    size_t len = 0, wlen = 0;
    CHECK(mine && strstr(mine, "/events.out.tfevents.1767225600."));
    CHECK(mine && lmc_read_file(mine, &data, &len, &err) == 0);
    snprintf(path, sizeof path, "%s/lmc/events.out.tfevents.1767225600.fixture", fix);
    if (getenv("LMC_WRITE_FIXTURES")) {
        CHECK(lmc_write_file_atomic(path, data, len, &err) == 0);
        printf("wrote %s\n", path);
    }
    CHECK_MSG(lmc_read_file(path, &want, &wlen, &err) == 0, "%s", err.msg);
    CHECK_MSG(len == wlen && want && data && !memcmp(data, want, len), "event file differs from %s (%zu vs %zu bytes)", path,
              len, wlen);
    free(mine);

    /* 2. lmc's reader against EventAccumulator on the same file */
    collect c = {json_object(), 0};
    CHECK_MSG(tb_events_parse((const unsigned char *)want, wlen, path, on_scalar, &c, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/lmc_expected.json", fix);
    json_t *exp = lmc_json_load_file(path, &err);
    CHECK_MSG(exp != NULL, "%s", err.msg);
    if (exp) same_as(c.got, exp, "lmc fixture");
    CHECK(json_object_get(c.got, "val/code/py") != NULL); /* nested objects flattened */
    CHECK(json_object_get(c.got, "skipped") == NULL && json_object_get(c.got, "note") == NULL);
    json_decref(exp);
    json_decref(c.got);

    /* 3. bad files: a flipped data byte is a CRC error naming the record; a cut-off tail is the end */
    if (want && wlen > 200) {
        want[150] ^= 1;
        c.got = json_object();
        CHECK(tb_events_parse((const unsigned char *)want, wlen, "x.tfevents", on_scalar, &c, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "x.tfevents: record ");
        CHECK_STR_CONTAINS(err.msg, "CRC mismatch");
        json_decref(c.got);
        want[150] ^= 1;
        c.got = json_object();
        c.n = 0;
        CHECK(tb_events_parse((const unsigned char *)want, wlen - 3, "x.tfevents", on_scalar, &c, &err) == 0);
        int cut = c.n;
        json_decref(c.got);
        c.got = json_object();
        c.n = 0;
        CHECK(tb_events_parse((const unsigned char *)want, wlen, "x.tfevents", on_scalar, &c, &err) == 0);
        CHECK(cut > 0 && cut < c.n);
        json_decref(c.got);
        const char junk[] = "not an event file at all, just text";
        CHECK(tb_events_parse((const unsigned char *)junk, sizeof junk, "j", on_scalar, &c, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, "length CRC mismatch");
    }
    free(data);
    free(want);

    /* 4. PyTorch's SummaryWriter file (scalars among a histogram and a text summary) */
    snprintf(path, sizeof path, "%s/torch", fix);
    char *tf = first_event_file(path);
    CHECK(tf != NULL);
    c.got = json_object();
    if (tf) CHECK_MSG(tb_events_read_file(tf, on_scalar, &c, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/torch_expected.json", fix);
    exp = lmc_json_load_file(path, &err);
    CHECK_MSG(exp != NULL, "%s", err.msg);
    if (exp) same_as(c.got, exp, "SummaryWriter");
    json_decref(exp);
    json_decref(c.got);
    free(tf);

    /* 5. a real run with run.tensorboard: every scalar of metrics.jsonl, as float32, at its step */
    train_config cfg;
    train_opts o;
    train_result res;
    memset(&o, 0, sizeof o);
    tiny_config(&cfg, dir, "tbrun");
    snprintf(cfg.tensorboard, sizeof cfg.tensorboard, "true");
    CHECK_MSG(train_run(&cfg, &o, &res, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/runs/tbrun/tb", dir);
    tf = first_event_file(path);
    CHECK(tf != NULL);
    c.got = json_object();
    c.n = 0;
    if (tf) CHECK_MSG(tb_events_read_file(tf, on_scalar, &c, &err) == 0, "%s", err.msg);
    free(tf);
    snprintf(path, sizeof path, "%s/runs/tbrun/metrics.jsonl", dir);
    CHECK(lmc_read_file(path, &metrics, &mlen, &err) == 0);
    int want_n = 0, bad = 0;
    for (char *line = metrics; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        json_t *j = json_loadb(line, n, 0, NULL);
        json_int_t step = json_integer_value(json_object_get(j, "step"));
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (!strcmp(k, "step") || !json_is_number(v)) continue;
            want_n++;
            json_t *a = json_object_get(c.got, k);
            int found = 0;
            for (size_t i = 0; a && i < json_array_size(a); i++) {
                json_t *e = json_array_get(a, i);
                if (json_integer_value(json_array_get(e, 0)) == step)
                    found = json_number_value(json_array_get(e, 1)) == (double)(float)json_number_value(v);
            }
            if (!found && bad++ < 5) fprintf(stderr, "step %lld %s missing or different\n", (long long)step, k);
        }
        json_decref(j);
        if (!nl) break;
        line = nl + 1;
    }
    free(metrics);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(c.n, want_n);
    CHECK(want_n >= 12 * 7);
    json_decref(c.got);

    /* 6. lmc report over a run, its tb folder and the SummaryWriter folder: the same series */
    char r1[8400], r2[8400], r3[8400], page[8400];
    snprintf(r1, sizeof r1, "%s/runs/tbrun", dir);
    snprintf(r2, sizeof r2, "%s/runs/tbrun/tb", dir);
    snprintf(r3, sizeof r3, "%s/torch", fix);
    report_run a, b;
    CHECK_MSG(report_run_load(&a, r1, &err) == 0, "%s", err.msg);
    CHECK_MSG(report_run_load(&b, r2, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT((int)a.ns, (int)b.ns); /* tokens and elapsed_s became x axes again */
    CHECK(!strcmp(b.name, "tbrun (tb)") && b.from_events);
    for (size_t i = 0; i < a.ns; i++) {
        const report_series *sa = &a.s[i], *sb = report_run_series(&b, sa->key);
        CHECK_MSG(sb && sb->n == sa->n, "series %s", sa->key);
        for (size_t k = 0; sb && k < sa->n && k < sb->n; k++) {
            CHECK(sa->step[k] == sb->step[k] && sa->tok[k] == sb->tok[k]);
            CHECK((double)(float)sa->y[k] == sb->y[k] || (isnan(sa->y[k]) && isnan(sb->y[k])));
            CHECK((double)(float)sa->wall[k] == sb->wall[k]);
        }
    }
    report_run_free(&a);
    report_run_free(&b);
    const char *runs[3] = {r1, r2, r3};
    snprintf(page, sizeof page, "%s/report.html", dir);
    CHECK_MSG(train_report_write(runs, 3, page, &err) == 0, "%s", err.msg);
    CHECK(lmc_read_file(page, &data, &len, &err) == 0);
    CHECK_STR_CONTAINS(data, "{\"name\":\"tbrun (tb)\"");
    CHECK_STR_CONTAINS(data, "{\"name\":\"torch\"");
    CHECK_EQ_INT(count(data, "\"val_loss\":{"), 3);
    CHECK_EQ_INT(count(data, " (event files)</span>"), 2);
    free(data);
    /* not a run: a folder without metrics.jsonl or event files */
    snprintf(r1, sizeof r1, "%s/runs", dir);
    const char *none[1] = {r1};
    CHECK(train_report_write(none, 1, page, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "no metrics.jsonl and no TensorBoard event file");

    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/tb_events");
}
