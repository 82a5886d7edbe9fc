/* lmc tokenizer canonical / eval / extend (issue 20). The work is in src/tokenizer/tokres.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "base/reader.h"
#include "cli/cli.h"
#include "data/shard.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokres.h"

extern const lmc_command tok_canonical_cmd, tok_eval_cmd, tok_extend_cmd;

static int load_tok(lmc_args *a, const char *path, tok_tokenizer **t) {
    lmc_err err = {0};
    if (tok_load(t, path, lmc_arg_str(a, "pattern"), &err)) return lmc_fail(a, "%s", err.msg);
    return 0;
}

/* ---- canonical ---- */
static const lmc_opt canonical_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer: tokenizer.json or .tiktoken rank file"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for a rank file (only needed when not inferable)"},
    {"ids", 0, OPT_STR, NULL, "FILE", "decimal ids, one sequence per line ('-' = stdin)"},
    {"shard", 0, OPT_STR, NULL, "FILE", "a token shard: documents separated by special tokens"},
    {"data-format", 0, OPT_STR, "llmc", "llmc|nanogpt", "--shard layout"},
    {"oracle", 0, OPT_FLAG, NULL, NULL, "decide by re-encoding (encode(decode(x)) == x) instead of the bigram test"},
    {"prefix", 0, OPT_FLAG, NULL, NULL, "sequences are prefixes: do not judge what text after them may still change"},
    {"count", 0, OPT_FLAG, NULL, NULL, "check every sequence and print how many are non-canonical"},
    LMC_OPTS_END};

/* Sequences of the --ids file: one per line. Errors name file:line:col. */
static int parse_lines(const char *path, const char *s, size_t n, uint32_t n_vocab, tok_ids *ids, tok_ids *line_end,
                       lmc_err *err) {
    uint64_t line = 1, col = 1;
    size_t i = 0;
    int any = 0;
    while (i <= n) {
        if (i == n || s[i] == '\n') {
            if (any && tok_ids_push(line_end, (uint32_t)ids->n, err)) return LMC_ENOMEM;
            any = 0;
            line++;
            col = 1;
            i++;
            continue;
        }
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
            i++;
            col++;
            continue;
        }
        if (c < '0' || c > '9') return lmc_err_at(err, LMC_EFORMAT, path, line, col, "expected a token id, found '%c'", c);
        uint64_t v = 0, c0 = col;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (uint64_t)(s[i] - '0');
            if (v > UINT32_MAX) v = UINT32_MAX;
            i++;
            col++;
        }
        if (v >= n_vocab)
            return lmc_err_at(err, LMC_EINVAL, path, line, c0, "id %llu is out of range (vocabulary has %u ids)",
                              (unsigned long long)v, n_vocab);
        if (tok_ids_push(ids, (uint32_t)v, err)) return LMC_ENOMEM;
        any = 1;
    }
    if (ids->n >= UINT32_MAX) return lmc_errf(err, LMC_EINVAL, "%s: too many ids", path);
    return 0;
}

static int run_canonical(lmc_args *a) {
    const char *tokp = lmc_arg_str(a, "tok"), *idsp = lmc_arg_str(a, "ids"), *shp = lmc_arg_str(a, "shard");
    if (!tokp) return lmc_usage_error(a, "missing -t TOK");
    if (!idsp == !shp) return lmc_usage_error(a, "give exactly one of --ids FILE and --shard FILE");
    if (lmc_arg_flag(a, "oracle") && lmc_arg_flag(a, "prefix"))
        return lmc_usage_error(a, "--prefix is a property of the bigram check; --oracle re-encodes whole sequences");
    lmc_shard_kind kind;
    if (lmc_shard_kind_parse(lmc_arg_str(a, "data-format"), &kind)) return lmc_usage_error(a, "--data-format must be llmc or nanogpt");
    tok_tokenizer *t;
    int rc = load_tok(a, tokp, &t);
    if (rc) return rc;
    lmc_err err = {0};
    tok_ids ids = {0}, ends = {0};
    tok_canon *c = NULL;
    const char *path = idsp ? idsp : shp;
    if (idsp) {
        char *data;
        size_t len;
        if (lmc_read_all(idsp, &data, &len, &err)) rc = lmc_fail(a, "%s", err.msg);
        else {
            if (parse_lines(idsp, data, len, tok_n_vocab(t), &ids, &ends, &err)) rc = lmc_fail(a, "%s", err.msg);
            free(data);
        }
    } else {
        lmc_shard s;
        memset(&s, 0, sizeof s);
        if (lmc_shard_open_kind(&s, shp, kind, &err)) rc = lmc_fail(a, "%s", err.msg);
        else {
            for (uint64_t i = 0; !rc && i < s.ntok; i++) {
                uint32_t v = lmc_shard_get(&s, i);
                if (v >= tok_n_vocab(t) || !tok_token_bytes(t, v, NULL))
                    rc = lmc_fail(a, "%s: token %llu: id %u is not in the vocabulary (%u ids)", shp,
                                  (unsigned long long)i, v, tok_n_vocab(t));
                else if (tok_ids_push(&ids, v, &err))
                    rc = lmc_fail(a, "%s", err.msg);
            }
            lmc_shard_close(&s);
            if (!rc && tok_ids_push(&ends, (uint32_t)ids.n, &err)) rc = lmc_fail(a, "%s", err.msg);
        }
    }
    if (!rc && tok_canon_new(&c, t, &err)) rc = lmc_fail(a, "%s", err.msg);
    uint64_t n_bad = 0, n_tok = 0;
    double sum_pos = 0;
    int oracle = lmc_arg_flag(a, "oracle"), count = lmc_arg_flag(a, "count"), prefix = lmc_arg_flag(a, "prefix");
    double t0 = lmc_now();
    for (size_t q = 0, s0 = 0; !rc && q < ends.n; s0 = ends.v[q++]) {
        size_t n = ends.v[q] - s0, pos;
        int ok;
        int r = oracle ? tok_canon_oracle(c, ids.v + s0, n, &ok, &pos, &err)
                       : tok_canon_check(c, ids.v + s0, n, prefix, &ok, &pos, &err);
        if (r) {
            rc = idsp ? lmc_fail(a, "%s: sequence %zu: %s", path, q + 1, err.msg) : lmc_fail(a, "%s: %s", path, err.msg);
            break;
        }
        n_tok += n;
        if (ok) continue;
        sum_pos += (double)pos;
        if (n_bad++ == 0) {
            const uint32_t *v = ids.v + s0;
            if (idsp) printf("non-canonical: sequence %zu (line %zu of ids), position %zu: ids %u %u\n", q + 1, q + 1,
                             pos, v[pos], pos + 1 < n ? v[pos + 1] : v[pos]);
            else printf("non-canonical: position %zu: ids %u %u\n", pos, v[pos], pos + 1 < n ? v[pos + 1] : v[pos]);
            if (!count) break;
        }
    }
    if (!rc) {
        if (count) {
            printf("%llu of %zu sequences non-canonical (%.4f%%)", (unsigned long long)n_bad, ends.n,
                   ends.n ? 100.0 * (double)n_bad / (double)ends.n : 0.0);
            if (n_bad) printf("; first offending pair at token %.1f on average", sum_pos / (double)n_bad);
            printf("\n");
        }
        if (!n_bad) printf("canonical\n");
        if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
            fprintf(stderr, "%s: %zu sequences, %llu tokens checked in %.3f s (%s)\n", path, ends.n,
                    (unsigned long long)n_tok, lmc_now() - t0, oracle ? "re-encoding" : "bigram test");
        if (n_bad) rc = 3;
    }
    tok_canon_free(c);
    tok_ids_free(&ids);
    tok_ids_free(&ends);
    tok_free(t);
    if (fflush(stdout) && !rc) rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
    return rc;
}

const lmc_command tok_canonical_cmd = {"canonical", "check that token sequences are the tokenizer's own encodings",
    "[options]",
    "A sequence is canonical when encode(decode(x)) == x. Decided with the bigram test of Vieira et al.\n"
    "(ICML 2025) inside pre-tokenizer pieces; special tokens separate documents. Exit status 0 and\n"
    "'canonical' when every sequence is; 3 and the first non-canonical position (index of the first token\n"
    "of the offending pair, and the two ids) otherwise; 1 on errors.",
    canonical_opts, 0, 0, run_canonical, NULL, 0};

/* ---- eval ---- */
static const lmc_opt eval_opts[] = {
    {"tok", 't', OPT_LIST, NULL, "TOK", "tokenizer (repeat for a side-by-side table)"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for rank files (only needed when not inferable)"},
    {"alpha", 0, OPT_FLOAT, "2.5", "A", "order of the Renyi efficiency (Zouhar et al. 2023 recommend 2.5)"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the document text"},
    {"max-bytes", 0, OPT_INT, "0", "N", "stop after N bytes of each input (0 = all)"},
    LMC_OPTS_END};

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int run_eval(lmc_args *a) {
    int nt = 0;
    const char *const *toks = lmc_arg_list(a, "tok", &nt);
    if (nt == 0) return lmc_usage_error(a, "missing -t TOK");
    double alpha = lmc_arg_float(a, "alpha");
    if (!(alpha > 0)) return lmc_usage_error(a, "--alpha must be > 0");
    int64_t max_bytes = lmc_arg_int(a, "max-bytes");
    if (max_bytes < 0) return lmc_usage_error(a, "--max-bytes must be >= 0");
    printf("%-24s %8s %10s %9s %9s %9s %8s %7s %8s %9s\n", "tokenizer", "vocab", "tokens", "bytes/tok", "chars/tok",
           "tok/word", "used", "util%", "Shannon", "Renyi");
    int rc = 0;
    for (int k = 0; k < nt && !rc; k++) {
        tok_tokenizer *t;
        if ((rc = load_tok(a, toks[k], &t))) break;
        lmc_err err = {0};
        tok_encoder *e = NULL;
        tok_eval_acc acc;
        tok_ids ids = {0};
        int have_acc = 0;
        if (tok_encoder_new(&e, t, &err) || tok_eval_init(&acc, tok_n_vocab(t), &err)) rc = lmc_fail(a, "%s", err.msg);
        else have_acc = 1;
        for (int i = 0; !rc && i < lmc_arg_npos(a); i++) {
            tok_docs *d;
            if (tok_docs_open(&d, lmc_arg_pos(a, i), lmc_arg_str(a, "field"), &err)) {
                rc = lmc_fail(a, "%s", err.msg);
                break;
            }
            const char *text;
            size_t len;
            int r;
            uint64_t seen = 0;
            while ((r = tok_docs_next(d, &text, &len, &err)) == 1) {
                if (max_bytes && seen + len > (uint64_t)max_bytes) len = (size_t)((uint64_t)max_bytes - seen);
                ids.n = 0;
                if (tok_encode(e, text, len, 0, &ids, &err)) {
                    r = -1;
                    break;
                }
                tok_eval_add(&acc, (const uint8_t *)text, len, ids.v, ids.n);
                seen += len;
                if (max_bytes && seen >= (uint64_t)max_bytes) break;
            }
            if (r < 0) rc = lmc_fail(a, "%s: %s", lmc_arg_pos(a, i), err.msg);
            tok_docs_close(d);
        }
        if (!rc) {
            tok_eval_res r;
            tok_eval_result(&acc, tok_n_tokens(t), alpha, &r);
            printf("%-24s %8u %10llu %9.3f %9.3f %9.3f %8llu %7.2f %8.4f %9.4f\n", base_name(toks[k]), tok_n_tokens(t),
                   (unsigned long long)acc.tokens, r.bytes_per_token, r.chars_per_token, r.tokens_per_word, (unsigned long long)r.types,
                   100.0 * r.utilisation, r.shannon_eff, r.renyi_eff);
            if (k == nt - 1)
                printf("(%llu bytes, %llu words; Renyi alpha = %g; efficiencies over log of the vocab column)\n",
                       (unsigned long long)acc.bytes, (unsigned long long)acc.words, alpha);
        }
        if (have_acc) tok_eval_free(&acc);
        tok_ids_free(&ids);
        tok_encoder_free(e);
        tok_free(t);
    }
    if (fflush(stdout) && !rc) rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
    return rc;
}

const lmc_command tok_eval_cmd = {"eval", "compare tokenizers: bytes/token, tokens/word, utilisation, Renyi efficiency",
    "[options] TEXT...",
    "Each -t tokenizer encodes the inputs (plain text = one document; .jsonl one per line) as ordinary text.\n"
    "Words are maximal runs of non-whitespace bytes. used = distinct ids seen; util% = used / vocab;\n"
    "Shannon and Renyi = H(p) / log vocab and H_alpha(p) / log vocab of the unigram token distribution.",
    eval_opts, 1, -1, run_eval, NULL, 0};

/* ---- extend ---- */
static const lmc_opt extend_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "base tokenizer (tokenizer.json or .tiktoken)"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for a rank file (only needed when not inferable)"},
    {"corpus", 0, OPT_LIST, NULL, "FILE", "domain text to learn the new tokens from (repeatable)"},
    {"domain", 0, OPT_STR, NULL, "TOK.json", "use this domain tokenizer instead of training one on --corpus"},
    {"domain-vocab", 0, OPT_INT, "16384", "N", "vocabulary size of the domain tokenizer trained on --corpus"},
    {"add", 0, OPT_INT, NULL, "N", "new merges to append"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the document text"},
    {"output", 'o', OPT_STR, NULL, "OUT.json", "extended tokenizer.json"},
    {"threads", 0, OPT_INT, "0", "N", "threads for training the domain tokenizer"},
    LMC_OPTS_END};

static int run_extend(lmc_args *a) {
    const char *tokp = lmc_arg_str(a, "tok"), *out = lmc_arg_str(a, "output"), *dom = lmc_arg_str(a, "domain");
    int nc = 0;
    const char *const *corpus = lmc_arg_list(a, "corpus", &nc);
    if (!tokp) return lmc_usage_error(a, "missing -t TOK");
    if (!out) return lmc_usage_error(a, "missing -o OUT.json");
    if (!lmc_arg_is_set(a, "add") || lmc_arg_int(a, "add") <= 0) return lmc_usage_error(a, "need --add N with N > 0");
    if (!dom == !nc) return lmc_usage_error(a, "give --corpus FILE (domain text) or --domain TOK.json, not both");
    int64_t dv = lmc_arg_int(a, "domain-vocab");
    if (dv < 257 || dv > (1 << 24)) return lmc_usage_error(a, "--domain-vocab must be in [257, 16777216]");
    int64_t n_add = lmc_arg_int(a, "add");
    if (n_add > (1 << 24)) return lmc_usage_error(a, "--add is too large");
    tok_tokenizer *t = NULL, *d = NULL;
    int rc = load_tok(a, tokp, &t);
    if (rc) return rc;
    lmc_err err = {0};
    if (dom) {
        if (tok_load(&d, dom, NULL, &err)) rc = lmc_fail(a, "%s", err.msg);
    } else {
        /* the base tokenizer's pattern, so domain tokens are pieces the base can hold */
        tok_pattern_kind pk;
        const char *pat = tok_pattern(t, &pk);
        tok_train_opts o = {(uint32_t)dv, pat, NULL, 0, 2, (int)lmc_arg_int(a, "threads"), NULL};
        if (tok_train_files(&o, corpus, nc, lmc_arg_str(a, "field"), &d, &err)) rc = lmc_fail(a, "%s", err.msg);
    }
    uint32_t before = tok_n_vocab(t);
    tok_extend_stats st;
    if (!rc && tok_extend(t, d, (uint32_t)n_add, &st, &err)) rc = lmc_fail(a, "%s: %s", tokp, err.msg);
    if (!rc && tok_save_hf_json(t, out, &err)) rc = lmc_fail(a, "%s", err.msg);
    if (!rc) {
        if (st.added < n_add)
            fprintf(stderr, "%s: warning: only %u of %lld merges could be added (domain vocabulary too small?)\n",
                    lmc_arg_cmdpath(a), st.added, (long long)n_add);
        if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
            fprintf(stderr,
                    "%s: %u new ids %u..%u (of %u domain tokens: %u already in the base, %u span pieces, %u are not "
                    "two base tokens)\n",
                    out, st.added, before, before + st.added - 1, st.candidates, st.in_base, st.multi_piece, st.not_two);
    }
    if (d) tok_free(d);
    tok_free(t);
    return rc;
}

const lmc_command tok_extend_cmd = {"extend", "append merges learned on domain text; no text ever gets longer",
    "[options]",
    "Herold et al. (2025), Algorithm 1: tokens of a BPE tokenizer trained on the domain text (its merges\n"
    "unused), in its merge order, are appended as merges (a, b) -> new id when the extended tokenizer\n"
    "encodes them as exactly two tokens. Appended merges rank after every base merge, so encoding reaches\n"
    "the base segmentation first and only merges further: no input is ever encoded into more tokens.\n"
    "Base ids are unchanged; new ids follow the largest base id.",
    extend_opts, 0, 0, run_extend, NULL, 0};
