/* Training-run configuration: one table drives the defaults, the YAML parser's type checks,
 * `lmc train --print-config` and the key list in docs/train.md, so they cannot drift apart.
 *
 * A config file is YAML with four sections (run, data, model, train), each a mapping of scalar
 * keys. Every key has a default, so an empty file is a valid (if useless) config. Unknown keys and
 * values of the wrong type are errors that name the key and the file:line:column. */
#ifndef LMC_TRAIN_CONFIG_H
#define LMC_TRAIN_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "base/error.h"
#include "base/mem.h"

#define TRAIN_CFG_STR 1024

typedef struct train_config {
    /* run: */
    char run_name[TRAIN_CFG_STR];
    char run_dir[TRAIN_CFG_STR];
    int64_t seed;
    int64_t log_every;
    int64_t sample_every;
    int64_t sample_tokens;
    char sample_prompt[TRAIN_CFG_STR];
    char tensorboard[8];      /* "true": RUN/tb/events.out.tfevents.* with every metrics scalar */
    double peak_tflops;
    char init_from[TRAIN_CFG_STR];
    /* data: */
    char data_train[TRAIN_CFG_STR];
    char data_val[TRAIN_CFG_STR];
    char data_tokenizer[TRAIN_CFG_STR];
    char data_format[16];     /* llmc | nanogpt: how data.train / data.val shards are read */
    /* data mixtures (src/train/mixture.h, docs/train.md): the data.mixing* keys, and data.sources, a YAML
     * list of {name, train, val, weight, target_loss} (src/train/mix_config.c), not a table key */
    char mixing[16];          /* static | doremi | velocitune | chameleon */
    int64_t mixing_every;
    char mixing_reference[TRAIN_CFG_STR];
    double mixing_eta, mixing_smoothing, chameleon_lambda, chameleon_tau;
    int64_t chameleon_windows;
    int64_t n_sources;
    struct train_source {
        char name[64];                                /* [A-Za-z0-9_.-]: it is part of metric keys */
        char train[TRAIN_CFG_STR], val[TRAIN_CFG_STR]; /* globs; val may be empty */
        double weight;                                /* > 0; the weights are normalised to sum 1 */
        double target_loss;                           /* velocitune's target (has_target = 1 when given) */
        int64_t has_target;
    } sources[8];
    char data_packing[16];    /* concat | seamless (issue 15, src/train/packing.h) */
    double packing_overlap;   /* seamless: largest stage-1 overlap as a fraction of seq_len + 1 */
    int64_t packing_extra;    /* seamless: bin capacity above seq_len + 1 (tokens) */
    char packing_pad[8];      /* seamless: true = the padding variant */
    char data_loss_mask[16];  /* auto | off | require: X.mask sidecars (src/train/loader_mask.h) */
    char data_cooldown_train[TRAIN_CFG_STR]; /* MeCo cooldown pool (src/train/cooldown.h) */
    double meco_cooldown_fraction;           /* train.meco_cooldown_fraction: final share of steps on it */
    /* model: */
    char arch[32];
    int64_t n_layer, n_head, n_kv_head, d_model, d_ff, seq_len, vocab_size;
    char norm[16], position[16], mlp[16], bias[16], tie_embeddings[16]; /* "preset" = the arch's */
    double norm_eps, rope_theta;
    char attention[16], qk_norm[8]; /* issue 13 attention switches */
    int64_t lssar_power;
    char doc_mask[8];         /* issue 15: attention and positions restart at every end-of-text */
    int64_t doc_sep_id;       /* -1 = the tokenizer's end-of-text id */
    /* research switches (issue 13, docs/model.md): model.depth_scaling, activation, activation_degree,
     * mtp_heads; train.mtp_curriculum */
    char depth_scaling[16], activation[16], mtp_curriculum[16], normalized[16];
    int64_t activation_degree, mtp_heads;
    /* train: */
    int64_t steps, batch_size, micro_batch;
    double lr, min_lr_ratio;
    int64_t warmup_steps;
    char schedule[32];
    double decay_fraction;
    char decay_shape[32];
    double weight_decay, beta1, beta2, eps, grad_clip;
    int64_t eval_every, eval_batches, checkpoint_every, keep_checkpoints, threads;
    int64_t max_nonfinite;
    int64_t diag_every;   /* probe-batch diagnostics (zero-sum learning, GWA) every K steps; 0 = off */
    char precision[16];   /* auto | fp32 | bf16; the run's config.yaml records the resolved value */
    char grad_accum[16];      /* auto | inplace | tree (src/train/dp.h) */
    char shard_optimizer[8];  /* true | false: ZeRO-1 under MPI */
    double dist_timeout_s;
    /* optimizer (src/optim/optimizer.h): */
    char optimizer[24];   /* adamw | sf-adamw | sf-adamw-refined | muon | soap | galore | kl-shampoo | kl-soap */
    double sf_r, sf_weight_lr_power, sf_c;
    double muon_lr, muon_momentum, muon_weight_decay, muon_eps;
    int64_t muon_ns_steps;
    char muon_nesterov[8], muon_adjust_lr[24];
    int64_t soap_precondition_frequency, soap_max_precond_dim;
    double soap_shampoo_beta;
    double kl_init_factor, kl_clamp;   /* kl-shampoo, kl-soap */
    int64_t galore_rank, galore_update_proj_gap;
    double galore_scale;
    char galore_subspace[16];
    /* train.eval_tasks: a YAML list of {task, data, every, limit} (src/train/eval_tasks.c), not a table key */
    int64_t n_eval_tasks;
    struct train_eval_task {
        char task[16];              /* blimp | mc | perplexity | wikitext | lambada */
        char data[TRAIN_CFG_STR];   /* file or glob */
        int64_t every, limit;       /* steps between runs (0 = only at the end); examples (0 = all) */
    } eval_tasks[8];
} train_config;

typedef enum { TRAIN_KEY_INT, TRAIN_KEY_FLOAT, TRAIN_KEY_STR, TRAIN_KEY_ENUM } train_key_type;

/* One row of the table. */
typedef struct train_key {
    const char *section;   /* "train" */
    const char *name;      /* "lr" */
    train_key_type type;
    size_t offset;         /* into train_config */
    size_t size;           /* bytes of a string field */
    const char *def;       /* default, as YAML text */
    const char *choices;   /* ENUM: "cosine|wsd|constant" */
    double min, max;       /* numeric range (inclusive) */
    const char *help;      /* one line */
} train_key;

/* The table, in print order; *n gets its length. */
const train_key *train_config_keys(size_t *n);

/* Fill every field with its default. */
void train_config_defaults(train_config *c);
/* Apply a YAML file on top of c (keys not in the file keep their value). */
int train_config_load_file(train_config *c, const char *path, lmc_err *err);
/* Same from a buffer; `name` stands for the path in messages. */
int train_config_load_buf(train_config *c, const char *buf, size_t len, const char *name, lmc_err *err);
/* Apply one override "section.key=value" (value parsed as a YAML plain scalar). */
int train_config_set(train_config *c, const char *assignment, lmc_err *err);
/* Cross-key checks (batch_size divisible by micro_batch, d_model by n_head, ...).
 * need_data: also require data.train (training needs it; --print-config does not). */
int train_config_validate(const train_config *c, int need_data, lmc_err *err);
/* Resolved config as YAML, every key with its meaning as a comment. Re-loading it gives c back. */
int train_config_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err);
/* 1 when v prints back as the same YAML double-quoted scalar: no control characters, no C1 controls,
 * line/paragraph separators or U+FFFE/U+FFFF (YAML reads them as breaks or refuses them). For the
 * paths and globs of the list keys (train.eval_tasks, data.sources). */
int train_yaml_printable(const char *v);
/* Markdown table of the keys (for docs/train.md). */
int train_config_keys_markdown(lmc_buf *out, lmc_err *err);

#endif
