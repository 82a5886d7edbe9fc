/* Fuzz target: a classifier model file (`lmc data classify score --model`: lmc's format or fastText's .bin).
 * Any bytes must give a model or an error naming the file; a model that loads must predict probabilities
 * that sum to 1 and save (as lmc's format) and load back (to the same bytes for lmc's format). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "base/io.h"
#include "data/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    data_clf *m = NULL;
    lmc_err err = {0};
    if (data_clf_load_mem(data, size, "model.lmcft", &m, &err)) {
        if (m || !strstr(err.msg, "model.lmcft")) abort();
        return 0;
    }
    float p[65536];
    data_clf_scratch s = {0};
    const char *text = "the quick brown fox \xc3\xa9t\xc3\xa9 jumps";
    if (data_clf_predict(m, text, strlen(text), p, &s, &err)) abort();
    double z = 0;
    for (int i = 0; i < data_clf_nlabels(m); i++) z += p[i];
    /* finite weights can still overflow to inf in a dot product: then the sum is not 1 (NaN); only check
     * finite results */
    if (isfinite(z) && fabs(z - 1) > 1e-3) abort();
    char out[512];
    snprintf(out, sizeof out, "%s/saved.lmcft", fuzz_dir());
    if (data_clf_save(m, out, &err)) abort();
    char *back;
    size_t n;
    if (lmc_read_file(out, &back, &n, &err)) abort();
    /* lmc's format saves back to the same bytes; a fastText .bin becomes an lmc file that loads */
    if (size >= 5 && !memcmp(data, "LMCFT", 5)) {
        if (n != size || memcmp(back, data, size)) abort();
    } else {
        data_clf *b = NULL;
        if (data_clf_load_mem(back, n, "saved", &b, &err)) abort();
        data_clf_free(b);
    }
    free(back);
    data_clf_scratch_free(&s);
    data_clf_free(m);
    return 0;
}
