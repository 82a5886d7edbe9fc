/* lmc report of a data mixture (data.sources), in headless Chromium: the per-source series are drawn
 * in one chart per quantity (mix/weight, mix/tokens, mix/epoch, loss/source), one line per source
 * (train and val in loss/source), and the hover readout names the source; with two runs the colour is
 * the run's, the dash pattern the source's, and the losses go to loss/source (train) / (val).
 * Skipped (77) without chromium. */
#include <jansson.h>
#include "test.h"
#include "tiny_run.h"
#include "train/report.h"
#include "train/train.h"

static const char *const probe =
    "<script>(function(){var r={};"
    "function chart(k){return document.querySelector('.chart[data-key=\"'+k+'\"]');}"
    "function legend(k){var c=chart(k);return c?Array.prototype.map.call(c.querySelectorAll('.legend .le'),"
    "function(e){return e.textContent.trim();}):null;}"
    "function colors(k){var c=chart(k);return c?Array.prototype.map.call(c.querySelectorAll('path.raw'),"
    "function(p){return p.getAttribute('stroke');}):null;}"
    "r.charts=Array.prototype.map.call(document.querySelectorAll('#charts .chart'),function(c){return c.getAttribute('data-key');});"
    "r.weight=legend('mix/weight');r.tokens=legend('mix/tokens');r.loss=legend('loss/source');"
    "r.wcolors=colors('mix/weight');r.lcolors=colors('loss/source');"
    "r.wdash=Array.prototype.map.call(chart('mix/weight').querySelectorAll('path.raw'),function(p){return p.getAttribute('stroke-dasharray');});"
    "var s=chart('mix/weight').querySelector('svg'),b=s.getBoundingClientRect();"
    "s.dispatchEvent(new MouseEvent('mousemove',{clientX:b.left+64+200,clientY:b.top+60,bubbles:true}));"
    "r.hover=chart('mix/weight').querySelector('.readout').textContent;"
    "var o=document.createElement('pre');o.id='probe';o.textContent=JSON.stringify(r);document.body.appendChild(o);"
    "})();</script>";

static int has(json_t *a, const char *s) {
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!strcmp(json_string_value(json_array_get(a, i)), s)) return 1;
    return 0;
}

/* The report of runs[0..n) rendered with the probe; the probe's JSON (NULL on failure). */
static json_t *render(const char *dir, const char *const *runs, int n) {
    lmc_err err;
    char page[8400], cmd[40000];
    snprintf(page, sizeof page, "%s/report.html", dir);
    if (train_report_write(runs, (size_t)n, page, &err)) { fprintf(stderr, "%s\n", err.msg); return NULL; }
    char *html;
    size_t len;
    if (lmc_read_file(page, &html, &len, &err)) return NULL;
    char *end = strstr(html, "</body>");
    if (!end) { free(html); return NULL; }
    snprintf(page, sizeof page, "%s/probe.html", dir);
    FILE *f = fopen(page, "w");
    fwrite(html, 1, (size_t)(end - html), f);
    fputs(probe, f);
    fputs(end, f);
    fclose(f);
    free(html);
    snprintf(cmd, sizeof cmd,
             "cd %s && HOME=%s timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=%s/prof "
             "--window-size=1400,2000 --dump-dom file://%s 2>/dev/null",
             dir, dir, dir, page);
    FILE *p = popen(cmd, "r");
    lmc_buf dom = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0) lmc_buf_append(&dom, chunk, got, &err);
    lmc_buf_append(&dom, "", 1, &err);
    int st = pclose(p);
    const char *pre = dom.data ? strstr(dom.data, "<pre id=\"probe\">") : NULL;
    json_t *r = NULL;
    if (st == 0 && pre) {
        pre += strlen("<pre id=\"probe\">");
        const char *stop = strstr(pre, "</pre>");
        lmc_buf js = {0};
        for (const char *q = pre; stop && q < stop; q++) { /* the text node is HTML-escaped */
            if (!strncmp(q, "&amp;", 5)) { lmc_buf_append(&js, "&", 1, &err); q += 4; }
            else if (!strncmp(q, "&lt;", 4)) { lmc_buf_append(&js, "<", 1, &err); q += 3; }
            else if (!strncmp(q, "&gt;", 4)) { lmc_buf_append(&js, ">", 1, &err); q += 3; }
            else if (!strncmp(q, "&quot;", 6)) { lmc_buf_append(&js, "\"", 1, &err); q += 5; }
            else lmc_buf_append(&js, q, 1, &err);
        }
        json_error_t je;
        r = json_loadb(js.data ? js.data : "", js.len, 0, &je);
        if (r) {
            char *dump = json_dumps(r, JSON_INDENT(1));
            printf("probe (%d runs): %s\n", n, dump);
            free(dump);
        }
        lmc_buf_free(&js);
    }
    lmc_buf_free(&dom);
    return r;
}

int main(void) {
    if (system("command -v chromium >/dev/null 2>&1")) TEST_SKIP("no chromium (apt-get install chromium; scripts/deps.sh does)");
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config a;
    train_opts o;
    memset(&o, 0, sizeof o);
    tiny_config(&a, dir, "one");
    a.sample_tokens = 0;
    memset(a.data_train, 0, sizeof a.data_train);
    memset(a.data_val, 0, sizeof a.data_val);
    a.n_sources = 2;
    static const char *const names[] = {"wiki", "code"};
    for (int i = 0; i < 2; i++) {
        struct train_source *s = &a.sources[i];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", names[i]);
        snprintf(s->train, sizeof s->train, "%.900s/%s_train.bin", dir, names[i]);
        snprintf(s->val, sizeof s->val, "%.900s/%s_val.bin", dir, names[i]);
        tiny_shard(s->train, 400, 30 + (uint64_t)i);
        tiny_shard(s->val, 100, 40 + (uint64_t)i);
        s->weight = i ? 1 : 3;
    }
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    snprintf(a.run_name, sizeof a.run_name, "two");
    a.lr = 1e-3;
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    char r1[8400], r2[8400];
    snprintf(r1, sizeof r1, "%s/runs/one", dir);
    snprintf(r2, sizeof r2, "%s/runs/two", dir);
    const char *runs[2] = {r1, r2};
    json_t *r = render(dir, runs, 1);
    CHECK(r != NULL);
    if (r) {
        json_t *c = json_object_get(r, "charts");
        CHECK(has(c, "mix/weight") && has(c, "mix/tokens") && has(c, "mix/epoch") && has(c, "loss/source"));
        CHECK(!has(c, "mix/wiki/weight") && !has(c, "wiki/loss") && !has(c, "train/wiki/loss"));
        json_t *w = json_object_get(r, "weight"), *l = json_object_get(r, "loss");
        CHECK_EQ_INT((int)json_array_size(w), 2);
        CHECK(has(w, "one wiki train") && has(w, "one code train"));
        CHECK_EQ_INT((int)json_array_size(l), 4);
        CHECK(has(l, "one wiki train") && has(l, "one wiki val (val/wiki/loss)") && has(l, "one code val (val/code/loss)"));
        json_t *wc = json_object_get(r, "wcolors"), *lc = json_object_get(r, "lcolors");
        CHECK(json_array_size(wc) == 2 &&
              strcmp(json_string_value(json_array_get(wc, 0)), json_string_value(json_array_get(wc, 1))));
        /* loss/source: wiki train, wiki val share wiki's colour */
        CHECK(json_array_size(lc) == 4 &&
              !strcmp(json_string_value(json_array_get(lc, 0)), json_string_value(json_array_get(lc, 1))));
        const char *h = json_string_value(json_object_get(r, "hover"));
        CHECK(h && strstr(h, "one wiki train: step") && strstr(h, "value 0.75"));
        json_decref(r);
    }
    /* two runs: colour = run, dash = source; the per-source losses split into train and val charts */
    r = render(dir, runs, 2);
    CHECK(r != NULL);
    if (r) {
        json_t *c = json_object_get(r, "charts");
        CHECK(has(c, "loss/source (train)") && has(c, "loss/source (val)") && !has(c, "loss/source"));
        json_t *wc = json_object_get(r, "wcolors"), *wd = json_object_get(r, "wdash");
        CHECK_EQ_INT((int)json_array_size(wc), 4); /* one wiki, one code, two wiki, two code */
        CHECK(json_array_size(wc) == 4 && json_array_size(wd) == 4 &&
              !strcmp(json_string_value(json_array_get(wc, 0)), json_string_value(json_array_get(wc, 1))) &&
              strcmp(json_string_value(json_array_get(wc, 0)), json_string_value(json_array_get(wc, 2))) &&
              strcmp(json_string_value(json_array_get(wd, 0)), json_string_value(json_array_get(wd, 1))) &&
              !strcmp(json_string_value(json_array_get(wd, 0)), json_string_value(json_array_get(wd, 2))));
        json_decref(r);
    }
    lmc_err e2;
    lmc_remove_tree(dir, &e2);
    free(dir);
    return test_summary("test_report_mix");
}
