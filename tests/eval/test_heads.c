/* lmc_eval_heads (AHON / AHON_LN, TECHNIQUES.md 12d) on constructed cases with known answers, on the
 * tiny GPT-2 and Llama fixtures:
 *   - a head whose value weights (and bias) are zeroed by hand has output 0, so AHON 0: reported inactive,
 *     and it is the only one (GPT-2: layer 1 head 2; Llama with 2 kv heads: zeroing kv head 1 of layer 0
 *     silences query heads 2 and 3, the heads that read it);
 *   - doubling a head's value weights and bias doubles its AHON exactly (per-head column mapping). */
#include "test.h"
#include "eval/eval.h"

static json_t *heads(lmc_eval_lm *lm, json_t **ex) {
    char file[4096];
    snprintf(file, sizeof file, "%s/tests/eval/fixtures/wikitext.txt", test_source_dir());
    const char *files[] = {file};
    lmc_eval_opts o = {files, 1, 16, NULL, 0.3};
    json_t *s = NULL;
    lmc_err err = {0};
    int rc = lmc_eval_heads(lm, &o, &s, ex, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    return s;
}

static double ahon(json_t *ex, int H, int l, int h) {
    return json_real_value(json_object_get(json_array_get(ex, (size_t)(l * H + h)), "ahon"));
}

/* Multiply the value columns (and bias) of kv head k in layer l by f. */
static void scale_v(gpt2_model *m, int l, int k, float f) {
    const gpt2_config *c = &m->cfg;
    int hd = c->d_model / c->n_head, Q = (c->n_head + 2 * c->n_kv_head) * hd;
    gpt2_layer p = gpt2_layer_ptrs(m, m->params, l);
    int v0 = (c->n_head + c->n_kv_head) * hd + k * hd;
    for (int i = 0; i < c->d_model; i++)
        for (int j = v0; j < v0 + hd; j++) p.qkv_w[(size_t)i * (size_t)Q + (size_t)j] *= f;
    if (p.qkv_b)
        for (int j = v0; j < v0 + hd; j++) p.qkv_b[j] *= f;
}

static void check(const char *arch, int l, int kv, const int *want, int n_want) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/eval/fixtures/%s", test_source_dir(), arch);
    lmc_eval_lm lm;
    lmc_err err = {0};
    if (lmc_eval_lm_open(&lm, dir, 0, -1, 0, &err)) { CHECK_MSG(0, "%s", err.msg); return; }
    int H = lm.m->cfg.n_head, G = H / lm.m->cfg.n_kv_head;
    json_t *ex0 = NULL, *s0 = heads(&lm, &ex0);
    CHECK_EQ_INT(json_integer_value(json_object_get(s0, "n_inactive")), 0);
    /* doubling */
    scale_v(lm.m, l, kv, 2.0f);
    json_t *ex1 = NULL, *s1 = heads(&lm, &ex1);
    for (int h = 0; h < H; h++) {
        double a0 = ahon(ex0, H, l, h), a1 = ahon(ex1, H, l, h);
        int in_group = h / G == kv;
        CHECK_CLOSE(a1, in_group ? 2 * a0 : a0, 0, 1e-5);
    }
    /* zeroing */
    scale_v(lm.m, l, kv, 0.0f);
    json_t *ex2 = NULL, *s2 = heads(&lm, &ex2);
    json_t *inactive = json_object_get(s2, "inactive");
    CHECK_EQ_INT(json_array_size(inactive), n_want);
    for (int i = 0; i < n_want && i < (int)json_array_size(inactive); i++) {
        json_t *p = json_array_get(inactive, (size_t)i);
        CHECK_EQ_INT(json_integer_value(json_array_get(p, 0)), l);
        CHECK_EQ_INT(json_integer_value(json_array_get(p, 1)), want[i]);
        CHECK(ahon(ex2, H, l, want[i]) == 0.0);
    }
    printf("%s: zeroing kv head %d of layer %d -> %zu inactive head(s), AHON_LN of the others >= %.3f\n", arch, kv, l,
           json_array_size(inactive), 0.3);
    json_decref(s0); json_decref(s1); json_decref(s2);
    json_decref(ex0); json_decref(ex1); json_decref(ex2);
    lmc_eval_lm_close(&lm);
}

int main(void) {
    int g[] = {2}, l[] = {2, 3};
    check("gpt2", 1, 2, g, 1);
    check("llama", 0, 1, l, 2);
    printf("%d checks, %d failures\n", lmc_test_checks, lmc_test_failures);
    return lmc_test_failures != 0;
}
