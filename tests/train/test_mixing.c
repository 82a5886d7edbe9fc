/* Domain-weight rules (src/train/mixing.c) against float64 numpy/sklearn (fixture written by
 * tests/reference/make_mixing_fixtures.py), plus the property tests of TECHNIQUES.md §11.
 * Tolerance 1e-10 relative (+1e-14 absolute): both sides are float64; DoReMi and Velocitune are the
 * same few operations, Chameleon reaches S by a Cholesky solve here and by an explicit inverse in numpy,
 * which on these well-conditioned k <= 7 systems agree to ~1e-14. */
#include <stdio.h>

#include "base/base.h"
#include "train/mixing.h"
#include "test.h"

#define RTOL 1e-10
#define ATOL 1e-14

static void vec(const json_t *a, double *x, int n) {
    for (int j = 0; j < n; j++) x[j] = json_number_value(json_array_get(a, (size_t)j));
}

static void check_vec(const char *what, const double *got, const json_t *want, int n) {
    for (int j = 0; j < n; j++) {
        double w = json_number_value(json_array_get(want, (size_t)j));
        CHECK_MSG(fabs(got[j] - w) <= ATOL + RTOL * fabs(w), "%s[%d]: %.17g vs %.17g", what, j, got[j], w);
    }
}

static double sum(const double *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s;
}

static void fixtures(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/train/fixtures/mixing.json", test_source_dir());
    lmc_err err = {0};
    json_t *root = lmc_json_load_file(path, &err);
    CHECK_MSG(root != NULL, "%s", err.msg);
    if (!root) return;
    json_t *cases = json_object_get(root, "cases");
    double w[16], a[16], b[16], c[16], avg[16], v[16], emb[256];
    json_t *cs;
    size_t i;
    json_array_foreach(json_object_get(cases, "doremi"), i, cs) {
        int k = (int)json_integer_value(json_object_get(cs, "k"));
        vec(json_object_get(cs, "w0"), w, k);
        memset(avg, 0, sizeof avg);
        json_t *ex;
        size_t t;
        json_array_foreach(json_object_get(cs, "excess"), t, ex) {
            vec(ex, a, k);
            mix_doremi_update(w, a, k, json_number_value(json_object_get(cs, "eta")),
                              json_number_value(json_object_get(cs, "smoothing")), avg);
        }
        check_vec("doremi w", w, json_object_get(cs, "w"), k);
        check_vec("doremi avg", avg, json_object_get(cs, "avg"), k);
        CHECK_CLOSE(sum(w, k), 1.0, 1e-14, 0);
    }
    json_array_foreach(json_object_get(cases, "velocitune"), i, cs) {
        int k = (int)json_integer_value(json_object_get(cs, "k"));
        vec(json_object_get(cs, "w0"), w, k);
        vec(json_object_get(cs, "now"), a, k);
        vec(json_object_get(cs, "init"), b, k);
        vec(json_object_get(cs, "target"), c, k);
        mix_velocitune_update(w, a, b, c, k, v);
        check_vec("velocitune w", w, json_object_get(cs, "w"), k);
        check_vec("velocitune V", v, json_object_get(cs, "v"), k);
    }
    int nch = 0;
    json_array_foreach(json_object_get(cases, "chameleon"), i, cs) {
        int k = (int)json_integer_value(json_object_get(cs, "k"));
        int d = (int)json_integer_value(json_object_get(cs, "d"));
        vec(json_object_get(cs, "emb"), emb, k * d);
        int rc = mix_chameleon_weights(w, emb, k, d, json_number_value(json_object_get(cs, "lambda")),
                                       json_number_value(json_object_get(cs, "tau")),
                                       (int)json_integer_value(json_object_get(cs, "finetune")), v, &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        check_vec("chameleon S", v, json_object_get(cs, "s"), k);
        check_vec("chameleon w", w, json_object_get(cs, "w"), k);
        nch++;
    }
    CHECK(nch >= 4);
    json_decref(root);
}

static void properties(void) {
    /* DoReMi, zero excess: only the smoothing moves the weights, toward uniform by c */
    double w[4] = {0.7, 0.2, 0.1, 0}, z[4] = {0, 0, 0, 0};
    mix_doremi_update(w, z, 3, 1.0, 1e-3, NULL);
    CHECK_CLOSE(w[0], 0.999 * 0.7 + 1e-3 / 3, 1e-15, 0);
    CHECK_CLOSE(w[2], 0.999 * 0.1 + 1e-3 / 3, 1e-15, 0);
    /* with c = 0 nothing moves (beyond the renormalisation's rounding) */
    double w2[3] = {0.7, 0.2, 0.1};
    mix_doremi_update(w2, z, 3, 1.0, 0, NULL);
    CHECK_CLOSE(w2[0], 0.7, 1e-15, 0);
    CHECK_CLOSE(w2[1], 0.2, 1e-15, 0);
    CHECK_CLOSE(w2[2], 0.1, 1e-15, 0);
    /* the domain with the larger excess gains weight */
    double w3[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, e3[3] = {0.1, 0.5, 0.0};
    mix_doremi_update(w3, e3, 3, 1.0, 1e-3, NULL);
    CHECK(w3[1] > w3[0] && w3[0] > w3[2]);

    /* Velocitune: all V equal (here all 0.5) leaves the weights unchanged */
    double vw[3] = {0.5, 0.3, 0.2}, now[3] = {3.5, 4.0, 2.5}, init[3] = {4.0, 5.0, 3.0}, tgt[3] = {3.0, 3.0, 2.0};
    double vel[3];
    mix_velocitune_update(vw, now, init, tgt, 3, vel);
    CHECK_CLOSE(vel[0], 0.5, 1e-15, 0);
    CHECK_CLOSE(vel[1], 0.5, 1e-15, 0);
    CHECK_CLOSE(vw[0], 0.5, 1e-15, 0);
    CHECK_CLOSE(vw[1], 0.3, 1e-15, 0);
    CHECK_CLOSE(vw[2], 0.2, 1e-15, 0);
    /* the slower domain (larger V) gains weight; init <= target gives V = 0 */
    double uw[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, now2[3] = {3.9, 3.2, 2.5}, init2[3] = {4.0, 5.0, 2.0};
    mix_velocitune_update(uw, now2, init2, tgt, 3, vel);
    CHECK(vel[2] == 0);
    CHECK(uw[0] > 1.0 / 3 && uw[0] > uw[1] && uw[1] > uw[2]);

    /* Chameleon: identical embeddings give uniform S and uniform weights in both modes */
    lmc_err err = {0};
    double emb[4 * 5], s[4], cw[4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) emb[i * 5 + j] = 0.1 * (j + 1) - 0.37;
    for (int ft = 0; ft <= 1; ft++) {
        CHECK_EQ_INT(mix_chameleon_weights(cw, emb, 4, 5, 10.0, ft ? 0.2 : 5.0, ft, s, &err), 0);
        for (int i = 0; i < 4; i++) {
            CHECK_CLOSE(s[i], 0.25, 1e-15, 0);
            CHECK_CLOSE(cw[i], 0.25, 1e-15, 0);
        }
    }
    /* one domain orthogonal to three near-identical ones gets the highest S: lowest pretraining weight,
     * highest finetuning weight */
    double e2[4 * 3] = {1, 0, 0, 1, 0.01, 0, 1, 0, 0.01, 0, 5, 0};
    CHECK_EQ_INT(mix_chameleon_weights(cw, e2, 4, 3, 1.0, 5.0, 0, s, &err), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(s[3] > s[i]);
        CHECK(cw[3] < cw[i]);
    }
    CHECK_CLOSE(sum(s, 4), 1.0, 1e-14, 0);
    CHECK_EQ_INT(mix_chameleon_weights(cw, e2, 4, 3, 1.0, 0.2, 1, s, &err), 0);
    for (int i = 0; i < 3; i++) CHECK(cw[3] > cw[i]);

    /* errors: k < 2, λ = 0 on a rank-deficient centred kernel (always: HΩH has the null vector 1),
     * non-finite embeddings */
    CHECK(mix_chameleon_weights(cw, e2, 1, 3, 1.0, 5.0, 0, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "at least 2 domains");
    CHECK(mix_chameleon_weights(cw, e2, 4, 3, 0.0, 5.0, 0, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "singular");
    e2[4] = NAN;
    CHECK(mix_chameleon_weights(cw, e2, 4, 3, 1.0, 5.0, 0, NULL, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "domain 1, component 1");

    /* names */
    mix_rule r = MIX_STATIC;
    CHECK_EQ_INT(mix_rule_parse("velocitune", &r), 0);
    CHECK_EQ_INT(r, MIX_VELOCITUNE);
    CHECK(mix_rule_parse("Velocitune", &r) < 0);
    CHECK(mix_rule_parse("", &r) < 0);
    for (int i = MIX_STATIC; i <= MIX_CHAMELEON; i++) {
        CHECK_EQ_INT(mix_rule_parse(mix_rule_name((mix_rule)i), &r), 0);
        CHECK_EQ_INT(r, i);
    }
}

int main(void) {
    fixtures();
    properties();
    return test_summary("train/mixing");
}
