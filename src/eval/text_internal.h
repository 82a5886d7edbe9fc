/* Internal to src/eval: UTF-8 and Python-whitespace helpers. */
#ifndef LMC_EVAL_TEXT_INTERNAL_H
#define LMC_EVAL_TEXT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
/* Python's str.isspace for one code point (what re's \s and str.strip use). */
int lmc_py_space(uint32_t c);
/* The code point at s[i] of n bytes (*len its length), or before `end` (*start its first byte);
 * an invalid byte is one code point of its own. */
uint32_t lmc_cp_at(const char *s, size_t i, size_t n, size_t *len);
uint32_t lmc_cp_before(const char *s, size_t end, size_t *start);
#endif
