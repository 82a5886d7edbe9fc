/* Document reader: JSONL (one document per line, text in a configurable field) and plain text (one
 * document per file, or split by a PCRE2 regex), each plain / .gz / .zst (via the base readers).
 *
 * Lines that are not documents (invalid JSON, no string text field, invalid UTF-8, too long) are
 * skipped and counted with file:line, or are a hard error with `strict`. Blank lines are not documents. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/data.h"

#include <omp.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* One input line or document of the batch being assembled. JSONL lines are decoded in parallel after
 * the batch is read; skips and documents are then taken in input order. */
enum { P_JSONL = 0, P_READY, P_TOO_LONG, P_SKIPMSG };
typedef struct pending {
    uint32_t file_id;
    int kind;
    uint64_t line;
    size_t raw_off, raw_len;    /* JSONL line in store */
    size_t text_off, text_len;  /* P_READY: text in store; P_JSONL: decoded length in dbuf after decoding */
    int rc, found;              /* decode result */
    const char *msg;
    size_t col;
    char *smsg;                 /* P_SKIPMSG: the reason (owned) */
} pending;

struct data_reader {
    char **paths;
    size_t npaths;
    data_read_opts o;
    pcre2_code *sep;
    pcre2_match_data *md;

    size_t cur;            /* current file index */
    int is_jsonl;
    lmc_lines *lines;      /* JSONL: open line reader */
    char *tbuf;            /* text mode: whole decompressed file */
    size_t tlen, tpos;     /* next document starts at tpos */
    uint64_t tline;        /* 1-based line at tpos */
    int topen;

    lmc_buf store;         /* batch text/raw bytes */
    char *dbuf;            /* decoded JSONL texts, at the same offsets as their raw lines in store */
    size_t dbuf_cap;
    struct pending *pend;  /* the batch's lines/documents in input order, before decoding */
    size_t npend, pend_cap;
    data_doc *docs;
    size_t docs_cap;

    uint64_t ndocs, nbytes, nskipped;
    data_skip *skips;
    size_t nskips;
};

void data_read_opts_default(data_read_opts *o) {
    memset(o, 0, sizeof *o);
    o->field = "text";
    o->max_doc_bytes = (size_t)256 << 20;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int data_path_is_jsonl(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t n = strlen(tmp);
    if (ends_with(tmp, ".gz")) tmp[n - 3] = 0;
    else if (ends_with(tmp, ".zst")) tmp[n - 4] = 0;
    return ends_with(tmp, ".jsonl") || ends_with(tmp, ".json") || ends_with(tmp, ".ndjson");
}

int data_reader_open(data_reader **out, const char *const *paths, size_t npaths, const data_read_opts *o,
                     lmc_err *err) {
    *out = NULL;
    data_reader *r = calloc(1, sizeof *r);
    if (!r) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    r->o = *o;
    if (!r->o.field) r->o.field = "text";
    r->paths = calloc(npaths ? npaths : 1, sizeof *r->paths);
    r->skips = calloc(DATA_SKIPS_KEPT, sizeof *r->skips);
    if (!r->paths || !r->skips) { data_reader_close(r); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    for (size_t i = 0; i < npaths; i++) {
        r->paths[i] = strdup(paths[i]);
        if (!r->paths[i]) { data_reader_close(r); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
        r->npaths = i + 1;
    }
    if (o->doc_separator) {
        int ec;
        PCRE2_SIZE eo;
        r->sep = pcre2_compile((PCRE2_SPTR)o->doc_separator, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MULTILINE,
                               &ec, &eo, NULL);
        if (!r->sep) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            data_reader_close(r);
            return lmc_errf(err, LMC_EINVAL, "--doc-separator '%s': at offset %zu: %s", o->doc_separator,
                            (size_t)eo, (char *)msg);
        }
        pcre2_jit_compile(r->sep, PCRE2_JIT_COMPLETE);
        r->md = pcre2_match_data_create_from_pattern(r->sep, NULL);
        if (!r->md) { data_reader_close(r); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    }
    *out = r;
    return 0;
}

static void close_current(data_reader *r) {
    if (r->lines) lmc_lines_close(r->lines);
    r->lines = NULL;
    free(r->tbuf);
    r->tbuf = NULL;
    r->topen = 0;
}

void data_reader_close(data_reader *r) {
    if (!r) return;
    close_current(r);
    for (size_t i = 0; i < r->npaths; i++) free(r->paths[i]);
    free(r->paths);
    free(r->skips);
    if (r->md) pcre2_match_data_free(r->md);
    if (r->sep) pcre2_code_free(r->sep);
    lmc_buf_free(&r->store);
    free(r->dbuf);
    free(r->pend);
    free(r->docs);
    free(r);
}

int data_reader_rewind(data_reader *r, lmc_err *err) {
    (void)err;
    close_current(r);
    r->cur = 0;
    r->ndocs = r->nbytes = r->nskipped = 0;
    r->nskips = 0;
    return 0;
}

uint64_t data_reader_nskipped(const data_reader *r) { return r->nskipped; }
const data_skip *data_reader_skips(const data_reader *r, size_t *n) { *n = r->nskips; return r->skips; }
uint64_t data_reader_bytes(const data_reader *r) { return r->nbytes; }
uint64_t data_reader_docs(const data_reader *r) { return r->ndocs; }
const char *data_reader_path(const data_reader *r, uint32_t id) { return id < r->npaths ? r->paths[id] : "?"; }

/* Record a skipped line; with strict, turn it into the error. Returns 0 (skipped) or <0 (strict). */
static int skip_in(data_reader *r, uint32_t file_id, uint64_t line, lmc_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int skip_in(data_reader *r, uint32_t file_id, uint64_t line, lmc_err *err, const char *fmt, ...) {
    char msg[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->o.strict)
        return lmc_err_at(err, LMC_EFORMAT, r->paths[file_id], line, 0, "%s (run without --strict to skip it)", msg);
    if (r->nskips < DATA_SKIPS_KEPT) {
        data_skip *s = &r->skips[r->nskips++];
        s->file_id = file_id;
        s->line = line;
        snprintf(s->reason, sizeof s->reason, "%s", msg);
    }
    r->nskipped++;
    return 0;
}

static pending *pend_new(data_reader *r, int kind, uint64_t line) {
    if (r->npend == r->pend_cap) {
        size_t nc = r->pend_cap ? r->pend_cap * 2 : 1024;
        pending *p = realloc(r->pend, nc * sizeof *p);
        if (!p) return NULL;
        r->pend = p;
        r->pend_cap = nc;
    }
    pending *p = &r->pend[r->npend++];
    memset(p, 0, sizeof *p);
    p->file_id = (uint32_t)r->cur;
    p->kind = kind;
    p->line = line;
    return p;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

/* One JSONL line: queued for decoding (or as too long). Blank lines are not documents. */
static int jsonl_line(data_reader *r, const char *line, size_t len, uint64_t lineno, lmc_err *err) {
    if (is_blank(line, len)) return 0;
    int too_long = r->o.max_doc_bytes && len > r->o.max_doc_bytes;
    pending *p = pend_new(r, too_long ? P_TOO_LONG : P_JSONL, lineno);
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    p->raw_len = len;
    if (too_long) return 0;
    p->raw_off = r->store.len;
    return lmc_buf_append(&r->store, line, len, err) < 0 ? -1 : 0;
}

/* A plain-text document: queued as ready, or as a skip with its reason. */
static int text_doc(data_reader *r, const char *s, size_t len, uint64_t lineno, lmc_err *err) {
    if (len == 0) return 0;
    char msg[96] = "";
    size_t bad;
    uint64_t line = lineno;
    if (r->o.max_doc_bytes && len > r->o.max_doc_bytes) {
        snprintf(msg, sizeof msg, "document of %zu bytes is longer than the limit of %zu bytes", len, r->o.max_doc_bytes);
    } else if (!data_utf8_valid(s, len, &bad)) {
        for (size_t i = 0; i < bad; i++) line += s[i] == '\n';
        snprintf(msg, sizeof msg, "invalid UTF-8 at byte %zu of the document", bad);
    }
    pending *p = pend_new(r, msg[0] ? P_SKIPMSG : P_READY, line);
    if (!p) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    if (msg[0]) {
        p->smsg = strdup(msg);
        return p->smsg ? 0 : lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    p->text_off = r->store.len;
    p->text_len = len;
    return lmc_buf_append(&r->store, s, len, err) < 0 ? -1 : 0;
}

static uint64_t count_nl(const char *s, size_t n) {
    uint64_t c = 0;
    const char *p = s, *e = s + n;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) { c++; p++; }
    return c;
}

/* Next document of a text-mode file; 1 = produced or skipped something, 0 = file done. */
static int text_next(data_reader *r, lmc_err *err) {
    if (r->tpos >= r->tlen) return 0;
    const char *s = r->tbuf + r->tpos;
    size_t rest = r->tlen - r->tpos;
    if (!r->sep) {
        r->tpos = r->tlen;
        return text_doc(r, s, rest, 1, err) < 0 ? -1 : 1;
    }
    int rc = pcre2_match(r->sep, (PCRE2_SPTR)r->tbuf, r->tlen, r->tpos, PCRE2_NO_UTF_CHECK, r->md, NULL);
    size_t dend, next;
    if (rc == PCRE2_ERROR_NOMATCH) {
        dend = next = r->tlen;
    } else if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return lmc_err_off(err, LMC_EFORMAT, r->paths[r->cur], r->tpos, "--doc-separator match failed: %s",
                           (char *)msg);
    } else {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
        dend = ov[0];
        next = ov[1] > ov[0] ? ov[1] : ov[1] + 1;  /* an empty match still makes progress */
        if (next > r->tlen) next = r->tlen;
    }
    uint64_t line = r->tline;
    if (text_doc(r, s, dend - r->tpos, line, err) < 0) return -1;
    r->tline += count_nl(s, next - r->tpos);
    r->tpos = next;
    return 1;
}

static int open_current(data_reader *r, lmc_err *err) {
    const char *p = r->paths[r->cur];
    r->is_jsonl = r->o.format == DATA_FMT_JSONL || (r->o.format == DATA_FMT_AUTO && data_path_is_jsonl(p));
    if (r->is_jsonl) return lmc_lines_open(&r->lines, p, err);
    char *data;
    size_t len;
    if (lmc_read_all(p, &data, &len, err) < 0) return -1;
    r->tbuf = data;
    r->tlen = len;
    r->tpos = 0;
    r->tline = 1;
    r->topen = 1;
    /* The regex runs with PCRE2_NO_UTF_CHECK; a file with invalid UTF-8 is split on bytes then. */
    if (r->sep && !data_utf8_valid(data, len, NULL)) {
        pcre2_code_free(r->sep);
        int ec;
        PCRE2_SIZE eo;
        r->sep = pcre2_compile((PCRE2_SPTR)r->o.doc_separator, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &ec, &eo,
                               NULL);
        if (!r->sep) return lmc_errf(err, LMC_EINVAL, "--doc-separator: cannot compile for bytes");
        pcre2_match_data_free(r->md);
        r->md = pcre2_match_data_create_from_pattern(r->sep, NULL);
        if (!r->md) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    return 0;
}

/* Add the document of pending entry p (text at `text`) to the batch. */
static int add_doc(data_reader *r, size_t *nd, const pending *p, const char *text, size_t tlen, lmc_err *err) {
    if (*nd == r->docs_cap) {
        size_t nc = r->docs_cap ? r->docs_cap * 2 : 1024;
        data_doc *q = realloc(r->docs, nc * sizeof *q);
        if (!q) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        r->docs = q;
        r->docs_cap = nc;
    }
    data_doc *d = &r->docs[(*nd)++];
    memset(d, 0, sizeof *d);
    d->index = r->ndocs++;
    d->file_id = p->file_id;
    d->line = p->line;
    d->text = text;
    d->text_len = tlen;
    if (p->kind == P_JSONL) {
        d->raw = r->store.data + p->raw_off;
        d->raw_len = p->raw_len;
    }
    r->nbytes += tlen;
    return 0;
}

static long batch_once(data_reader *r, size_t max_docs, size_t max_bytes, data_doc **docs, lmc_err *err);

long data_reader_batch(data_reader *r, size_t max_docs, size_t max_bytes, data_doc **docs, lmc_err *err) {
    /* a batch of only skipped lines is not the end: read on until a document or the end */
    for (;;) {
        long n = batch_once(r, max_docs, max_bytes, docs, err);
        if (n != 0 || r->cur >= r->npaths) return n;
    }
}

static long batch_once(data_reader *r, size_t max_docs, size_t max_bytes, data_doc **docs, lmc_err *err) {
    size_t nd = 0;
    r->store.len = 0;
    r->npend = 0;
    if (lmc_buf_reserve(&r->store, 1, err) < 0) return -1;  /* data != NULL even for empty texts */
    while (r->npend < max_docs && r->store.len < max_bytes && r->cur < r->npaths) {
        if (!r->lines && !r->topen) {
            if (open_current(r, err) < 0) return -1;
        }
        int more;
        if (r->is_jsonl) {
            const char *line;
            size_t len;
            more = lmc_lines_next(r->lines, &line, &len, err);
            if (more < 0) return -1;
            if (more > 0 && jsonl_line(r, line, len, lmc_lines_lineno(r->lines), err) < 0) return -1;
        } else {
            more = text_next(r, err);
            if (more < 0) return -1;
        }
        if (!more) {
            close_current(r);
            r->cur++;
        }
    }
    /* decode the JSONL lines in parallel; each text goes to dbuf at its line's offset in store (a JSON
     * string never decodes to more bytes than it takes, so the slots cannot overlap) */
    if (r->dbuf_cap < r->store.len + 1) {
        free(r->dbuf);
        r->dbuf_cap = r->store.len + 1;
        r->dbuf = malloc(r->dbuf_cap);
        if (!r->dbuf) { r->dbuf_cap = 0; return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    }
    long np = (long)r->npend;
    const char *field = r->o.field;
#pragma omp parallel for schedule(dynamic, 32) num_threads(r->o.threads > 0 ? r->o.threads : omp_get_max_threads()) if (np > 64)
    for (long i = 0; i < np; i++) {
        pending *p = &r->pend[i];
        if (p->kind != P_JSONL) continue;
        lmc_buf b = {r->dbuf + p->raw_off, 0, p->raw_len};
        p->rc = data_json_line_field(r->store.data + p->raw_off, p->raw_len, field, &b, &p->found, &p->msg, &p->col);
        p->text_len = b.len;
    }
    /* documents and skips in input order */
    int rc = 0;
    for (size_t i = 0; i < r->npend; i++) {
        pending *p = &r->pend[i];
        if (rc < 0) { free(p->smsg); continue; }
        switch (p->kind) {
        case P_TOO_LONG:
            rc = skip_in(r, p->file_id, p->line, err, "line of %zu bytes is longer than the limit of %zu bytes",
                         p->raw_len, r->o.max_doc_bytes);
            break;
        case P_SKIPMSG:
            rc = skip_in(r, p->file_id, p->line, err, "%s", p->smsg);
            free(p->smsg);
            break;
        case P_READY:
            rc = add_doc(r, &nd, p, r->store.data + p->text_off, p->text_len, err);
            break;
        default:
            if (p->rc < 0)
                rc = skip_in(r, p->file_id, p->line, err, "invalid JSON at column %zu: %.60s", p->col,
                             p->msg ? p->msg : "?");
            else if (p->rc > 0)
                rc = skip_in(r, p->file_id, p->line, err, "not a JSON object");
            else if (!p->found)
                rc = skip_in(r, p->file_id, p->line, err, "no string field \"%.40s\"", r->o.field);
            else
                rc = add_doc(r, &nd, p, r->dbuf + p->raw_off, p->text_len, err);
        }
    }
    r->npend = 0;
    if (rc < 0) return -1;
    *docs = r->docs;
    return (long)nd;
}
