/* Quality filters: for each rule, a crafted document just inside and just outside its threshold, at the
 * published default where the document is easy to build, and at a threshold set to the document's exact
 * value otherwise (rules fire on a strict inequality, so value == threshold keeps the document). Every
 * other rule of the rule set is disabled (0) so only the rule under test can fire. */
#include "test.h"
#include "data/data.h"

static data_filter_scratch *sc;

/* Config with only `param` of `set` active (its default value, or `value` when >= 0). */
static data_filter_cfg only(unsigned set, const char *setname, const char *param, double value) {
    static const char *const all[] = {
        "gopher-quality.min_doc_words", "gopher-quality.max_doc_words", "gopher-quality.min_avg_word_length",
        "gopher-quality.max_avg_word_length", "gopher-quality.max_symbol_word_ratio",
        "gopher-quality.max_bullet_lines_ratio", "gopher-quality.max_ellipsis_lines_ratio",
        "gopher-quality.min_alpha_words_ratio", "gopher-quality.min_stop_words",
        "gopher-repetition.dup_line_frac", "gopher-repetition.dup_para_frac", "gopher-repetition.dup_line_char_frac",
        "gopher-repetition.dup_para_char_frac", "gopher-repetition.top_2_gram", "gopher-repetition.top_3_gram",
        "gopher-repetition.top_4_gram", "gopher-repetition.dup_5_gram", "gopher-repetition.dup_6_gram",
        "gopher-repetition.dup_7_gram", "gopher-repetition.dup_8_gram", "gopher-repetition.dup_9_gram",
        "gopher-repetition.dup_10_gram", "c4.min_num_sentences", "c4.min_words_per_line", "c4.max_word_length",
        "c4.filter_no_terminal_punct", "c4.remove_citations", "c4.filter_lorem_ipsum", "c4.filter_javascript",
        "c4.filter_curly_bracket", "c4.filter_policy", "fineweb.line_punct_thr", "fineweb.short_line_thr",
        "fineweb.char_duplicates_ratio", "fineweb.new_line_ratio", NULL};
    data_filter_cfg c, d;
    data_filter_cfg_default(&c, set);
    data_filter_cfg_default(&d, set);
    lmc_err err = {0};
    char full[200];
    snprintf(full, sizeof full, "%s.%s", setname, param);
    for (int i = 0; all[i]; i++) {
        if (!strcmp(all[i], full)) continue;
        char a[200];
        snprintf(a, sizeof a, "%s=0", all[i]);
        if (!strncmp(all[i], setname, strlen(setname)) && all[i][strlen(setname)] == '.')
            CHECK_EQ_INT(data_filter_set(&c, a, &err), 0);
    }
    if (value >= 0) {
        char a[300];
        snprintf(a, sizeof a, "%s=%.17g", full, value);
        CHECK_EQ_INT(data_filter_set(&c, a, &err), 0);
    }
    (void)d;
    return c;
}

static const char *run(const data_filter_cfg *c, const char *t) { return data_filter_doc(c, t, strlen(t), sc); }

#define KEEP(c, t) CHECK_MSG(run(&(c), (t)) == NULL, "removed by %s", run(&(c), (t)))
#define DROP(c, t, rule) CHECK_STR_CONTAINS(run(&(c), (t)), rule)

/* Strings from words() live until the end (freed in main). */
static char *pool[256];
static int npool;

static char *words(int n, const char *w) {
    char *s = malloc((size_t)n * (strlen(w) + 1) + 1);
    if (npool < 256) pool[npool++] = s;
    s[0] = 0;
    for (int i = 0; i < n; i++) { strcat(s, w); if (i + 1 < n) strcat(s, " "); }
    return s;
}

static void gopher_quality(void) {
    unsigned G = DATA_RULESET_GOPHER_QUALITY;
    const char *S = "gopher-quality";
    data_filter_cfg c = only(G, S, "min_doc_words", -1);
    char *t50 = words(50, "word"), *t49 = words(49, "word");
    KEEP(c, t50);
    DROP(c, t49, "short_doc");
    /* symbol-only tokens do not count as words */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s , . ; !", t49);
    DROP(c, buf, "short_doc");
    c = only(G, S, "max_doc_words", 50);
    KEEP(c, t50);
    snprintf(buf, sizeof buf, "%s word", t50);
    DROP(c, buf, "long_doc");
    /* mean word length 3 .. 10 */
    c = only(G, S, "min_avg_word_length", -1);
    char *t3 = words(50, "cat");
    KEEP(c, t3);
    snprintf(buf, sizeof buf, "%s at", words(49, "cat"));  /* (49*3+2)/50 = 2.98 */
    DROP(c, buf, "below_avg_word_length");
    c = only(G, S, "max_avg_word_length", -1);
    KEEP(c, words(50, "abcdefghij"));
    snprintf(buf, sizeof buf, "%s abcdefghijk", words(49, "abcdefghij"));  /* 10.02 */
    DROP(c, buf, "above_avg_word_length");
    /* '#' per word 0.1: 100 words, 10 / 11 of them containing '#' */
    c = only(G, S, "max_symbol_word_ratio", -1);
    snprintf(buf, sizeof buf, "%s %s", words(10, "a#b"), words(90, "word"));
    KEEP(c, buf);
    snprintf(buf, sizeof buf, "%s %s", words(11, "a#b"), words(89, "word"));
    DROP(c, buf, "too_many_hashes");
    /* ellipses per word: "so..." is two tokens ("so", "..."); 100 tokens with 10 / 11 ellipses */
    snprintf(buf, sizeof buf, "%s %s", words(10, "so..."), words(80, "word"));
    KEEP(c, buf);
    snprintf(buf, sizeof buf, "%s %s", words(10, "so\xE2\x80\xA6"), words(80, "word"));
    KEEP(c, buf);
    snprintf(buf, sizeof buf, "%s so\xE2\x80\xA6 %s", words(10, "so..."), words(78, "word"));
    DROP(c, buf, "too_many_ellipsis");
    /* bullet lines 90 %: 100 lines */
    c = only(G, S, "max_bullet_lines_ratio", -1);
    static char big[65536];
    big[0] = 0;
    for (int i = 0; i < 100; i++) strcat(big, i < 90 ? (i % 2 ? "- item\n" : "  \xE2\x80\xA2 item\n") : "text line\n");
    KEEP(c, big);
    big[0] = 0;
    for (int i = 0; i < 100; i++) strcat(big, i < 91 ? "- item\n" : "text line\n");
    DROP(c, big, "too_many_bullets");
    /* lines ending in an ellipsis 30 % */
    c = only(G, S, "max_ellipsis_lines_ratio", -1);
    big[0] = 0;
    for (int i = 0; i < 100; i++) strcat(big, i < 30 ? (i % 2 ? "and so on...  \n" : "and so\xE2\x80\xA6\n") : "a line.\n");
    KEEP(c, big);
    big[0] = 0;
    for (int i = 0; i < 100; i++) strcat(big, i < 31 ? "and so on...\n" : "a line.\n");
    DROP(c, big, "too_many_end_ellipsis");
    /* words with a letter 80 % */
    c = only(G, S, "min_alpha_words_ratio", -1);
    snprintf(buf, sizeof buf, "%s %s", words(80, "w1"), words(20, "123"));
    KEEP(c, buf);
    snprintf(buf, sizeof buf, "%s %s", words(79, "w\xC3\xA9"), words(21, "4.5"));
    DROP(c, buf, "below_alpha_threshold");
    /* two distinct stop words (case-sensitive, as datatrove) */
    c = only(G, S, "min_stop_words", -1);
    KEEP(c, "cats of the world");
    DROP(c, "the cats the world", "not_enough_stop_words");
    DROP(c, "The cats Of world", "not_enough_stop_words");
}

static void gopher_repetition(void) {
    unsigned R = DATA_RULESET_GOPHER_REP;
    const char *S = "gopher-repetition";
    /* duplicate lines (count): 10 lines, 3 vs 4 duplicates */
    data_filter_cfg c = only(R, S, "dup_line_frac", -1);
    KEEP(c, "a1\nb2\nc3\nd4\ne5\nf6\ng7\na1\na1\na1");
    DROP(c, "a1\nb2\nc3\nd4\ne5\nf6\na1\na1\na1\na1", "dup_line_frac");
    c = only(R, S, "dup_para_frac", -1);
    KEEP(c, "a1\n\nb2\n\nc3\n\nd4\n\n\ne5\n\nf6\n\ng7\n\na1\n\na1\n\na1\n\n");
    DROP(c, "a1\n\nb2\n\nc3\n\nd4\n\ne5\n\nf6\n\na1\n\na1\n\na1\n\na1", "dup_para_frac");
    /* duplicate line characters: "xxxx\n" * ... ratio = dup chars / len(text) */
    c = only(R, S, "dup_line_char_frac", -1);
    /* 16 distinct 4-char lines + 4 dups of 4 chars: text len = 20*5-1 = 99, dup = 16 -> 0.1616 */
    const char *t = "l000\nl001\nl002\nl003\nl004\nl005\nl006\nl007\nl008\nl009\nl010\nl011\nl012\nl013\nl014\nl015\nl000\nl000\nl000\nl000";
    KEEP(c, t);
    c = only(R, S, "dup_line_char_frac", 16.0 / 99.0);
    KEEP(c, t);
    c = only(R, S, "dup_line_char_frac", 16.0 / 99.0 - 1e-9);
    DROP(c, t, "dup_line_char_frac");
    c = only(R, S, "dup_para_char_frac", 16.0 / 99.0);
    const char *tp = "p000\n\np001\n\np002\n\np003\n\np004\n\np005\n\np006\n\np007\n\np008\n\np009\n\np010\n\np011\n\np012\n\np013\n\np014\n\np015\n\np000\n\np000\n\np000\n\np000\n\n\n";
    /* len = 20*6 + 1 = 121 code points; dup chars 16 */
    c = only(R, S, "dup_para_char_frac", 16.0 / 121.0);
    KEEP(c, tp);
    c = only(R, S, "dup_para_char_frac", 16.0 / 121.0 - 1e-9);
    DROP(c, tp, "dup_para_char_frac");
    /* top 2-gram: "ab cd" x 3 among distinct words; chars = 5*3 = 15 */
    const char *t2 = "ab cd ab cd ab cd w1 w2 w3 w4 w5 w6 w7 w8 w9 x1 x2 x3 x4 x5 x6 x7 x8 x9 y1 y2 y3";
    double len2 = (double)strlen(t2);
    c = only(R, S, "top_2_gram", 15.0 / len2);
    KEEP(c, t2);
    c = only(R, S, "top_2_gram", 15.0 / len2 - 1e-9);
    DROP(c, t2, "top_2_gram");
    c = only(R, S, "top_2_gram", -1);  /* 15/80 = 0.1875 < 0.2 at the default */
    KEEP(c, t2);
    /* duplicated 5-grams: characters of repeated 5-grams, words joined without spaces */
    const char *t5 = "one two three four five one two three four five six seven eight nine ten eleven twelve thirteen";
    /* second "one two three four five" repeats: 3+3+5+4+4 = 19 chars */
    double len5 = (double)strlen(t5);
    c = only(R, S, "dup_5_gram", 19.0 / len5);
    KEEP(c, t5);
    c = only(R, S, "dup_5_gram", 19.0 / len5 - 1e-9);
    DROP(c, t5, "duplicated_5_n_grams");
    c = only(R, S, "dup_10_gram", -1);
    KEEP(c, t5);  /* no repeated 10-gram */
    DROP(c, "", "empty");
}

static void c4(void) {
    unsigned C = DATA_RULESET_C4;
    data_filter_cfg c;
    data_filter_cfg_default(&c, C);
    /* 5 sentences over lines with >= 3 words ending in terminal punctuation */
    const char *ok = "This is one. This is two.\nThis is three! Is this four?\nThe fifth one is \"here.\"";
    KEEP(c, ok);
    const char *four = "This is one. This is two.\nThis is three! Is this four?\nnot a sentence line";
    DROP(c, four, "too_few_sentences");
    /* a line of two words does not count; a line ending in "..." does not count */
    DROP(c, "This is one. This is two.\nThis is three! Is this four?\nGood bye.", "too_few_sentences");
    DROP(c, "This is one. This is two.\nThis is three! Is this four?\nThis is five...", "too_few_sentences");
    /* citations are removed before the end-of-line check */
    KEEP(c, "This is one. This is two.\nThis is three! Is this four?\nThe fifth one is here.[12]");
    DROP(c, "This is one. This is two. Lorem Ipsum dolor.\nThis is three! Is this four? Five.", "lorem_ipsum");
    DROP(c, "This is one. This is two {x}.\nThis is three! Is this four? Five.", "curly_bracket");
    /* javascript / policy lines are dropped, not the document */
    DROP(c, "This is one. This is two.\nThis is three! Is this four?\nPlease enable JavaScript now.", "too_few_sentences");
    DROP(c, "This is one. This is two.\nThis is three! Is this four?\nRead our privacy policy here.", "too_few_sentences");
    /* a word longer than 1000 chars drops its line */
    char big[4096];
    memset(big, 'x', 1001);
    big[1001] = 0;
    char doc[8192];
    snprintf(doc, sizeof doc, "This is one. This is two.\nThis is three! Is this four?\nFive %s here.", big);
    DROP(c, doc, "too_few_sentences");
    big[1000] = 0;
    snprintf(doc, sizeof doc, "This is one. This is two.\nThis is three! Is this four?\nFive %s here.", big);
    KEEP(c, doc);
    lmc_err err = {0};
    CHECK_EQ_INT(data_filter_set(&c, "c4.min_num_sentences=4", &err), 0);
    KEEP(c, four);
}

static void fineweb(void) {
    unsigned F = DATA_RULESET_FINEWEB;
    const char *S = "fineweb";
    /* lines ending in terminal punctuation: 12 % ; 25 lines, 3 -> 0.12 keep, 2 -> 0.08 drop */
    data_filter_cfg c = only(F, S, "line_punct_thr", -1);
    static char t[65536];
    t[0] = 0;
    for (int i = 0; i < 25; i++) strcat(t, i < 3 ? "a line that ends.\n\n" : "a line without\n");
    KEEP(c, t);
    t[0] = 0;
    for (int i = 0; i < 25; i++) strcat(t, i < 2 ? "a line that ends\xE3\x80\x82\n" : "a line without\n");
    DROP(c, t, "line_punct_ratio");
    /* short lines (<= 30 chars) 67 %: 100 lines */
    c = only(F, S, "short_line_thr", -1);
    t[0] = 0;
    for (int i = 0; i < 100; i++) {
        char l[64];
        snprintf(l, sizeof l, i < 67 ? "short line %03d with 30 chars.\n" : "a long line %03d with thirty-one chars\n", i);
        strcat(t, l);
    }
    KEEP(c, t);
    t[0] = 0;
    for (int i = 0; i < 100; i++) {
        char l[64];
        snprintf(l, sizeof l, i < 68 ? "short line %03d with 30 chars.\n" : "a long line %03d with thirty-one chars\n", i);
        strcat(t, l);
    }
    DROP(c, t, "short_line_ratio");
    /* duplicated-line characters / characters without newlines */
    c = only(F, S, "char_duplicates_ratio", -1);
    t[0] = 0;
    for (int i = 0; i < 100; i++) {
        char l[64];
        snprintf(l, sizeof l, "line number %04d here\n", i);  /* 21 chars + \n */
        strcat(t, l);
    }
    strcat(t, "line number 0000 here");  /* 21 dup chars / (101*21) = 0.0099 */
    KEEP(c, t);
    strcat(t, "\nline number 0001 here");  /* 42 / 2142 = 0.0196 */
    DROP(c, t, "char_dup_ratio");
    /* newlines per word 0.3: 10 words, 3 vs 4 newlines */
    c = only(F, S, "new_line_ratio", -1);
    KEEP(c, "one two three\nfour five six\nseven eight\nnine ten");
    DROP(c, "one two three\nfour five six\nseven eight\nnine\nten", "list_ratio");
    DROP(c, "\n\n", "empty");
}

static void params(void) {
    data_filter_cfg c;
    data_filter_cfg_default(&c, DATA_RULESET_GOPHER_QUALITY);
    lmc_err err = {0};
    CHECK(data_filter_set(&c, "gopher-quality.nope=1", &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "unknown parameter");
    CHECK(data_filter_set(&c, "gopher-quality.min_doc_words=abc", &err) < 0);
    CHECK(data_filter_set(&c, "min_doc_words=3", &err) < 0);
    CHECK(data_filter_set(&c, "c4.filter_policy=2", &err) < 0);
    CHECK_EQ_INT(data_filter_set(&c, "gopher-quality.min_doc_words=7", &err), 0);
    CHECK(c.gq_min_doc_words == 7);
    unsigned rs;
    CHECK_EQ_INT(data_filter_parse_rulesets("c4,fineweb", &rs, &err), 0);
    CHECK_EQ_INT(rs, DATA_RULESET_C4 | DATA_RULESET_FINEWEB);
    CHECK(data_filter_parse_rulesets("c4,gopher", &rs, &err) < 0);
    json_t *j = data_filter_cfg_json(&c);
    CHECK(json_real_value(json_object_get(json_object_get(j, "gopher-quality"), "min_doc_words")) == 7);
    json_decref(j);
    /* a normal English paragraph passes every rule set */
    data_filter_cfg all;
    data_filter_cfg_default(&all, 15);
    const char *good =
        "The history of the town goes back to the twelfth century, when a small group of farmers settled near the river.\n"
        "Over the following centuries the settlement grew into a market town with a church, a mill and a bridge.\n"
        "In the nineteenth century the railway arrived, and with it new industries that changed the character of the place.\n"
        "Today the town is known for its old houses, its annual fair and the walks that lead along the river banks.\n"
        "Visitors come from all over the region to see the church and to enjoy the food that is served in the square.";
    KEEP(all, good);
}

int main(void) {
    sc = data_filter_scratch_new();
    gopher_quality();
    gopher_repetition();
    c4();
    fineweb();
    params();
    data_filter_scratch_free(sc);
    for (int i = 0; i < npool; i++) free(pool[i]);
    return test_summary("data_filter");
}
