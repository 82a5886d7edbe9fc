/* Benchmark: one optimizer step per train.optimizer on a GPT-2 of the given size, random gradients.
 * Prints per optimizer: optimizer-state bytes (optim_state_bytes: what the method needs besides
 * parameters and gradients), the same relative to AdamW, and the median step time.
 * usage: optim_step --L 6 --H 6 --d 384 --T 256 --V 8192 --steps 5 --threads 2 [--precision fp32|bf16]
 *        [--galore-rank 128] [--soap-max-dim 10000] [--only NAME]   (--steps 0: memory only) */
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/progress.h"
#include "base/rng.h"
#include "optim/optimizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int L = 6, H = 6, d = 384, T = 256, V = 8192, steps = 5, threads = 2, rank = 128, soapdim = 10000;
    const char *prec = "fp32", *only = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--L")) L = atoi(v);
        else if (!strcmp(k, "--H")) H = atoi(v);
        else if (!strcmp(k, "--d")) d = atoi(v);
        else if (!strcmp(k, "--T")) T = atoi(v);
        else if (!strcmp(k, "--V")) V = atoi(v);
        else if (!strcmp(k, "--steps")) steps = atoi(v);
        else if (!strcmp(k, "--threads")) threads = atoi(v);
        else if (!strcmp(k, "--galore-rank")) rank = atoi(v);
        else if (!strcmp(k, "--soap-max-dim")) soapdim = atoi(v);
        else if (!strcmp(k, "--precision")) prec = v;
        else if (!strcmp(k, "--only")) only = v;
        else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    lmc_err err;
    lmc_kernels_set_threads(threads);
    if (lmc_kernels_set_precision((lmc_precision)lmc_precision_parse(prec), &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    gpt2_config c;
    gpt2_config_preset(&c, GPT2_ARCH_GPT2);
    c.n_layer = L; c.n_head = H; c.d_model = d; c.max_seq = T; c.vocab_size = V;
    gpt2_model *m;
    if (gpt2_create(&m, &c, &err) || gpt2_enable_training(m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    gpt2_init_random(m, 1);
    lmc_rng r;
    lmc_rng_init(&r, 7);
    for (int i = 0; i < m->n_views; i++)
        for (size_t j = 0; j < m->views[i].numel; j++)
            m->grads[m->views[i].offset + j] = 1e-3f * (float)(lmc_rng_uniform(&r) - 0.5);
    size_t adamw_bytes = 0;
    printf("GPT-2 L=%d H=%d d=%d T=%d V=%d, %zu parameters, %d threads, %s\n", L, H, d, T, V, gpt2_param_count(&c),
           threads, prec);
    printf("| optimizer | state MiB | vs AdamW | step ms (median of %d) |\n|---|---|---|---|\n", steps);
    for (int k = OPTIM_ADAMW; k < OPTIM_N_KINDS; k++) {
        if (only && strcmp(only, optim_kind_name(k))) continue;
        optim_hparams hp = {0};
        hp.kind = k; hp.lr = 1e-3; hp.beta1 = 0.9; hp.beta2 = 0.95; hp.eps = 1e-8; hp.weight_decay = 0.1;
        hp.sf_weight_lr_power = 2; hp.sf_c = 200; hp.muon_momentum = 0.95; hp.muon_nesterov = 1; hp.muon_ns_steps = 5;
        hp.muon_eps = 1e-7; hp.muon_weight_decay = 0.1; hp.muon_adjust_lr = OPTIM_MUON_LR_MATCH_RMS_ADAMW;
        hp.soap_precondition_frequency = 10; hp.soap_max_precond_dim = soapdim; hp.soap_shampoo_beta = -1;
        hp.galore_rank = rank; hp.galore_update_proj_gap = 200; hp.galore_scale = 0.25;
        hp.kl_init_factor = 0.1; hp.kl_clamp = 4000;
        if (gpt2_enable_training(m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; } /* galore frees m, v */
        memset(m->m, 0, m->n_floats * sizeof(float));
        memset(m->v, 0, m->n_floats * sizeof(float));
        m->step = 0;
        lmc_optim *o;
        if (optim_create(&o, &hp, m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        size_t bytes = optim_state_bytes(o, m);
        if (k == OPTIM_ADAMW) adamw_bytes = bytes;
        if (steps <= 0) { /* memory only */
            printf("| %s | %.1f | %.2fx | - |\n", optim_kind_name(k), (double)bytes / 1048576.0,
                   adamw_bytes ? (double)bytes / (double)adamw_bytes : 0.0);
            optim_free(o);
            continue;
        }
        double *t = calloc((size_t)steps + 1, sizeof *t);
        /* step 0 (soap: the eigendecomposition step; galore: the first SVD) is timed separately */
        double t0 = lmc_now();
        if (optim_step(o, m, 1e-3, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        double first = lmc_now() - t0;
        for (int s = 0; s < steps; s++) {
            t0 = lmc_now();
            if (optim_step(o, m, 1e-3, NULL, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            t[s] = lmc_now() - t0;
        }
        qsort(t, (size_t)steps, sizeof *t, cmp_d);
        printf("| %s | %.1f | %s%.2fx | %.1f (first step %.1f) |\n", optim_kind_name(k), (double)bytes / 1048576.0,
               adamw_bytes ? "" : "?", adamw_bytes ? (double)bytes / (double)adamw_bytes : 0.0, 1e3 * t[steps / 2],
               1e3 * first);
        free(t);
        optim_free(o);
    }
    gpt2_free(m);
    return 0;
}
