/* src/eval text rules against the harness (expected strings made with lm_eval 0.4.13's
 * preprocess_wikitext.wikitext_detokenizer and Python's re.split in /work/venv-torch), and the rolling
 * windows against the example in lm_eval/api/model.py's loglikelihood_rolling docstring. */
#include "test.h"
#include "eval/eval.h"

static void check_detok(const char *in, const char *want) {
    char *out;
    size_t n;
    lmc_err err = {0};
    CHECK(lmc_wikitext_detok(in, strlen(in), &out, &n, &err) == 0);
    CHECK_MSG(!strcmp(out, want), "detok(%s) = [%s], want [%s]", in, out, want);
    CHECK_EQ_INT(n, strlen(want));
    free(out);
}

int main(void) {
    check_detok(" = Title = \n The cat @-@ like ( big ) dog , said \" hello there \" . It was 5 @,@ 000 @.@ 5 \xc2\xb0 C ; ok : N times \n = = Sub = = \n",
                " = Title =\nThe cat-like (big) dog, said \"hello there\". It was 5,000.5\xc2\xb0" "C; ok: 1 times\n== Sub ==\n");
    check_detok("the dogs ' bones /' 7/ and [ a b ] { c } ' quoted ' and it 's fine ! or ? ",
                "the dogs'bones /'[0-9]/ and [a b] {c} 'quoted' and it's fine! or? ");
    check_detok("= = = = deep = = = = \n  x \n", "==== deep ====\n x\n");

    /* words: len(re.split(r"\s+", s)) */
    CHECK_EQ_INT(lmc_eval_count_words(" a b ", 5), 4);
    CHECK_EQ_INT(lmc_eval_count_words("a\xc2\xa0" "b\xe3\x80\x80 c", 9), 3);
    CHECK_EQ_INT(lmc_eval_count_words("a\x1c" "b", 3), 2);
    CHECK_EQ_INT(lmc_eval_count_words("", 0), 1);
    const char *c1 = " = Title = \n The cat @-@ like ( big ) dog , said \" hello there \" . It was 5 @,@ 000 @.@ 5 \xc2\xb0 C ; ok : N times \n = = Sub = = \n";
    CHECK_EQ_INT(lmc_eval_count_words(c1, strlen(c1)), 39);
    CHECK_EQ_INT(lmc_eval_count_chars("a\xc2\xb0z", 4), 3);

    /* articles */
    const char *w = " \n = A = \n x \n = = S = = \n y \n = B = \n z \n";
    size_t *sp, ns;
    lmc_err err = {0};
    CHECK(lmc_wikitext_split(w, strlen(w), &sp, &ns, &err) == 0);
    CHECK_EQ_INT(ns, 2);
    if (ns == 2) {
        CHECK(sp[1] == strlen(" = A = \n x \n = = S = = \n y ") && !strncmp(w + sp[0], " = A = \n x", 10));
        CHECK(!strcmp(w + sp[2], " = B = \n z \n") && sp[3] == strlen(" = B = \n z \n"));
    }
    free(sp);

    /* rolling windows: tokens 0..9, prefix 99, max length 4 */
    uint32_t tok[10];
    for (int i = 0; i < 10; i++) tok[i] = (uint32_t)i;
    lmc_eval_req *r = NULL;
    size_t n = 0, cap = 0;
    CHECK(lmc_eval_rolling_windows(tok, 10, 99, 4, &r, &n, &cap, &err) == 0);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        int32_t w0[] = {99, 0, 1, 2, 3}, w1[] = {3, 4, 5, 6, 7}, w2[] = {5, 6, 7, 8, 9};
        CHECK(r[0].n == 5 && r[0].n_cont == 4 && !memcmp(r[0].tok, w0, sizeof w0));
        CHECK(r[1].n == 5 && r[1].n_cont == 4 && !memcmp(r[1].tok, w1, sizeof w1));
        CHECK(r[2].n == 5 && r[2].n_cont == 2 && !memcmp(r[2].tok, w2, sizeof w2));
    }
    lmc_eval_req_free(r, n);
    free(r);
    /* a document shorter than the window: one request */
    r = NULL, n = 0, cap = 0;
    CHECK(lmc_eval_rolling_windows(tok, 3, 99, 4, &r, &n, &cap, &err) == 0);
    CHECK(n == 1 && r[0].n == 4 && r[0].n_cont == 3 && r[0].tok[0] == 99);
    lmc_eval_req_free(r, n);
    free(r);
    printf("%d checks, %d failures\n", lmc_test_checks, lmc_test_failures);
    return lmc_test_failures != 0;
}
