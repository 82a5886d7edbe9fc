/* Provenance and licences: licence and source values are counted in and out, --licence-allow keeps only
 * the listed licences (case-insensitive; missing = removed), removed documents carry the reason in the
 * rejected file, the surviving lines are byte-for-byte the input lines (every field carried), and the
 * same holds through dedup's two passes and from a YAML pipeline. */
#include "test.h"
#include "data/data.h"

static char *tmp;

static void write_corpus(const char *path) {
    FILE *f = fopen(path, "w");
    const char *lic[] = {"CC-BY", "cc0", "proprietary", NULL, "CC-BY", "PD"};
    for (int i = 0; i < 18; i++) {
        const char *l = lic[i % 6];
        fprintf(f, "{\"id\": %d, \"text\": \"", i);
        for (int w = 0; w < 12; w++) {  /* distinct words: no two documents are near duplicates */
            int x = i * 12 + w;
            fprintf(f, "%s%c%c%c", w ? " " : "", 'a' + x % 26, 'a' + (x / 26) % 26, 'a' + (x * 7) % 26);
        }
        fprintf(f, "\"");
        if (l) fprintf(f, ", \"license\": \"%s\"", l);
        fprintf(f, ", \"source\": \"%s\"}\n", i % 2 ? "books" : "web");
    }
    fclose(f);
}

static long long get(json_t *o, const char *k) { return (long long)json_integer_value(json_object_get(o, k)); }

static void check_report(json_t *rep) {
    json_t *pv = json_object_get(rep, "provenance");
    CHECK(pv != NULL);
    json_t *in = json_object_get(pv, "licences_in"), *out = json_object_get(pv, "licences_out");
    CHECK_EQ_INT(get(in, "CC-BY"), 6);
    CHECK_EQ_INT(get(in, "cc0"), 3);
    CHECK_EQ_INT(get(in, "proprietary"), 3);
    CHECK_EQ_INT(get(in, "(missing)"), 3);
    CHECK_EQ_INT(get(in, "PD"), 3);
    CHECK_EQ_INT(get(out, "CC-BY"), 6);
    CHECK_EQ_INT(get(out, "cc0"), 3);
    CHECK(json_object_get(out, "proprietary") == NULL && json_object_get(out, "PD") == NULL);
    json_t *rm = json_object_get(pv, "removed_by_rule");
    CHECK_EQ_INT(get(rm, "licence/missing"), 3);
    CHECK_EQ_INT(get(rm, "licence/not_allowed"), 6);
    CHECK_EQ_INT(get(json_object_get(pv, "sources_in"), "web"), 9);
    CHECK_EQ_INT(get(json_object_get(pv, "sources_out"), "web") + get(json_object_get(pv, "sources_out"), "books"), 9);
    CHECK_EQ_INT(get(rep, "documents_out"), 9);
}

/* every output line is an input line with an allowed licence, in order */
static void check_output(const char *in_path, const char *out_path) {
    char *in, *out;
    size_t il, ol;
    lmc_err err = {0};
    CHECK_EQ_INT(lmc_read_file(in_path, &in, &il, &err), 0);
    CHECK_EQ_INT(lmc_read_file(out_path, &out, &ol, &err), 0);
    int n = 0;
    const char *p = out, *q = in;
    while (p < out + ol) {
        const char *pe = strchr(p, '\n');
        int found = 0;
        while (q < in + il) {
            const char *qe = strchr(q, '\n');
            if (qe - q == pe - p && !memcmp(p, q, (size_t)(pe - p))) found = 1;
            q = qe + 1;
            if (found) break;
        }
        CHECK(found);
        CHECK(memmem(p, (size_t)(pe - p), "\"license\": \"CC-BY\"", 18) || memmem(p, (size_t)(pe - p), "\"license\": \"cc0\"", 16));
        n++;
        p = pe + 1;
    }
    CHECK_EQ_INT(n, 9);
    free(in);
    free(out);
}

static void test_lib(void) {
    char path[4096], out[4096], rej[4096];
    snprintf(path, sizeof path, "%s/corpus.jsonl", tmp);
    write_corpus(path);
    const char *allow[] = {"CC-BY,CC0"};
    for (int dedup = 0; dedup <= 1; dedup++) {
        data_pipeline_cfg c;
        data_pipeline_cfg_default(&c);
        const char *in[] = {path};
        c.inputs = in;
        c.ninputs = 1;
        snprintf(out, sizeof out, "%s/out%d.jsonl", tmp, dedup);
        snprintf(rej, sizeof rej, "%s/rej%d.jsonl", tmp, dedup);
        c.output = out;
        c.rejected = rej;
        c.licence_allow = allow;
        c.nlicence_allow = 1;
        c.threads = 2;
        if (dedup) {
            c.dedup = 1;
        } else {
            c.nstages = 1;
            c.stages[0].kind = DATA_STAGE_STATS;  /* a stage that keeps everything */
        }
        json_t *rep = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
        check_report(rep);
        json_decref(rep);
        check_output(path, out);
        char *r;
        size_t rl;
        CHECK_EQ_INT(lmc_read_file(rej, &r, &rl, &err), 0);
        CHECK(memmem(r, rl, "\"lmc_reason\":\"licence/not_allowed\"", 34) || memmem(r, rl, "\"lmc_reason\": \"licence/not_allowed\"", 35));
        free(r);
    }
    /* counting only: nothing removed */
    data_pipeline_cfg c;
    data_pipeline_cfg_default(&c);
    const char *in[] = {path};
    c.inputs = in;
    c.ninputs = 1;
    c.provenance = 1;
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_STATS;
    json_t *rep = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    CHECK_EQ_INT(get(json_object_get(json_object_get(rep, "provenance"), "licences_in"), "proprietary"), 3);
    json_decref(rep);
    /* YAML */
    char yp[4096];
    snprintf(yp, sizeof yp, "%s/p.yaml", tmp);
    FILE *f = fopen(yp, "w");
    fprintf(f, "inputs: [%s]\noutput: %s/y.jsonl\nlicence_allow: [CC-BY, cc0]\nsource_field: source\n"
               "stages:\n  - dedup: {threshold: 0.9, verify: both}\n", path, tmp);
    fclose(f);
    json_t *holder = NULL;
    CHECK_EQ_INT(data_pipeline_load(yp, &c, &holder, &err), 0);
    CHECK_EQ_INT(c.nlicence_allow, 2);
    CHECK(fabs(c.dedup_threshold - 0.9) < 1e-12 && c.dedup_verify == DATA_VERIFY_BOTH);
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    check_report(rep);
    json_decref(rep);
    data_pipeline_cfg_release(&c);
    json_decref(holder);
}

int main(void) {
    tmp = test_tmpdir();
    test_lib();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_provenance");
}
