/* Tokenizer evaluation metrics (issue 20) against values computed by hand:
 *
 * text "ab cd\n \xC3\xA9" (9 bytes, 8 characters, words "ab" "cd" "\xC3\xA9" = 3), ids [1 1 2 3] of a
 * vocabulary of 4: bytes/token 9/4 = 2.25, chars/token 8/4 = 2, tokens/word 4/3, 3 ids used,
 * utilisation 3/4; p = (1/2, 1/4, 1/4):
 *   H = -(1/2 ln 1/2 + 2 * 1/4 ln 1/4) = 1.5 ln 2 = 1.0397208;   / ln 4 = 0.75
 *   alpha = 2.5: sum p^a = 2^-2.5 + 2 * 4^-2.5 = 0.1767767 + 0.0625 = 0.2392767;
 *   H_a = ln(0.2392767) / (1 - 2.5) = 0.9534231;  / ln 4 = 0.6877494
 *   alpha = 2: sum p^2 = 0.375, H_2 = -ln 0.375 = 0.9808293; / ln 4 = 0.7075187
 * A uniform distribution over all of V has efficiency 1 for every alpha. */
#include <math.h>
#include "test.h"
#include "tokenizer/tokres.h"

int main(void) {
    lmc_err err = {0};
    tok_eval_acc a;
    CHECK(tok_eval_init(&a, 4, &err) == 0);
    const char *text = "ab cd\n \xC3\xA9";
    uint32_t ids[4] = {1, 1, 2, 3};
    tok_eval_add(&a, (const uint8_t *)text, strlen(text), ids, 4);
    tok_eval_res r;
    tok_eval_result(&a, 4, 2.5, &r);
    CHECK_CLOSE(r.bytes_per_token, 2.25, 1e-12, 0);
    CHECK_CLOSE(r.chars_per_token, 2.0, 1e-12, 0);
    CHECK_CLOSE(r.tokens_per_word, 4.0 / 3.0, 1e-12, 0);
    CHECK_EQ_INT(r.types, 3);
    CHECK_CLOSE(r.utilisation, 0.75, 1e-12, 0);
    CHECK_CLOSE(r.shannon_eff, 0.75, 1e-9, 0);
    CHECK_CLOSE(r.renyi_eff, 0.6877494, 1e-6, 0);
    tok_eval_result(&a, 4, 2.0, &r);
    CHECK_CLOSE(r.renyi_eff, 0.7075187, 1e-6, 0);
    tok_eval_result(&a, 4, 1.0, &r);
    CHECK_CLOSE(r.renyi_eff, 0.75, 1e-9, 0);
    tok_eval_free(&a);
    /* uniform over V = 8 */
    CHECK(tok_eval_init(&a, 8, &err) == 0);
    uint32_t all[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    tok_eval_add(&a, (const uint8_t *)"x", 1, all, 8);
    tok_eval_result(&a, 8, 2.5, &r);
    CHECK_CLOSE(r.renyi_eff, 1.0, 1e-12, 0);
    CHECK_CLOSE(r.shannon_eff, 1.0, 1e-12, 0);
    CHECK_CLOSE(r.utilisation, 1.0, 1e-12, 0);
    tok_eval_free(&a);
    return test_summary("tokenizer/tokeval");
}
