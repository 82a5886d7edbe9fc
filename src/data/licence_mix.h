/* The licence mix of a token shard (src/data/licence_mix.c): tokens and documents per licence value, written
 * by `lmc tokenizer encode -o OUT.bin --licence-field license` next to the shard as OUT.bin.licences.json. */
#ifndef LMC_DATA_LICENCE_MIX_H
#define LMC_DATA_LICENCE_MIX_H

#include "data/data.h"
#include "tokenizer/tokenizer.h"

/* Encode every document of the inputs as the shard writer does (ordinary text + <|endoftext|>), and count
 * tokens and documents per value of the string field `licence_field` ("(missing)" when absent; at most 1000
 * distinct values, the rest together). *out: {"licence_field", "documents", "tokens", "licences": {value:
 * {"documents", "tokens", "token_share"}}}. The same for any thread count. */
int data_licence_mix(const tok_tokenizer *t, const char *const *inputs, size_t ninputs, const char *field,
                     const char *licence_field, int threads, json_t **out, lmc_err *err);

#endif
