/* Fuzz target: a checkpoint's trainer_state.json (read on --resume and run.init_from). Any bytes must
 * give a state or an error naming the file; a state that loads must save and load back identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_util.h"
#include "train/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("trainer_state.json", data, size);
    train_state a, b;
    lmc_err err = {0};
    if (train_state_load(path, &a, &err)) {
        if (!strstr(err.msg, "trainer_state.json")) abort();
        return 0;
    }
    char out[512];
    snprintf(out, sizeof out, "%s/saved.json", fuzz_dir());
    if (train_state_save(out, &a, &err) || train_state_load(out, &b, &err)) abort();
    if (a.step != b.step || a.adam_step != b.adam_step || a.data_epoch != b.data_epoch || a.data_pos != b.data_pos ||
        a.sample_rng.seed != b.sample_rng.seed || a.sample_rng.counter != b.sample_rng.counter ||
        a.sample_rng.used != b.sample_rng.used || a.tokens != b.tokens || a.nonfinite_run != b.nonfinite_run ||
        a.nonfinite_total != b.nonfinite_total || memcmp(&a.elapsed_s, &b.elapsed_s, sizeof a.elapsed_s))
        abort();
    /* the mixture state (data.sources): names are zero-padded and doubles exact, so the bytes agree */
    if (a.n_mix != b.n_mix || a.mix_have_init != b.mix_have_init || a.mix_updates != b.mix_updates ||
        memcmp(a.mix, b.mix, sizeof a.mix))
        abort();
    return 0;
}
