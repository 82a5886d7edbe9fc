/* `lmc tokenizer encode --meco-field / --annotation-field`: documents of JSONL inputs with metadata
 * written into the token stream, plus the loss-mask sidecar (src/data/mask.h) that says which tokens are
 * targets. Sequential (one encoder): the documents' own tokens are exactly those of the plain encoder.
 *
 * Per document, in this order (docs/train.md, "Loss masks, MeCo and annotation anchoring"):
 *   MeCo (TECHNIQUES.md §9a): tok("URL: " + host + "\n\n"), tokenised as one string, mask 0; host = the
 *     field's URL minus its "scheme://", cut at the first "/". A document whose field is missing, null or
 *     gives an empty host gets no prefix (counted in no_meta).
 *   Annotations (§9b): the text is split into chunks at blank lines (a chunk ends after a run of two or more
 *     "\n"; the run stays with the chunk before it); the field is a JSON array with one tag string per
 *     chunk, and each chunk is written as tok("<annotation>" + tag + "</annotation>\n") tok(chunk). The
 *     annotation tokens have mask 1 (pretraining trains on them, as the paper does) or 0 with
 *     annotation_mask (SFT-style data). A missing or null field: the document is written unannotated
 *     (counted in no_annotation); an array of the wrong length is an error naming file:line.
 *   Then the document's tokens (mask 1) and <|endoftext|> (mask 1).
 * The end-of-text that ends a document is a target (it is the paper's EOS, which MeCo predicts); the next
 * document's metadata tokens are not. The mask is written only when some token can be masked (a MeCo
 * field, or annotation_mask); it is OUT with ".bin" replaced by ".mask". */
#ifndef LMC_TOKENIZER_ENCODE_META_H
#define LMC_TOKENIZER_ENCODE_META_H

#include <stdint.h>
#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef struct tok_meta_opts {
    const char *field;            /* the document text ("text") */
    const char *meco_field;       /* NULL = no MeCo prefix */
    const char *annotation_field; /* NULL = no annotations */
    int annotation_mask;          /* 1: annotation tokens are not targets */
} tok_meta_opts;

typedef struct tok_meta_stats {
    uint64_t docs, tokens, masked, bytes, no_meta, no_annotation;
    int wrote_mask;
} tok_meta_stats;

/* The MeCo host of a URL: [url, url+len) minus "scheme://", up to the first '/'. Sets *host / *hlen. */
void tok_meco_host(const char *url, size_t len, const char **host, size_t *hlen);
int tok_encode_meta_shard(const tok_tokenizer *t, const char *const *inputs, int n_inputs, const tok_meta_opts *o,
                          const char *out_path, tok_meta_stats *stats, lmc_err *err);

#endif
