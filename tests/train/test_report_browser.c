/* lmc report in a real browser: two tiny runs overlaid, rendered by headless Chromium with a test
 * script appended to the page; the script drives the page (a synthetic mouse move over the loss
 * chart, the smoothing slider, log y, the wall-clock axis) and writes what it saw into the DOM, which
 * `chromium --headless --dump-dom` prints. Skipped (77) when no chromium is installed
 * (scripts/deps.sh installs Debian's). */
#include <jansson.h>
#include "test.h"
#include "tiny_run.h"
#include "train/report.h"
#include "train/train.h"

static const char *const probe =
    "<script>(function(){var r={};"
    "function charts(){return document.querySelectorAll('#charts .chart');}"
    "function chart(k){return document.querySelector('.chart[data-key=\"'+k+'\"]');}"
    "function ticks(k){return Array.prototype.map.call(chart(k).querySelectorAll('svg text'),function(t){return t.textContent;}).join('|');}"
    /* every drawn point inside the plot frame (x 64..456, y 10..234) */
    "function outside(){var n=0;Array.prototype.forEach.call(document.querySelectorAll('#charts path'),function(p){"
    "var v=(p.getAttribute('d')||'').replace(/[ML]/g,' ').trim().split(/\\s+/).map(Number);"
    "for(var i=0;i+1<v.length;i+=2)if(v[i]<63.5||v[i]>456.5||v[i+1]<9.5||v[i+1]>234.5)n++;});return n;}"
    "function hover(k,dx){var s=chart(k).querySelector('svg'),b=s.getBoundingClientRect();"
    "s.dispatchEvent(new MouseEvent('mousemove',{clientX:b.left+64+dx,clientY:b.top+60,bubbles:true}));"
    "return chart(k).querySelector('.readout').textContent;}"
    "r.charts=Array.prototype.map.call(charts(),function(c){return c.getAttribute('data-key');});"
    "r.legend=Array.prototype.map.call(chart('loss').querySelectorAll('.legend .le'),function(e){return e.textContent.trim();});"
    "r.outside=outside();"
    "r.smoothed=chart('loss').querySelectorAll('path.smoothed').length;"
    "r.hover_first=hover('loss',0);r.hover_last=hover('loss',392);"
    "var sl=document.getElementById('smooth');sl.value='0';sl.dispatchEvent(new Event('input'));"
    "r.smoothed_off=chart('loss').querySelectorAll('path.smoothed').length;"
    "r.lin_ticks=ticks('loss');var lg=document.getElementById('logy');lg.checked=true;lg.dispatchEvent(new Event('change'));"
    "r.log_ticks=ticks('loss');r.log_outside=outside();r.log_notes=document.querySelectorAll('#charts .note').length;"
    "var w=document.querySelector('input[name=xaxis][value=wall]');w.checked=true;w.dispatchEvent(new Event('change'));"
    "r.wall_ticks=ticks('loss');r.hover_wall=hover('loss',200);r.wall_outside=outside();"
    "var o=document.createElement('pre');o.id='probe';o.textContent=JSON.stringify(r);document.body.appendChild(o);"
    "})();</script>";

static char *find_chromium(void) {
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", names[i]);
        if (system(cmd) == 0) return strdup(names[i]);
    }
    return NULL;
}

static int count(const char *s, const char *sub) {
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p++) n++;
    return n;
}

int main(void) {
    char *chromium = find_chromium();
    if (!chromium) TEST_SKIP("no chromium (apt-get install chromium; scripts/deps.sh does)");
    char *dir = test_tmpdir();
    lmc_err err;
    train_result res;
    train_config a, b;
    train_opts o;
    memset(&o, 0, sizeof o);
    tiny_config(&a, dir, "one");
    a.sample_tokens = 0;
    CHECK_MSG(train_run(&a, &o, &res, &err) == 0, "%s", err.msg);
    tiny_config(&b, dir, "two");
    b.sample_tokens = 0;
    b.lr = 1e-3;
    CHECK_MSG(train_run(&b, &o, &res, &err) == 0, "%s", err.msg);
    char r1[8400], r2[8400], page[8400], cmd[40000];
    snprintf(r1, sizeof r1, "%s/runs/one", dir);
    snprintf(r2, sizeof r2, "%s/runs/two", dir);
    snprintf(page, sizeof page, "%s/report.html", dir);
    const char *runs[2] = {r1, r2};
    CHECK_MSG(train_report_write(runs, 2, page, &err) == 0, "%s", err.msg);

    /* the page plus the probe script, just before </body> */
    char *html;
    size_t len;
    CHECK(lmc_read_file(page, &html, &len, &err) == 0);
    char *end = strstr(html, "</body>");
    CHECK(end != NULL);
    snprintf(page, sizeof page, "%s/probe.html", dir);
    FILE *f = fopen(page, "w");
    fwrite(html, 1, (size_t)(end - html), f);
    fputs(probe, f);
    fputs(end, f);
    fclose(f);
    free(html);

    snprintf(cmd, sizeof cmd,
             "cd %s && HOME=%s timeout 120 %s --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=%s/prof "
             "--window-size=1400,2000 --dump-dom file://%s 2>/dev/null",
             dir, dir, chromium, dir, page);
    FILE *p = popen(cmd, "r");
    lmc_buf dom = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) lmc_buf_append(&dom, chunk, n, &err);
    lmc_buf_append(&dom, "", 1, &err);
    int st = pclose(p);
    CHECK_MSG(st == 0, "chromium exited with status %d", st);
    const char *pre = dom.data ? strstr(dom.data, "<pre id=\"probe\">") : NULL;
    CHECK_MSG(pre != NULL, "no probe result in the DOM (%zu bytes)", dom.len);
    if (pre) {
        pre += strlen("<pre id=\"probe\">");
        const char *stop = strstr(pre, "</pre>");
        /* the text node is HTML-escaped: undo &amp; &lt; &gt; &quot; */
        lmc_buf js = {0};
        for (const char *q = pre; stop && q < stop; q++) {
            if (!strncmp(q, "&amp;", 5)) { lmc_buf_append(&js, "&", 1, &err); q += 4; }
            else if (!strncmp(q, "&lt;", 4)) { lmc_buf_append(&js, "<", 1, &err); q += 3; }
            else if (!strncmp(q, "&gt;", 4)) { lmc_buf_append(&js, ">", 1, &err); q += 3; }
            else if (!strncmp(q, "&quot;", 6)) { lmc_buf_append(&js, "\"", 1, &err); q += 5; }
            else lmc_buf_append(&js, q, 1, &err);
        }
        json_error_t je;
        json_t *r = json_loadb(js.data, js.len, 0, &je);
        CHECK_MSG(r != NULL, "probe JSON: %s", je.text);
        if (r) {
            char *dump = json_dumps(r, JSON_INDENT(1));
            printf("probe: %s\n", dump);
            free(dump);
            /* one chart per metric key, loss first, val_loss drawn inside loss */
            json_t *c = json_object_get(r, "charts");
            CHECK_EQ_INT((int)json_array_size(c), 5);
            static const char *const want[] = {"loss", "lr", "grad_norm", "tokens_per_s", "mfu"};
            for (size_t i = 0; i < 5 && i < json_array_size(c); i++)
                CHECK_MSG(!strcmp(json_string_value(json_array_get(c, i)), want[i]), "chart %zu", i);
            /* legend: 2 runs x (train, val) */
            json_t *lg = json_object_get(r, "legend");
            CHECK_EQ_INT((int)json_array_size(lg), 4);
            CHECK(!strcmp(json_string_value(json_array_get(lg, 0)), "one train"));
            CHECK(!strcmp(json_string_value(json_array_get(lg, 1)), "one val (val_loss)"));
            CHECK(!strcmp(json_string_value(json_array_get(lg, 3)), "two val (val_loss)"));
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "outside")), 0);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "log_outside")), 0);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "wall_outside")), 0);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "smoothed")), 4);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "smoothed_off")), 0);
            CHECK_EQ_INT((int)json_integer_value(json_object_get(r, "log_notes")), 0);
            /* hover at the left edge: step 1 for train, the first eval (step 4) for val; right edge: step 12 */
            const char *h0 = json_string_value(json_object_get(r, "hover_first"));
            const char *h1 = json_string_value(json_object_get(r, "hover_last"));
            const char *hw = json_string_value(json_object_get(r, "hover_wall"));
            CHECK(h0 && h1 && hw);
            if (h0 && h1 && hw) {
                CHECK_STR_CONTAINS(h0, "one train: step 1  value ");
                CHECK_STR_CONTAINS(h0, "two val: step 4  value ");
                CHECK_STR_CONTAINS(h0, "smoothed ");
                CHECK_EQ_INT(count(h0, "\n"), 3); /* 4 lines */
                CHECK_STR_CONTAINS(h1, "one train: step 12  value ");
                CHECK_STR_CONTAINS(h1, "two val: step 12  value ");
                CHECK_STR_CONTAINS(hw, ", wall clock ");
            }
            const char *lt = json_string_value(json_object_get(r, "lin_ticks"));
            const char *gt = json_string_value(json_object_get(r, "log_ticks"));
            const char *wt = json_string_value(json_object_get(r, "wall_ticks"));
            CHECK(lt && gt && wt && strcmp(lt, gt) != 0);
            if (lt) CHECK_STR_CONTAINS(lt, "|step");
            if (wt) CHECK_STR_CONTAINS(wt, "|wall clock");
            json_decref(r);
        }
        lmc_buf_free(&js);
    }
    lmc_buf_free(&dom);
    free(chromium);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("train/report_browser");
}
