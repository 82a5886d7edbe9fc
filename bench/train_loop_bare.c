/* The bare model-core step, for bench/train_loop.sh: zero_grad, forward, backward, clip, AdamW on a
 * fixed random batch, nothing else. Prints the wall time of steps (warmup, steps] in seconds. */
#include <stdio.h>
#include <stdlib.h>
#include "base/base.h"
#include "model/gpt2.h"

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: %s L H D T B V STEPS WARMUP\n", argv[0]);
        return 2;
    }
    gpt2_config c = {.n_layer = atoi(argv[1]), .n_head = atoi(argv[2]), .d_model = atoi(argv[3]), .max_seq = atoi(argv[4]), .vocab_size = atoi(argv[6])};
    int T = atoi(argv[4]), B = atoi(argv[5]), steps = atoi(argv[7]), warm = atoi(argv[8]);
    lmc_err err;
    gpt2_model *m;
    if (gpt2_create(&m, &c, &err) || gpt2_enable_training(m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    gpt2_init_random(m, 1);
    int32_t *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg);
    lmc_rng r;
    lmc_rng_init(&r, 3);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int32_t)lmc_rng_below(&r, (uint64_t)c.vocab_size);
        tg[i] = (int32_t)lmc_rng_below(&r, (uint64_t)c.vocab_size);
    }
    gpt2_adamw hp = {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f};
    double t0 = lmc_now();
    for (int s = 1; s <= steps; s++) {
        float loss;
        gpt2_zero_grad(m);
        if (gpt2_forward(m, in, tg, B, T, &loss, &err) || gpt2_backward(m, 1.0f, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        gpt2_clip_grad(m, 1.0);
        gpt2_adamw_step(m, &hp, &err);
        double t1 = lmc_now();
        if (s > warm) printf("%.6f\n", t1 - t0);
        t0 = t1;
    }
    gpt2_free(m);
    free(in);
    free(tg);
    return 0;
}
