/* lmc tokenizer: encode, decode, info, convert, train. All work is in src/tokenizer/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "cli/cli.h"
#include "data/licence_mix.h"
#include "data/shard.h"
#include "tokenizer/encode_meta.h"
#include "tokenizer/tokenizer.h"

static int load(lmc_args *a, tok_tokenizer **t) {
    lmc_err err = {0};
    if (tok_load(t, lmc_arg_str(a, "tok"), lmc_arg_str(a, "pattern"), &err)) return lmc_fail(a, "%s", err.msg);
    return 0;
}

/* Print ids as "1 2 3\n" through a buffer (printf per id is the bottleneck otherwise). */
static int print_ids(const tok_ids *ids) {
    char buf[1 << 16];
    size_t o = 0;
    for (size_t i = 0; i < ids->n; i++) {
        if (o > sizeof buf - 16) {
            if (fwrite(buf, 1, o, stdout) != o) return -1;
            o = 0;
        }
        if (i) buf[o++] = ' ';
        char tmp[12];
        int k = 0;
        uint32_t v = ids->v[i];
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k) buf[o++] = tmp[--k];
    }
    buf[o++] = '\n';
    return fwrite(buf, 1, o, stdout) == o ? 0 : -1;
}

/* ---- encode ---- */

/* The shard's licence mix, next to it (src/data/licence_mix.c): a second pass over the inputs. */
static int write_licence_mix(lmc_args *a, const tok_tokenizer *t, const char *out, uint64_t shard_tokens, lmc_err *err) {
    json_t *mix = NULL;
    int rc = data_licence_mix(t, lmc_arg_positionals(a), (size_t)lmc_arg_npos(a), lmc_arg_str(a, "field"),
                              lmc_arg_str(a, "licence-field"), (int)lmc_arg_int(a, "threads"), &mix, err);
    if (!rc && (uint64_t)json_integer_value(json_object_get(mix, "tokens")) != shard_tokens)
        rc = lmc_errf(err, LMC_EFORMAT, "licence mix: counted %lld tokens but the shard has %llu (documents read differently)",
                      (long long)json_integer_value(json_object_get(mix, "tokens")), (unsigned long long)shard_tokens);
    char *p = rc ? NULL : malloc(strlen(out) + 16);
    if (!rc && !p) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    if (p) {
        sprintf(p, "%s.licences.json", out);
        rc = lmc_json_save_file(mix, p, err);
        free(p);
    }
    json_decref(mix);
    return rc;
}
static const lmc_opt encode_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer: tokenizer.json or .tiktoken rank file"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pre-tokenization pattern for a rank file (gpt2, cl100k_base, o200k_base)"},
    {"ids", 0, OPT_FLAG, NULL, NULL, "print ids as decimal numbers, one line per document (the default without -o)"},
    {"special", 0, OPT_STR, "none", "none|all", "special-token strings: plain text (none) or their ids (all)"},
    {"output", 'o', OPT_STR, NULL, "OUT.bin", "write a token shard: documents each followed by <|endoftext|>"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the document text"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads for -o (0 = all cores)"},
    {"licence-field", 0, OPT_STR, NULL, "NAME", "with -o: tokens per value of this JSONL field into OUT.licences.json"},
    {"meco-field", 0, OPT_STR, NULL, "NAME", "with -o (JSONL): MeCo, \"URL: <host>\\n\\n\" from this URL field before each document, loss-masked in OUT.mask (docs/train.md)"},
    {"annotation-field", 0, OPT_STR, NULL, "NAME", "with -o (JSONL): this field's tag strings, one per blank-line chunk, as <annotation>TAGS</annotation>\\n before each chunk"},
    {"annotation-mask", 0, OPT_FLAG, NULL, NULL, "with --annotation-field: the annotation tokens are not targets (SFT-style data; pretraining trains on them)"},
    LMC_OPTS_END};

/* --meco-field / --annotation-field: src/tokenizer/encode_meta.c (sequential, writes OUT.mask). */
static int run_encode_meta(lmc_args *a, tok_tokenizer *t, const char *out) {
    tok_meta_opts mo = {lmc_arg_str(a, "field"), lmc_arg_str(a, "meco-field"), lmc_arg_str(a, "annotation-field"),
                        lmc_arg_flag(a, "annotation-mask")};
    tok_meta_stats st;
    lmc_err err = {0};
    int rc = tok_encode_meta_shard(t, lmc_arg_positionals(a), lmc_arg_npos(a), &mo, out, &st, &err);
    tok_free(t);
    if (rc) return lmc_fail(a, "%s", err.msg);
    if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET) {
        fprintf(stderr, "%s: %llu documents, %llu bytes, %llu tokens, %llu of them not targets%s\n", out,
                (unsigned long long)st.docs, (unsigned long long)st.bytes, (unsigned long long)st.tokens,
                (unsigned long long)st.masked, st.wrote_mask ? " (loss mask written next to it)" : "");
        if (mo.meco_field)
            fprintf(stderr, "%s: %llu documents without a \"%s\" URL (no metadata prefix)\n", out,
                    (unsigned long long)st.no_meta, mo.meco_field);
        if (mo.annotation_field)
            fprintf(stderr, "%s: %llu documents without \"%s\" (not annotated)\n", out,
                    (unsigned long long)st.no_annotation, mo.annotation_field);
    }
    return 0;
}

static int run_encode(lmc_args *a) {
    const char *sp = lmc_arg_str(a, "special");
    if (strcmp(sp, "none") && strcmp(sp, "all")) return lmc_usage_error(a, "--special must be none or all, not '%s'", sp);
    if (!lmc_arg_str(a, "tok")) return lmc_usage_error(a, "missing -t TOK");
    int allow = !strcmp(sp, "all");
    int meta = lmc_arg_str(a, "meco-field") || lmc_arg_str(a, "annotation-field");
    if (meta && !lmc_arg_str(a, "output")) return lmc_usage_error(a, "--meco-field / --annotation-field need -o OUT.bin");
    if (meta && lmc_arg_str(a, "licence-field"))
        return lmc_usage_error(a, "--licence-field counts documents as plain text; it does not combine with --meco-field / --annotation-field");
    if (lmc_arg_flag(a, "annotation-mask") && !lmc_arg_str(a, "annotation-field"))
        return lmc_usage_error(a, "--annotation-mask needs --annotation-field");
    tok_tokenizer *t;
    int rc = load(a, &t);
    if (rc) return rc;
    lmc_err err = {0};
    const char *out = lmc_arg_str(a, "output");
    if (out) {
        if (allow) {
            tok_free(t);
            return lmc_usage_error(a, "-o encodes documents as ordinary text; --special all is not supported with it");
        }
        if (meta) return run_encode_meta(a, t, out);
        lmc_progress pr;
        lmc_progress_start(&pr, "encode", 0, "B");
        tok_shard_stats st;
        rc = tok_encode_to_shard(t, lmc_arg_positionals(a), lmc_arg_npos(a), lmc_arg_str(a, "field"), out,
                                 (int)lmc_arg_int(a, "threads"), &pr, &st, &err);
        lmc_progress_finish(&pr);
        if (!rc && lmc_arg_str(a, "licence-field")) rc = write_licence_mix(a, t, out, st.tokens, &err);
        tok_free(t);
        if (rc) return lmc_fail(a, "%s", err.msg);
        /* Not an error (an empty part of a corpus is normal), but a line even with -q: it is most
         * often a wrong file or --field. */
        if (st.bytes == 0)
            fprintf(stderr, "%s: warning: the input holds no text; %s has %llu tokens\n", lmc_arg_cmdpath(a), out,
                    (unsigned long long)st.tokens);
        if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
            fprintf(stderr, "%s: %llu documents, %llu bytes, %llu tokens (%.3f bytes/token)\n", out,
                    (unsigned long long)st.docs, (unsigned long long)st.bytes, (unsigned long long)st.tokens,
                    st.tokens ? (double)st.bytes / (double)(st.tokens - st.docs ? st.tokens - st.docs : 1) : 0.0);
        return 0;
    }
    tok_encoder *e;
    if (tok_encoder_new(&e, t, &err)) {
        tok_free(t);
        return lmc_fail(a, "%s", err.msg);
    }
    tok_ids ids = {0};
    for (int i = 0; i < lmc_arg_npos(a) && !rc; i++) {
        tok_docs *d;
        if (tok_docs_open(&d, lmc_arg_pos(a, i), lmc_arg_str(a, "field"), &err)) {
            rc = lmc_fail(a, "%s", err.msg);
            break;
        }
        const char *text;
        size_t len;
        int k;
        while ((k = tok_docs_next(d, &text, &len, &err)) == 1) {
            ids.n = 0;
            if (tok_encode(e, text, len, allow, &ids, &err)) {
                rc = lmc_fail(a, "%s: %s", lmc_arg_pos(a, i), err.msg);
                break;
            }
            if (print_ids(&ids)) {
                rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
                break;
            }
        }
        if (k < 0 && !rc) rc = lmc_fail(a, "%s", err.msg);
        tok_docs_close(d);
    }
    tok_ids_free(&ids);
    tok_encoder_free(e);
    tok_free(t);
    if (!rc && fflush(stdout)) rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
    return rc;
}

/* ---- decode ---- */
static const lmc_opt decode_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer: tokenizer.json or .tiktoken rank file"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for a rank file (only needed when not inferable)"},
    {"shard", 0, OPT_FLAG, NULL, NULL, "IDS_FILE is a token shard (.bin), not decimal ids"},
    {"data-format", 0, OPT_STR, "llmc", "llmc|nanogpt", "--shard layout: llmc (header required) or nanogpt (headerless uint16)"},
    LMC_OPTS_END};

/* Parse decimal ids separated by whitespace; errors name file:line:col. */
static int parse_ids(const char *path, const char *s, size_t n, tok_ids *ids, uint32_t n_vocab, lmc_err *err) {
    uint64_t line = 1, col = 1;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\n') {
            line++;
            col = 1;
            i++;
            continue;
        }
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
    }
    return 0;
}

static int run_decode(lmc_args *a) {
    if (!lmc_arg_str(a, "tok")) return lmc_usage_error(a, "missing -t TOK");
    tok_tokenizer *t;
    int rc = load(a, &t);
    if (rc) return rc;
    lmc_err err = {0};
    const char *path = lmc_arg_npos(a) ? lmc_arg_pos(a, 0) : "-";
    tok_ids ids = {0};
    if (lmc_arg_flag(a, "shard")) {
        lmc_shard s;
        memset(&s, 0, sizeof s);
        lmc_shard_kind kind;
        if (lmc_shard_kind_parse(lmc_arg_str(a, "data-format"), &kind)) {
            tok_free(t);
            return lmc_usage_error(a, "--data-format must be llmc or nanogpt");
        }
        int opened = lmc_shard_open_kind(&s, path, kind, &err) == 0;
        if (!opened) rc = lmc_fail(a, "%s", err.msg);
        for (uint64_t i = 0; !rc && i < s.ntok; i++) {
            uint32_t v = lmc_shard_get(&s, i);
            if (v >= tok_n_vocab(t) || !tok_token_bytes(t, v, NULL))
                rc = lmc_fail(a, "%s: token %llu: id %u is not in the vocabulary (%u ids)", path,
                              (unsigned long long)i, v, tok_n_vocab(t));
            else if (tok_ids_push(&ids, v, &err))
                rc = lmc_fail(a, "%s", err.msg);
        }
        if (opened) lmc_shard_close(&s);
    } else {
        char *data;
        size_t len;
        if (lmc_read_all(path, &data, &len, &err)) rc = lmc_fail(a, "%s", err.msg);
        else {
            if (parse_ids(path, data, len, &ids, tok_n_vocab(t), &err)) rc = lmc_fail(a, "%s", err.msg);
            free(data);
        }
    }
    if (!rc) {
        lmc_buf out = {0};
        if (tok_decode(t, ids.v, ids.n, &out, &err)) rc = lmc_fail(a, "%s: %s", path, err.msg);
        else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
            rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
        lmc_buf_free(&out);
    }
    tok_ids_free(&ids);
    tok_free(t);
    if (!rc && fflush(stdout)) rc = lmc_fail(a, "writing to stdout: %s", strerror(errno));
    return rc;
}

/* ---- info ---- */
static const lmc_opt info_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer: tokenizer.json or .tiktoken rank file"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for a rank file (only needed when not inferable)"},
    LMC_OPTS_END};

static int run_info(lmc_args *a) {
    if (!lmc_arg_str(a, "tok")) return lmc_usage_error(a, "missing -t TOK");
    tok_tokenizer *t;
    int rc = load(a, &t);
    if (rc) return rc;
    tok_pattern_kind k;
    const char *pat = tok_pattern(t, &k);
    static const char *kinds[] = {"none", "gpt2", "cl100k_base", "o200k_base", "custom"};
    printf("file:        %s\nformat:      %s\nids:         %u\ntokens:      %u\nmerges:      %u%s\n",
           lmc_arg_str(a, "tok"), tok_source_format(t), tok_n_vocab(t), tok_n_tokens(t), tok_n_merges(t),
           tok_n_merges(t) ? "" : " (rank file: merges by rank of the concatenation)");
    printf("pattern:     %s\nregex:       %s\nspecial:     %zu\n", kinds[k], pat ? pat : "", tok_n_special(t));
    for (size_t i = 0; i < tok_n_special(t); i++) {
        uint32_t id;
        const char *s = tok_special(t, i, NULL, &id);
        printf("  %u %s\n", id, s);
    }
    tok_free(t);
    return 0;
}

/* ---- convert ---- */
static const lmc_opt convert_opts[] = {
    {"tok", 't', OPT_STR, NULL, "TOK", "tokenizer to convert (.tiktoken or tokenizer.json)"},
    {"pattern", 0, OPT_STR, NULL, "NAME|REGEX", "pattern for a rank file (only needed when not inferable)"},
    {"output", 'o', OPT_STR, NULL, "OUT.json", "the tokenizer.json to write"},
    LMC_OPTS_END};

static int run_convert(lmc_args *a) {
    if (!lmc_arg_str(a, "tok")) return lmc_usage_error(a, "missing -t TOK");
    if (!lmc_arg_str(a, "output")) return lmc_usage_error(a, "missing -o OUT.json");
    tok_tokenizer *t;
    int rc = load(a, &t);
    if (rc) return rc;
    lmc_err err = {0};
    if (tok_save_hf_json(t, lmc_arg_str(a, "output"), &err)) rc = lmc_fail(a, "%s", err.msg);
    tok_free(t);
    return rc;
}

/* ---- train ---- */
static const lmc_opt train_opts[] = {
    {"output", 'o', OPT_STR, NULL, "OUT.json", "the tokenizer.json to write"},
    {"vocab-size", 0, OPT_INT, NULL, "N", "vocabulary size: special tokens + 256 bytes + merges"},
    {"pattern", 0, OPT_STR, "gpt2", "NAME|REGEX", "pre-tokenization: gpt2, cl100k_base, o200k_base or a regex"},
    {"special", 0, OPT_LIST, NULL, "TOKEN", "a special token (ids 0, 1, ... in the order given)"},
    {"min-frequency", 0, OPT_INT, "0", "K", "stop when the most frequent pair occurs fewer than K times"},
    {"field", 0, OPT_STR, "text", "NAME", "JSONL field holding the document text"},
    {"threads", 0, OPT_INT, "0", "N", "threads for word counting (0 = all cores)"},
    LMC_OPTS_END};

static int run_train(lmc_args *a) {
    if (!lmc_arg_str(a, "output")) return lmc_usage_error(a, "missing -o OUT.json");
    if (!lmc_arg_is_set(a, "vocab-size")) return lmc_usage_error(a, "missing --vocab-size N");
    int64_t vs = lmc_arg_int(a, "vocab-size"), mf = lmc_arg_int(a, "min-frequency");
    if (vs < 256 || vs > 0x7FFFFFFF) return lmc_usage_error(a, "--vocab-size must be in [256, 2^31)");
    if (mf < 0) return lmc_usage_error(a, "--min-frequency must be >= 0");
    int ns = 0;
    const char *const *sp = lmc_arg_list(a, "special", &ns);
    lmc_progress pr;
    memset(&pr, 0, sizeof pr);
    tok_train_opts o = {(uint32_t)vs, lmc_arg_str(a, "pattern"), sp, ns, (uint64_t)mf, (int)lmc_arg_int(a, "threads"),
                        lmc_progress_default_mode() == LMC_PROGRESS_QUIET ? NULL : &pr};
    tok_tokenizer *t;
    lmc_err err = {0};
    if (tok_train_files(&o, lmc_arg_positionals(a), lmc_arg_npos(a), lmc_arg_str(a, "field"), &t, &err))
        return lmc_fail(a, "%s", err.msg);
    int rc = 0;
    if (tok_save_hf_json(t, lmc_arg_str(a, "output"), &err)) rc = lmc_fail(a, "%s", err.msg);
    else if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
        fprintf(stderr, "%s: %u ids, %u merges\n", lmc_arg_str(a, "output"), tok_n_vocab(t), tok_n_merges(t));
    tok_free(t);
    return rc;
}

static const lmc_command encode_cmd = {"encode", "encode text to token ids or a token shard", "[options] INPUT...",
    "A plain-text file is one document; .jsonl gives one document per line (field --field); .gz/.zst of either.\n"
    "Without -o the ids of each document are printed as one line of decimal numbers.",
    encode_opts, 1, -1, run_encode, NULL, 0};
static const lmc_command decode_cmd = {"decode", "decode token ids (or a shard) to text", "[options] [IDS_FILE]",
    "IDS_FILE (default stdin) holds decimal ids separated by whitespace, or is a token shard with --shard.",
    decode_opts, 0, 1, run_decode, NULL, 0};
static const lmc_command info_cmd = {"info", "show a tokenizer's size, pattern and special tokens", "[options]", NULL,
    info_opts, 0, 0, run_info, NULL, 0};
static const lmc_command convert_cmd = {"convert", "write a tokenizer (e.g. a .tiktoken file) as tokenizer.json",
    "[options]", NULL, convert_opts, 0, 0, run_convert, NULL, 0};

static const lmc_command train_cmd = {"train", "train a byte-level BPE tokenizer (HF BpeTrainer's algorithm)",
    "[options] INPUT...",
    "Plain-text inputs are read one line per sequence (as HF tokenizers' train(files)); .jsonl one document per\n"
    "sequence. Equal pair counts go to the smaller pair of ids (HF's tie-break), so the merges equal HF's.",
    train_opts, 1, -1, run_train, NULL, 0};

/* issue 20: cmd_tokres.c, cmd_resize_vocab.c, cmd_canon_eval.c; cmd_tokenizer_count.c */
extern const lmc_command tok_canonical_cmd, tok_eval_cmd, tok_extend_cmd, tok_resize_cmd, tok_canon_eval_cmd;
extern const lmc_command tokenizer_count_cmd;
static const lmc_command *const tok_subs[] = {&encode_cmd, &decode_cmd, &train_cmd, &info_cmd, &convert_cmd,
                                             &tok_canonical_cmd, &tok_eval_cmd, &tok_extend_cmd, &tok_resize_cmd,
                                             &tok_canon_eval_cmd, &tokenizer_count_cmd, NULL};
static const lmc_command tokenizer_cmd = {"tokenizer", "train, use and convert BPE tokenizers", "SUBCOMMAND [options]",
    NULL, NULL, 0, 0, NULL, tok_subs, 20};
LMC_COMMAND(tokenizer_cmd)
