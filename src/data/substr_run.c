/* `lmc data dedup --substring`: the driver around data_substr_spans. Pass 1 gathers every document's text
 * (joined by 0xFF) and finds the repeated spans; pass 2 reads the inputs again and writes each document
 * with its spans cut out. A span is widened to whole UTF-8 characters so the output stays valid UTF-8. */
#include "data/data.h"

#include <stdlib.h>
#include <string.h>

void data_substr_cfg_default(data_substr_cfg *c) {
    memset(c, 0, sizeof *c);
    data_read_opts_default(&c->read);
    c->min_len = 50;
    c->keep_first = 1;
    c->max_listed = 1000;
}

static int only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (!data_is_space(data_utf8_next(s, n, &i))) return 0;
    }
    return 1;
}

int data_substr_run(const data_substr_cfg *c, json_t **report, lmc_err *err) {
    *report = json_object();
    double t0 = lmc_now();
    int rc = -1;
    data_reader *r = NULL;
    data_writer *out = NULL;
    lmc_buf all = {0}, text = {0};
    uint32_t *off = NULL;
    size_t noff = 0, offcap = 0;
    data_span *sp = NULL;
    size_t nsp = 0;
    json_t *listed = json_array();
    if (!c->report_only && !c->output) { lmc_errf(err, LMC_EINVAL, "substring dedup: -o OUT is required (or --report-only)"); goto done; }
    if (c->min_len < 1) { lmc_errf(err, LMC_EINVAL, "substring dedup: --min-len must be >= 1, got %d", c->min_len); goto done; }
    data_read_opts ro = c->read;
    ro.threads = c->threads;
    if (data_reader_open(&r, c->inputs, c->ninputs, &ro, err) < 0) goto done;

    /* ---- pass 1: the corpus as one byte string ---- */
    for (;;) {
        data_doc *docs;
        long nd = data_reader_batch(r, 4096, (size_t)8 << 20, &docs, err);
        if (nd < 0) goto done;
        if (nd == 0) break;
        for (long i = 0; i < nd; i++) {
            if (all.len + docs[i].text_len + 1 > (size_t)INT32_MAX) {
                lmc_errf(err, LMC_EINVAL, "substring dedup: more than 2 GB of text in one run (%s:%llu); split the corpus",
                         data_reader_path(r, docs[i].file_id), (unsigned long long)docs[i].line);
                goto done;
            }
            if (noff == offcap) {
                offcap = offcap ? offcap * 2 : 4096;
                uint32_t *p = realloc(off, offcap * sizeof *p);
                if (!p) { lmc_errf(err, LMC_ENOMEM, "out of memory"); goto done; }
                off = p;
            }
            off[noff++] = (uint32_t)all.len;
            if (lmc_buf_append(&all, docs[i].text, docs[i].text_len, err) < 0 || lmc_buf_append(&all, "\xff", 1, err) < 0)
                goto done;
        }
    }
    uint64_t bytes_in = all.len - noff;
    if (data_substr_spans((const uint8_t *)all.data, (int32_t)all.len, c->min_len, c->keep_first, &sp, &nsp, err) < 0)
        goto done;

    /* ---- pass 2: cut ---- */
    if (data_reader_rewind(r, err) < 0) goto done;
    if (!c->report_only && data_writer_open(&out, c->output, err) < 0) goto done;
    const char *field = c->read.field ? c->read.field : "text";
    uint64_t k = 0, removed_bytes = 0, changed = 0, emptied = 0, docs_out = 0;
    size_t si = 0;  /* first span that may still overlap the current document */
    for (;;) {
        data_doc *docs;
        long nd = data_reader_batch(r, 4096, (size_t)8 << 20, &docs, err);
        if (nd < 0) goto done;
        if (nd == 0) break;
        for (long i = 0; i < nd; i++, k++) {
            const data_doc *d = &docs[i];
            if (k >= noff || (k + 1 < noff ? off[k + 1] - off[k] - 1 : all.len - off[k] - 1) != d->text_len) {
                lmc_errf(err, LMC_EFORMAT, "substring dedup: the input changed between the two passes (%s:%llu)",
                         data_reader_path(r, d->file_id), (unsigned long long)d->line);
                goto done;
            }
            size_t ds = off[k], de = ds + d->text_len;
            while (si < nsp && sp[si].end <= ds) si++;
            text.len = 0;
            size_t at = 0, cut = 0;  /* at: next byte of the document to copy */
            for (size_t j = si; j < nsp && sp[j].start < de; j++) {
                size_t a = sp[j].start - ds, b = sp[j].end - ds;  /* spans never cross a separator */
                while (a > 0 && ((unsigned char)d->text[a] & 0xC0) == 0x80) a--;
                while (b < d->text_len && ((unsigned char)d->text[b] & 0xC0) == 0x80) b++;
                if (a < at) a = at;
                if (b <= a) continue;
                if (lmc_buf_append(&text, d->text + at, a - at, err) < 0) goto done;
                if (json_array_size(listed) < c->max_listed) {
                    json_t *o = json_object();
                    json_object_set_new(o, "doc", json_integer((json_int_t)k));
                    json_object_set_new(o, "file", json_string(data_reader_path(r, d->file_id)));
                    json_object_set_new(o, "line", json_integer((json_int_t)d->line));
                    json_object_set_new(o, "start", json_integer((json_int_t)a));
                    json_object_set_new(o, "end", json_integer((json_int_t)b));
                    size_t pl = b - a < 80 ? b - a : 80;
                    while (pl < b - a && ((unsigned char)d->text[a + pl] & 0xC0) == 0x80) pl++;
                    json_object_set_new(o, "text", json_stringn(d->text + a, pl));
                    json_array_append_new(listed, o);
                }
                cut += b - a;
                at = b;
            }
            if (!cut) {
                docs_out++;
                if (out && data_writer_doc(out, d, field, err) < 0) goto done;
                continue;
            }
            if (lmc_buf_append(&text, d->text + at, d->text_len - at, err) < 0) goto done;
            removed_bytes += cut;
            changed++;
            if (only_space(text.data, text.len)) { emptied++; continue; }
            docs_out++;
            if (out && data_writer_doc_text(out, d, field, text.data, text.len, err) < 0) goto done;
        }
    }
    if (k != noff) { lmc_errf(err, LMC_EFORMAT, "substring dedup: the input changed between the two passes"); goto done; }
    if (out) {
        int e = data_writer_commit(out, err);
        out = NULL;
        if (e < 0) goto done;
    }
    json_t *rep = *report, *sd = json_object();
    json_t *ins = json_array();
    for (size_t i = 0; i < c->ninputs; i++) json_array_append_new(ins, json_string(c->inputs[i]));
    json_object_set_new(rep, "inputs", ins);
    if (c->output) json_object_set_new(rep, "output", json_string(c->output));
    json_object_set_new(rep, "documents_in", json_integer((json_int_t)noff));
    json_object_set_new(rep, "bytes_in", json_integer((json_int_t)bytes_in));
    json_object_set_new(rep, "documents_out", json_integer((json_int_t)(c->report_only ? noff : docs_out)));
    json_object_set_new(rep, "skipped_input_lines", json_integer((json_int_t)data_reader_nskipped(r)));
    json_object_set_new(sd, "method",
                        json_string(c->keep_first
                                        ? "suffix array (libdivsufsort) of all documents joined by 0xFF; longest previous "
                                          "factor per byte; spans of >= min_len bytes that occurred earlier are removed "
                                          "(the first occurrence stays); widened to whole UTF-8 characters"
                                        : "suffix array (libdivsufsort) of all documents joined by 0xFF; every byte in a "
                                          "repeat of >= min_len bytes is removed, all occurrences (Lee et al. 2022); "
                                          "widened to whole UTF-8 characters"));
    json_object_set_new(sd, "min_len_bytes", json_integer(c->min_len));
    json_object_set_new(sd, "keep", json_string(c->keep_first ? "first" : "none"));
    json_object_set_new(sd, "report_only", json_boolean(c->report_only));
    json_object_set_new(sd, "spans", json_integer((json_int_t)nsp));
    json_object_set_new(sd, "bytes_removed", json_integer((json_int_t)removed_bytes));
    json_object_set_new(sd, "removed_share", json_real(bytes_in ? (double)removed_bytes / (double)bytes_in : 0));
    json_object_set_new(sd, "documents_changed", json_integer((json_int_t)changed));
    json_object_set_new(sd, "documents_emptied", json_integer((json_int_t)emptied));
    size_t mem = all.len * 9 + noff * sizeof *off + nsp * sizeof *sp;
    json_object_set_new(sd, "memory_bytes", json_integer((json_int_t)mem));
    json_object_set_new(sd, "memory_bytes_per_input_byte", json_real(all.len ? (double)mem / (double)all.len : 0));
    json_object_set_new(sd, "listed", listed);
    listed = NULL;
    json_object_set_new(rep, "substring_dedup", sd);
    json_object_set_new(rep, "seconds", json_real(lmc_now() - t0));
    rc = 0;
done:
    if (out) data_writer_abort(out);
    data_reader_close(r);
    lmc_buf_free(&all);
    lmc_buf_free(&text);
    free(off);
    free(sp);
    json_decref(listed);
    return rc;
}
