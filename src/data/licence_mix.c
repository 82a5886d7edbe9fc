/* Tokens per licence of a corpus (see licence_mix.h). */
#include "data/licence_mix.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

int data_licence_mix(const tok_tokenizer *t, const char *const *inputs, size_t ninputs, const char *field,
                     const char *licence_field, int threads, json_t **out, lmc_err *err) {
    *out = NULL;
    int64_t eot = tok_eot_id(t);
    if (eot < 0) return lmc_errf(err, LMC_EINVAL, "the tokenizer has no <|endoftext|> token");
    int nt = threads > 0 ? threads : omp_get_max_threads();
    data_read_opts ro;
    data_read_opts_default(&ro);
    ro.field = field;
    ro.max_doc_bytes = 0;
    data_reader *r = NULL;
    data_counter *tok = data_counter_new(1000), *docs = data_counter_new(1000);
    tok_encoder **enc = calloc((size_t)nt, sizeof *enc);
    uint64_t *ntok = NULL;
    int rc = !tok || !docs || !enc ? lmc_errf(err, LMC_ENOMEM, "out of memory") : 0;
    for (int i = 0; i < nt && !rc; i++) rc = tok_encoder_new(&enc[i], t, err);
    if (!rc) rc = data_reader_open(&r, inputs, ninputs, &ro, err);
    if (!rc && !(ntok = malloc(4096 * sizeof *ntok))) rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
    uint64_t total = 0, ndocs = 0;
    lmc_buf lic = {0};
    while (!rc) {
        data_doc *d;
        long nd = data_reader_batch(r, 4096, 64u << 20, &d, err);
        if (nd < 0) { rc = -1; break; }
        if (nd == 0) break;
        int fail = 0;
        lmc_err e1 = {0};
#pragma omp parallel num_threads(nt)
        {
            tok_ids ids = {0};
            lmc_err le = {0};
#pragma omp for schedule(dynamic, 16)
            for (long i = 0; i < nd; i++) {
                ids.n = 0;
                if (tok_encode(enc[omp_get_thread_num()], d[i].text, d[i].text_len, 0, &ids, &le) < 0) {
#pragma omp critical
                    { fail = 1; e1 = le; }
                }
                ntok[i] = ids.n + 1;   /* + <|endoftext|> */
            }
            tok_ids_free(&ids);
        }
        if (fail) { *err = e1; rc = -1; break; }
        for (long i = 0; i < nd && !rc; i++) {
            int has = data_doc_field(&d[i], licence_field, &lic);
            const char *v = has ? lic.data : "(missing)";
            size_t vl = has ? lic.len : 9;
            if (data_counter_add(tok, v, vl, ntok[i]) < 0 || data_counter_add(docs, v, vl, 1) < 0)
                rc = lmc_errf(err, LMC_ENOMEM, "out of memory");
            total += ntok[i];
            ndocs++;
        }
    }
    if (!rc) {
        json_t *o = json_object(), *tj = data_counter_json(tok), *dj = data_counter_json(docs), *l = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(tj, k, v) {
            json_int_t n = json_integer_value(v);
            json_object_set_new(l, k, json_pack("{s:I,s:I,s:f}", "documents", json_integer_value(json_object_get(dj, k)),
                                                "tokens", n, "token_share", total ? (double)n / (double)total : 0.0));
        }
        json_decref(tj);
        json_decref(dj);
        json_object_set_new(o, "licence_field", json_string(licence_field));
        json_object_set_new(o, "documents", json_integer((json_int_t)ndocs));
        json_object_set_new(o, "tokens", json_integer((json_int_t)total));
        json_object_set_new(o, "tokens_counted", json_string("each document's tokens plus its <|endoftext|>, as in the shard"));
        json_object_set_new(o, "licences", l);
        *out = o;
    }
    lmc_buf_free(&lic);
    free(ntok);
    for (int i = 0; enc && i < nt; i++)
        if (enc[i]) tok_encoder_free(enc[i]);
    free(enc);
    data_counter_free(tok);
    data_counter_free(docs);
    data_reader_close(r);
    return rc;
}
