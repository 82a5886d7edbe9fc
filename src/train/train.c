/* The training loop (see train.h). One step:
 *   zero grads; for each micro-batch: next sequences -> forward -> backward(1/accum)
 *   -> grad norm (+clip) -> finite? AdamW at lr(step) : skip -> metrics -> eval / sample / checkpoint
 * Everything that influences the numbers (data position, AdamW state, sample RNG) is in the
 * checkpoint, and nothing else (wall time, output files) feeds back into them. */
#include "train/train.h"
#include "train/switches.h"
#include "model/switches.h"
#include "train/eval_tasks.h"
#include "train/diag_hook.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>
#include "base/io.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/mem.h"
#include "base/rng.h"
#include "gen/gen.h"
#include "kernels/cpu/kernels.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"
#include "train/dp.h"
#include "train/hwinfo.h"
#include "train/loader.h"
#include "train/mixture.h"
#include "train/mix_update.h"
#include "train/mixing.h"
#include "train/loader_mask.h"
#include "train/cooldown.h"
#include "train/masked_step.h"
#include "train/optim_config.h"
#include "train/packing_setup.h"
#include "train/schedule.h"
#include "train/status.h"
#include "train/tb_events.h"

#define SAMPLE_STREAM 0x73616d70ull /* "samp" */

typedef struct trainer {
    const train_config *cfg;
    const train_opts *o;
    char *run, *ckpt_root, *metrics_path, *samples_path;
    FILE *log;
    lmc_jsonl metrics;
    int metrics_open;
    tb_writer tb;          /* run.tensorboard: RUN/tb/ event file of this session */
    int tb_open;
    int sampled_last;      /* samples.txt already holds a section for the resumed step */
    gpt2_model *m;
    lmc_optim *opt;        /* train.optimizer (src/optim/optimizer.h) */
    tok_tokenizer *tok;
    char *tok_json;       /* the tokenizer.json copied into checkpoints (NULL = none) */
    train_loader train, val;
    int have_val;
    train_mixture mix;     /* data.sources (src/train/mixture.h): replaces `train` when have_mix */
    int have_mix;
    train_mix_updater mixu; /* data.mixing's dynamic rules (src/train/mix_update.h) */
    int32_t *in, *tg;
    /* loss masks and MeCo's cooldown (src/train/loader_mask.h, cooldown.h) */
    train_loader cool;     /* data.cooldown_train */
    int have_cool;
    int masked;            /* some training shard has a loss mask: whole-step buffers, tokens_all logged */
    int32_t *bin, *btg;    /* batch_size x seq_len: every micro-batch of a masked step, filled up front */
    uint64_t step_targets; /* unmasked targets of the last step */
    train_state st;
    lmc_rng sample_rng;
    train_schedule sched;
    char *config_yaml;
    double flops_per_token, peak_flops;
    double t_start;
    /* data parallel (src/train/dp.h): NULL with train.grad_accum inplace in one process */
    dist_ctx *dist, local_dist;
    train_dp dp_state, *dp;
    int writer;            /* rank 0 (or the only process): the one that writes the run folder */
} trainer;

static void event(trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void event(trainer *t, const char *fmt, ...) {
    char line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (t->log) {
        fprintf(t->log, "%s\n", line);
        fflush(t->log);
    }
    if (t->o->on_event && t->writer) t->o->on_event(t->o->event_ctx, TRAIN_EV_EVENT, line);
}

int train_model_config(const train_config *cfg, gpt2_config *mc, lmc_err *err) {
    gpt2_config_preset(mc, strcmp(cfg->arch, "llama") == 0 ? GPT2_ARCH_LLAMA : GPT2_ARCH_GPT2);
    /* every key other than arch overrides the preset ("preset" / 0 = keep it) */
    if (!strcmp(cfg->norm, "layernorm")) mc->norm = GPT2_NORM_LAYERNORM;
    if (!strcmp(cfg->norm, "rmsnorm")) mc->norm = GPT2_NORM_RMSNORM;
    if (!strcmp(cfg->position, "learned")) mc->position = GPT2_POS_LEARNED;
    if (!strcmp(cfg->position, "rope")) mc->position = GPT2_POS_ROPE;
    if (!strcmp(cfg->position, "alibi")) mc->position = GPT2_POS_ALIBI;
    if (!strcmp(cfg->position, "none")) mc->position = GPT2_POS_NONE;
    if (!strcmp(cfg->mlp, "gelu")) mc->mlp = GPT2_MLP_GELU;
    if (!strcmp(cfg->mlp, "swiglu")) mc->mlp = GPT2_MLP_SWIGLU;
    if (!strcmp(cfg->bias, "true")) mc->no_bias = 0;
    if (!strcmp(cfg->bias, "false")) mc->no_bias = 1;
    if (!strcmp(cfg->tie_embeddings, "true")) mc->untied = 0;
    if (!strcmp(cfg->tie_embeddings, "false")) mc->untied = 1;
    if (cfg->norm_eps > 0) mc->ln_eps = (float)cfg->norm_eps;
    if (train_model_switches(cfg, mc, err)) return -1;
    if (cfg->rope_theta > 0) mc->rope_theta = (float)cfg->rope_theta;
    mc->attention = !strcmp(cfg->attention, "lssa") ? GPT2_ATTN_LSSA : !strcmp(cfg->attention, "lssar") ? GPT2_ATTN_LSSAR
                  : GPT2_ATTN_SOFTMAX;
    mc->lssar_power = (int)cfg->lssar_power;
    mc->qk_norm = !strcmp(cfg->qk_norm, "true");
    if (train_model_doc_fields(cfg, mc, err)) return -1;
    mc->n_kv_head = (int)cfg->n_kv_head;
    mc->d_ff = (int)cfg->d_ff;
    mc->n_layer = (int)cfg->n_layer;
    mc->n_head = (int)cfg->n_head;
    mc->d_model = (int)cfg->d_model;
    mc->max_seq = (int)cfg->seq_len;
    mc->vocab_size = (int)cfg->vocab_size;
    if (!mc->vocab_size) {
        tok_tokenizer *tk;
        if (tok_load(&tk, cfg->data_tokenizer, NULL, err)) return lmc_err_wrap(err, "data.tokenizer");
        mc->vocab_size = (int)tok_n_vocab(tk);
        tok_free(tk);
    }
    return gpt2_config_check(mc, err);
}

double train_measure_peak_flops(int d_model) {
    /* A square GEMM a bit larger than the widest matmul, in the run's precision and on the model's own
     * GEMM path: "achievable GEMM FLOP/s on this machine with these threads", the honest MFU denominator. */
    int n = d_model * 4 < 512 ? 512 : d_model * 4;
    if (n > 2048) n = 2048;
    return lmc_kernels_gemm_peak(n, 0.3);
}

/* Keep only the metrics records of steps <= max_step (a resumed run rewrites what came after). */
static int trim_metrics(const char *path, int64_t max_step, lmc_err *err) {
    if (!lmc_file_exists(path)) return 0;
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    lmc_buf keep = {0};
    int rc = 0;
    for (char *line = data; *line && !rc;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t je;
        json_t *j = json_loadb(line, n, 0, &je);
        json_t *s = j ? json_object_get(j, "step") : NULL;
        if (s && json_is_integer(s) && json_integer_value(s) <= max_step) {
            rc = lmc_buf_append(&keep, line, n, err);
            if (!rc) rc = lmc_buf_append(&keep, "\n", 1, err);
        }
        json_decref(j);
        if (!nl) break;
        line = nl + 1;
    }
    if (!rc) rc = lmc_write_file_atomic(path, keep.data ? keep.data : "", keep.len, err);
    lmc_buf_free(&keep);
    free(data);
    return rc;
}

/* Drop the samples.txt sections of steps > max_step: they are written before the step's checkpoint,
 * so a run killed in between would otherwise hold them twice after the resume (found by
 * tests/train/test_crash.c). Sections start with "=== step N ===". */
static int trim_samples(const char *path, int64_t max_step, int *has_last, lmc_err *err) {
    *has_last = 0;
    if (!lmc_file_exists(path)) return 0;
    char *data;
    size_t len;
    if (lmc_read_file(path, &data, &len, err)) return -1;
    size_t keep = len;
    for (size_t pos = 0; pos < len;) {
        long long step;
        if (!strncmp(data + pos, "=== step ", 9) && sscanf(data + pos + 9, "%lld", &step) == 1) {
            if (step > max_step) {
                keep = pos;
                break;
            }
            if (step == max_step) *has_last = 1;
        }
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) break;
        pos = (size_t)(nl - data) + 1;
    }
    int rc = keep == len ? 0 : lmc_write_file_atomic(path, data, keep, err);
    free(data);
    return rc;
}

typedef struct val_src { trainer *t; train_loader *l; } val_src;
static int val_fill(void *ctx, int64_t b, int32_t *in, int32_t *tg, lmc_err *err) {
    val_src *v = ctx;
    int64_t mb = v->t->cfg->micro_batch;
    return train_loader_fixed(v->l, (uint64_t)(b * mb), mb, in, tg, err);
}

/* The loader the next step (1-based `step`) reads: MeCo's cooldown pool for the final steps. */
static train_loader *data_for(trainer *t, int64_t step) {
    return t->have_cool && train_cooldown_active(t->cfg, step) ? &t->cool : &t->train;
}

static int eval_loader(trainer *t, train_loader *val, double *val_loss, lmc_err *err) {
    optim_to_eval(t->opt, t->m); /* sf-adamw: evaluate at x */
    int64_t mb = t->cfg->micro_batch, T = t->cfg->seq_len;
    if (t->dp && t->dist->size > 1) {
        /* rank r evaluates the batches b % N == r; the mean is taken in batch order, as one process does */
        int n = (int)t->cfg->eval_batches;
        double *v = calloc((size_t)n, sizeof *v);
        if (!v) return lmc_errf(err, LMC_ENOMEM, "out of memory");
        int rc = 0;
        for (int b = t->dist->rank; b < n && !rc; b += t->dist->size) {
            float loss;
            rc = train_loader_fixed(val, (uint64_t)((int64_t)b * mb), mb, t->in, t->tg, err);
            if (!rc) rc = gpt2_forward(t->m, t->in, t->tg, (int)mb, (int)T, &loss, err);
            if (!rc) v[b] = loss;
        }
        if (!rc) rc = train_dp_mean(t->dp, v, n, val_loss, err);
        free(v);
        optim_to_train(t->opt, t->m);
        return rc;
    }
    if (val->masked) { /* masked targets do not count: the mean over the unmasked ones of all batches */
        val_src vs = {t, val};
        int rc = train_masked_eval(t->m, val_fill, &vs, t->cfg->eval_batches, (int)mb, (int)T, t->in, t->tg, val_loss, err);
        optim_to_train(t->opt, t->m);
        return rc;
    }
    double sum = 0;
    for (int64_t b = 0; b < t->cfg->eval_batches; b++) {
        if (train_loader_fixed(val, (uint64_t)(b * mb), mb, t->in, t->tg, err)) return -1;
        float loss;
        if (gpt2_forward(t->m, t->in, t->tg, (int)mb, (int)T, &loss, err)) return -1;
        sum += loss;
    }
    optim_to_train(t->opt, t->m);
    *val_loss = sum / (double)t->cfg->eval_batches;
    return 0;
}

/* Every source's val loss into t->mix.val_loss (train_mix_eval_fn). */
static int eval_sources(void *ctx, lmc_err *err) {
    trainer *t = ctx;
    for (int s = 0; s < t->mix.k; s++)
        if (t->mix.has_val[s] && eval_loader(t, &t->mix.val[s], &t->mix.val_loss[s], err))
            return lmc_err_wrap(err, "data.sources '%s' val", t->mix.name[s]);
    t->mix.logged_val = 1;
    return 0;
}

/* data.val's loss; with data.sources also each source's (val/<name>/loss), and without data.val the
 * overall val_loss is their plain mean. */
static int eval_val(trainer *t, double *val_loss, lmc_err *err) {
    if (t->have_val && eval_loader(t, &t->val, val_loss, err)) return -1;
    if (!t->have_mix || !t->mix.n_val) return 0;
    if (eval_sources(t, err)) return -1;
    double sum = 0;
    for (int s = 0; s < t->mix.k; s++)
        if (t->mix.has_val[s]) sum += t->mix.val_loss[s];
    if (!t->have_val) *val_loss = sum / (double)t->mix.n_val;
    return 0;
}

static int combine(void *ctx, double *v, int n, lmc_err *err) { return dist_combine_disjoint(ctx, v, n, err); }

/* Append one sample to samples.txt (text when a tokenizer is loaded, ids otherwise). */
static int write_sample(trainer *t, lmc_err *err) {
    const train_config *c = t->cfg;
    if (c->sample_tokens <= 0) return 0;
    tok_ids prompt = {0};
    int rc = 0;
    if (t->tok && c->sample_prompt[0]) {
        tok_encoder *e;
        if (tok_encoder_new(&e, t->tok, err)) return -1;
        rc = tok_encode(e, c->sample_prompt, strlen(c->sample_prompt), 0, &prompt, err);
        tok_encoder_free(e);
        if (rc) goto out;
    }
    if (!prompt.n) {
        int64_t eot = t->tok ? tok_eot_id(t->tok) : -1;
        if ((rc = tok_ids_push(&prompt, eot >= 0 ? (uint32_t)eot : 0, err))) goto out;
    }
    if (prompt.n > (size_t)c->seq_len - 1) prompt.n = (size_t)c->seq_len - 1;
    int32_t *ids = lmc_alloc_array(prompt.n + (size_t)c->sample_tokens, sizeof *ids, err);
    if (!ids) { rc = -1; goto out; }
    for (size_t i = 0; i < prompt.n; i++) ids[i] = (int32_t)prompt.v[i];
    gen_params gp = {(int)c->sample_tokens, 1.0f, 40, 1.0f, -1};
    int n_out = 0;
    rc = gen_generate(t->m, ids, (int)prompt.n, &gp, &t->sample_rng, ids + prompt.n, &n_out, NULL, NULL, err);
    if (!rc) {
        FILE *f = fopen(t->samples_path, "ab");
        if (!f) rc = lmc_err_sys(err, t->samples_path, "open");
        else {
            fprintf(f, "=== step %lld ===\n", (long long)t->st.step);
            if (t->tok) {
                lmc_buf text = {0};
                uint32_t *u = (uint32_t *)prompt.v; /* decode prompt + continuation */
                tok_ids all = {0};
                for (size_t i = 0; i < prompt.n && !rc; i++) rc = tok_ids_push(&all, u[i], err);
                for (int i = 0; i < n_out && !rc; i++) rc = tok_ids_push(&all, (uint32_t)ids[prompt.n + (size_t)i], err);
                if (!rc) rc = tok_decode(t->tok, all.v, all.n, &text, err);
                if (!rc) fwrite(text.data, 1, text.len, f);
                lmc_buf_free(&text);
                tok_ids_free(&all);
            } else {
                for (size_t i = 0; i < prompt.n + (size_t)n_out; i++) fprintf(f, "%s%d", i ? " " : "", ids[i]);
            }
            fputs("\n\n", f);
            if (fclose(f) && !rc) rc = lmc_err_sys(err, t->samples_path, "write");
        }
    }
    lmc_free(ids);
out:
    tok_ids_free(&prompt);
    return rc;
}

/* Samples are a by-product: a failure (say, a prompt the model's vocabulary cannot hold) is
 * reported and the run goes on. */
static void try_sample(trainer *t) {
    lmc_err e = {0};
    optim_to_eval(t->opt, t->m);
    int rc = write_sample(t, &e);
    optim_to_train(t->opt, t->m);
    if (rc) event(t, "step %lld: no sample written: %s", (long long)t->st.step, e.msg);
}

static int save_ckpt(trainer *t, train_result *res, lmc_err *err) {
    t->st.adam_step = t->m->step;
    if (t->have_mix) {
        train_mix_save(&t->mix, &t->st);
    } else {
        const train_loader *dl = data_for(t, t->st.step + 1); /* the position the next step reads from */
        t->st.data_epoch = dl->epoch;
        t->st.data_pos = dl->pos;
    }
    t->st.sample_rng = lmc_rng_save(&t->sample_rng);
    t->st.elapsed_s += lmc_now() - t->t_start;
    t->t_start = lmc_now();
    double t0 = lmc_now();
    /* ZeRO-1: rank 0 gathers the AdamW slices into m->m / m->v for the save */
    if (t->dp && train_dp_state_gather(t->dp, t->m, err)) return -1;
    optim_to_eval(t->opt, t->m); /* checkpoints hold the evaluation point */
    int rc = t->writer ? train_ckpt_save_opt(t->ckpt_root, t->m, t->opt, &t->st, t->tok_json, t->config_yaml,
                                             (int)t->cfg->keep_checkpoints, err) : 0;
    optim_to_train(t->opt, t->m);
    if (t->dp) train_dp_state_release(t->dp, t->m);
    if (rc) return -1;
    snprintf(res->last_ckpt, sizeof res->last_ckpt, "%s/step_%08lld", t->ckpt_root, (long long)t->st.step);
    event(t, "step %lld: checkpoint %s (%.2f s)", (long long)t->st.step, res->last_ckpt, lmc_now() - t0);
    return 0;
}

/* Load a plain HF folder's weights into the run's model: its config.json must describe the model the
 * run's config builds (every size and switch), so a mismatch is an error naming the field. */
static int init_from_hf(trainer *t, const char *dir, const gpt2_config *mc, lmc_err *err) {
    gpt2_config hc;
    if (gpt2_config_load_hf(dir, &hc, err)) return -1;
    struct { const char *key; long long ours, theirs; } f[] = {
        {"model.arch", mc->arch, hc.arch}, {"model.n_layer", mc->n_layer, hc.n_layer},
        {"model.n_head", mc->n_head, hc.n_head}, {"model.n_kv_head", mc->n_kv_head, hc.n_kv_head},
        {"model.d_model", mc->d_model, hc.d_model}, {"model.d_ff", mc->d_ff, hc.d_ff},
        {"model.vocab_size", mc->vocab_size, hc.vocab_size}, {"model.norm", mc->norm, hc.norm},
        {"model.position", mc->position, hc.position}, {"model.mlp", mc->mlp, hc.mlp},
        {"model.bias (0 = true)", mc->no_bias, hc.no_bias}, {"model.tie_embeddings (0 = true)", mc->untied, hc.untied},
        {"model.attention", mc->attention, hc.attention}, {"model.qk_norm", mc->qk_norm, hc.qk_norm},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].ours != f[i].theirs)
            return lmc_errf(err, LMC_EINVAL, "%s/config.json: %s is %lld there but %lld in this run's config", dir,
                            f[i].key, f[i].theirs, f[i].ours);
    if (mc->position == GPT2_POS_LEARNED && hc.max_seq < mc->max_seq)
        return lmc_errf(err, LMC_EINVAL, "%s/config.json: n_positions %d < model.seq_len %d", dir, hc.max_seq, mc->max_seq);
    if (mc->position == GPT2_POS_LEARNED && hc.max_seq != mc->max_seq)
        return lmc_errf(err, LMC_EINVAL, "%s/config.json: n_positions %d != model.seq_len %d (set model.seq_len to it)",
                        dir, hc.max_seq, mc->max_seq);
    if (gpt2_load_hf_into(t->m, dir, err)) return -1;
    memset(&t->st, 0, sizeof t->st);
    t->m->step = 0;
    return 0;
}

/* A kill -9 during an atomic write (config.yaml, metrics, samples) leaves its NAME.tmp.PID.N behind; the
 * dying process cannot remove it. One trainer owns a run folder, so at start every such file in it is
 * stale. (Checkpoint temporaries are swept by the checkpoint rotation.) */
static void remove_stale_temporaries(const char *run) {
    DIR *d = opendir(run);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || e->d_name[0] == '.') continue;
        char *p = lmc_path_join(run, e->d_name);
        if (p && lmc_file_exists(p) && !lmc_is_dir(p)) unlink(p);
        free(p);
    }
    closedir(d);
}

/* Training sequences in the data (all sources together with data.sources). */
static uint64_t train_nseq(const trainer *t) {
    if (!t->have_mix) return t->train.nseq;
    uint64_t n = 0;
    for (int s = 0; s < t->mix.k; s++) n += t->mix.train[s].nseq;
    return n;
}

/* Loss-mask sidecars of data.train / data.val and MeCo's cooldown pool (src/train/loader_mask.h, cooldown.h). */
static int setup_masks_cooldown(trainer *t, lmc_shard_kind kind, uint64_t vocab, int tree, lmc_err *err) {
    const train_config *c = t->cfg;
    train_mask_mode mode;
    if (train_mask_mode_parse(c->data_loss_mask, &mode))
        return lmc_errf(err, LMC_EINVAL, "data.loss_mask: '%s' is not auto, off or require", c->data_loss_mask);
    if (t->have_mix) {
        /* a mixture's step weights each source's sequences by the sampler, not by unmasked-target counts:
         * masks and MeCo's data switch are not combined with data.sources yet (refused, not ignored) */
        if (c->meco_cooldown_fraction > 0)
            return lmc_errf(err, LMC_EINVAL, "train.meco_cooldown_fraction: MeCo's cooldown switches data.train to "
                                             "data.cooldown_train; with data.sources give the cooldown as its own run "
                                             "(run.init_from) instead");
        for (int i = 0; i < t->mix.k; i++) {
            char what[128];
            snprintf(what, sizeof what, "data.sources[%s].train", t->mix.name[i]);
            if (train_loader_attach_masks(&t->mix.train[i], mode, what, err)) return -1;
            int masked = t->mix.train[i].masked != 0;
            if (!masked && t->mix.has_val[i]) {
                snprintf(what, sizeof what, "data.sources[%s].val", t->mix.name[i]);
                if (train_loader_attach_masks(&t->mix.val[i], mode, what, err)) return -1;
                masked = t->mix.val[i].masked != 0;
            }
            if (masked)
                return lmc_errf(err, LMC_EINVAL, "data.loss_mask: %s has loss-mask sidecars (.mask), which a data.sources "
                                                 "mixture does not support yet (set data.loss_mask: off to train on every token)",
                                what);
        }
    } else if (train_loader_attach_masks(&t->train, mode, "data.train", err)) {
        return -1;
    }
    if (t->have_val && train_loader_attach_masks(&t->val, mode, "data.val", err)) return -1;
    if (c->meco_cooldown_fraction > 0) {
        if (train_loader_open(&t->cool, c->data_cooldown_train, c->seq_len, (uint64_t)c->seed, 1, vocab, kind, err))
            return lmc_err_wrap(err, "data.cooldown_train");
        t->have_cool = 1;
        char line[512]; /* data.packing applies to the cooldown pool too */
        if (train_packing_open(&t->cool, c, line, sizeof line, err)) return lmc_err_wrap(err, "data.cooldown_train");
        if (line[0]) event(t, "cooldown pool: %s", line);
        if (train_loader_attach_masks(&t->cool, mode, "data.cooldown_train", err)) return -1;
    }
    t->masked = t->train.masked || (t->have_cool && t->cool.masked);
    if (!t->masked && !(t->have_val && t->val.masked)) return 0;
    if (tree)
        return lmc_errf(err, LMC_EINVAL, "data.loss_mask: masked shards need train.grad_accum inplace in one process; "
                        "the data-parallel path (train.grad_accum tree, MPI) does not yet weight micro-batches by their "
                        "unmasked-target counts (set data.loss_mask: off to train on every token)");
    if (c->mtp_heads > 0)
        return lmc_errf(err, LMC_EINVAL, "data.loss_mask: masked shards with model.mtp_heads > 0 are not supported "
                        "(each extra head averages over its own targets per micro-batch)");
    size_t nb = (size_t)c->batch_size * (size_t)c->seq_len;
    t->bin = lmc_alloc_array(nb, sizeof *t->bin, err);
    t->btg = lmc_alloc_array(nb, sizeof *t->btg, err);
    return t->bin && t->btg ? 0 : -1;
}

static int setup(trainer *t, train_result *res, lmc_err *err) {
    const train_config *c = t->cfg;
    if (train_config_validate(c, 1, err)) return -1;
    int launched = t->o->dist && t->o->dist->size >= 1 && dist_launched();
    if (t->o->dist) {
        t->dist = t->o->dist;
    } else { /* one process: a one-rank context (train.grad_accum: tree runs the same code as MPI) */
        memset(&t->local_dist, 0, sizeof t->local_dist);
        t->local_dist.size = 1;
        t->local_dist.crash_step = -1;
        t->dist = &t->local_dist;
    }
    t->writer = t->dist->rank == 0;
    int ranks = t->dist->size;
    int tree = !strcmp(c->grad_accum, "tree") || (!strcmp(c->grad_accum, "auto") && launched);
    if (ranks > 1 && !tree)
        return lmc_errf(err, LMC_EINVAL, "train.grad_accum: inplace cannot be split over %d MPI ranks (use tree or auto)",
                        ranks);
    if (c->threads > 0) lmc_kernels_set_threads((int)c->threads);
    /* Precision: auto resolves once, here; the resolved value is what config.yaml and the log say. */
    if (lmc_kernels_set_precision((lmc_precision)lmc_precision_parse(c->precision), err))
        return lmc_err_wrap(err, "train.precision");
    train_config resolved = *c;
    snprintf(resolved.precision, sizeof resolved.precision, "%s", lmc_precision_name(lmc_kernels_get_precision()));
    t->run = lmc_path_join(c->run_dir, c->run_name);
    t->ckpt_root = lmc_path_join(t->run, "checkpoints");
    t->metrics_path = lmc_path_join(t->run, "metrics.jsonl");
    t->samples_path = lmc_path_join(t->run, "samples.txt");
    snprintf(res->run_path, sizeof res->run_path, "%s", t->run);
    /* Never silently mix a new run into an old one. */
    /* Only the writer (rank 0) touches the run folder; the other ranks read data and checkpoints. */
    if (t->writer && !t->o->resume && lmc_file_exists(t->metrics_path))
        return lmc_errf(err, LMC_EINVAL, "%s already holds a run; pass --resume to continue it, or choose another run.name",
                        t->run);
    if (t->writer && lmc_mkdirs(t->ckpt_root, err)) return -1;
    if (t->writer) remove_stale_temporaries(t->run);
    /* A kill inside a rotation leaves a step_N without DONE; a resume that has nothing left to train
     * writes no checkpoint and so would never rotate it away (test_crash under load): sweep it now. */
    if (t->writer && t->o->resume && lmc_is_dir(t->ckpt_root) &&
        train_ckpt_rotate(t->ckpt_root, (int)c->keep_checkpoints, err))
        return -1;

    lmc_buf y = {0};
    if (train_config_to_yaml(&resolved, &y, err)) return -1;
    t->config_yaml = y.data;
    int rc = 0;
    if (t->writer) {
        char *p = lmc_path_join(t->run, "config.yaml");
        rc = lmc_write_file_atomic(p, y.data, y.len, err);
        free(p);
        if (rc) return -1;
        p = lmc_path_join(t->run, "train.log");
        t->log = fopen(p, "ab");
        if (!t->log) rc = lmc_err_sys(err, p, "open");
        free(p);
        if (rc) return -1;
    }

    if (c->data_tokenizer[0] && tok_load(&t->tok, c->data_tokenizer, NULL, err))
        return lmc_err_wrap(err, "data.tokenizer");
    if (t->tok) {
        /* Checkpoints hold a tokenizer.json (what eval, sample and HF read). A rank file (.tiktoken) is
         * converted once, into RUN/tokenizer.json, with its special tokens; a .json is copied as is. */
        size_t l = strlen(c->data_tokenizer);
        if (l >= 5 && !strcmp(c->data_tokenizer + l - 5, ".json")) {
            t->tok_json = strdup(c->data_tokenizer);
        } else if (!t->writer) {
            t->tok_json = strdup(""); /* checkpoints are the writer's */
        } else {
            t->tok_json = lmc_path_join(t->run, "tokenizer.json");
            if (t->tok_json && tok_save_hf_json(t->tok, t->tok_json, err))
                return lmc_err_wrap(err, "data.tokenizer: converting %s to tokenizer.json", c->data_tokenizer);
        }
        if (!t->tok_json) return lmc_errf(err, LMC_ENOMEM, "out of memory");
    }
    gpt2_config mc;
    if (train_model_config(c, &mc, err)) return -1;
    if (gpt2_create(&t->m, &mc, err) || gpt2_enable_training(t->m, err)) return -1;
    gpt2_set_loss_only(t->m, 1);   /* the head + loss in row chunks: never all N x V logits (gpt2.h) */
    gpt2_init_random(t->m, (uint64_t)c->seed);
    optim_hparams ohp;
    if (train_optim_hparams(c, &ohp, err) || optim_create(&t->opt, &ohp, t->m, err)) return -1;
    if (ranks > 1 && c->diag_every > 0)
        return lmc_errf(err, LMC_EINVAL, "train.diag_every: the probe-batch diagnostics read whole gradients, which "
                                         "a ZeRO-1 rank does not hold; run them in one process");
    /* switch x optimizer combinations that would break a switch's invariant */
    if (mc.normalized && OPTIM_IS_SF(optim_kind(t->opt)))
        return lmc_errf(err, LMC_EINVAL, "model.normalized: %s needs the weights it projects to be the ones it "
                                         "evaluates; train.optimizer %s keeps y, z and x apart (use adamw, muon, soap or galore)",
                        c->normalized, c->optimizer);
    if (mc.normalized == GPT2_NORMALIZED_ANGPT &&
        (c->weight_decay > 0 || (optim_kind(t->opt) == OPTIM_MUON && c->muon_weight_decay > 0)))
        return lmc_errf(err, LMC_EINVAL, "model.normalized: angpt bounds every weight vector's norm instead of decaying "
                                         "it: set train.weight_decay 0 (and train.muon.weight_decay 0 with muon); got %g",
                        c->weight_decay > 0 ? c->weight_decay : c->muon_weight_decay);
    if (mc.mtp_heads > 0 && strcmp(c->mtp_curriculum, "none") && optim_kind(t->opt) != OPTIM_ADAMW)
        return lmc_errf(err, LMC_EINVAL, "train.mtp_curriculum: %s freezes inactive heads, which only train.optimizer "
                                         "adamw implements so far (got %s)", c->mtp_curriculum, c->optimizer);
    if (t->tok) {
        /* HF's generate stops at eos: the end-of-text token begins and ends every document here */
        int64_t eot = tok_eot_id(t->tok);
        if (eot >= 0 && eot < mc.vocab_size) t->m->bos_id = t->m->eos_id = (int)eot;
    }

    lmc_shard_kind kind;
    if (lmc_shard_kind_parse(c->data_format, &kind))
        return lmc_errf(err, LMC_EINVAL, "data.format: '%s' is not llmc or nanogpt", c->data_format);
    t->have_mix = c->n_sources > 0;
    if (t->have_mix && train_mix_open(&t->mix, c, (uint64_t)mc.vocab_size, kind, err)) return -1;
    if (!t->have_mix &&
        train_loader_open(&t->train, c->data_train, c->seq_len, (uint64_t)c->seed, 1, (uint64_t)mc.vocab_size, kind, err))
        return lmc_err_wrap(err, "data.train");
    char packing_line[512];
    /* data.packing applies to every training stream: the one loader, or each source of a mixture */
    for (int i = 0; i < (t->have_mix ? t->mix.k : 1); i++) {
        if (train_packing_open(t->have_mix ? &t->mix.train[i] : &t->train, c, packing_line, sizeof packing_line, err))
            return t->have_mix ? lmc_err_wrap(err, "data.sources[%s]", t->mix.name[i]) : -1;
        if (packing_line[0]) event(t, "%s%s%s", t->have_mix ? t->mix.name[i] : "", t->have_mix ? ": " : "", packing_line);
    }
    t->have_val = c->data_val[0] && c->eval_batches > 0;
    if (t->have_val && train_loader_open(&t->val, c->data_val, c->seq_len, (uint64_t)c->seed, 0,
                                         (uint64_t)mc.vocab_size, kind, err))
        return lmc_err_wrap(err, "data.val");
    if (t->have_mix && train_mix_update_open(&t->mixu, c, t->m, t->tok_json, err)) return -1;
    if (setup_masks_cooldown(t, kind, (uint64_t)mc.vocab_size, tree, err)) return -1;
    size_t n = (size_t)c->micro_batch * (size_t)c->seq_len;
    t->in = lmc_alloc_array(n, sizeof *t->in, err);
    t->tg = lmc_alloc_array(n, sizeof *t->tg, err);
    if (!t->in || !t->tg) return -1;

    lmc_rng_init(&t->sample_rng, lmc_rng_derive((uint64_t)c->seed, SAMPLE_STREAM));
    train_schedule_kind_parse(c->schedule, &t->sched.kind);
    train_schedule_shape_parse(c->decay_shape, &t->sched.shape);
    t->sched.total = c->steps;
    t->sched.warmup = c->warmup_steps;
    t->sched.min_ratio = t->sched.kind == TRAIN_SCHED_CONSTANT ? 1.0 : c->min_lr_ratio;
    t->sched.decay_fraction = c->decay_fraction;
    t->sched.init_div = 100.0;
    t->flops_per_token = gpt2_flops_per_token(&mc, (int)c->seq_len);
    t->peak_flops = c->peak_tflops > 0 ? c->peak_tflops * 1e12 : train_measure_peak_flops((int)c->d_model);

    memset(&t->st, 0, sizeof t->st);
    if (t->o->resume) {
        char *dir = NULL;
        int64_t step;
        rc = train_ckpt_latest(t->ckpt_root, &dir, &step, err);
        if (ranks > 1) {
            /* every rank resumes from the checkpoint rank 0 found (a shared file system is assumed) */
            char path[2048] = "";
            int code = rc;
            if (t->writer && !rc) snprintf(path, sizeof path, "%s", dir);
            if (dist_bcast(t->dist, &code, sizeof code, 0, err) || dist_bcast(t->dist, path, sizeof path, 0, err)) {
                free(dir);
                return -1;
            }
            free(dir);
            dir = code ? NULL : strdup(path);
            if (!code && !dir) return lmc_errf(err, LMC_ENOMEM, "out of memory");
            if (code && code != LMC_ENOTFOUND)
                return t->writer ? -1 : lmc_errf(err, LMC_EIO, "resume: rank 0 could not read %s", t->ckpt_root);
            rc = code;
        }
        if (rc == LMC_ENOTFOUND) {
            event(t, "resume: no complete checkpoint in %s, starting from step 0", t->ckpt_root);
        } else if (rc) {
            return -1;
        } else {
            rc = train_ckpt_load_opt(dir, t->m, t->opt, &t->st, err);
            optim_to_train(t->opt, t->m);
            if (!rc && !t->have_mix) rc = train_loader_seek(data_for(t, t->st.step + 1), t->st.data_epoch, t->st.data_pos, err);
            if (!rc && t->have_mix) rc = train_mix_restore(&t->mix, &t->st, err);
            if (!rc) snprintf(res->last_ckpt, sizeof res->last_ckpt, "%s", dir);
            free(dir);
            if (rc) return lmc_err_wrap(err, "resume");
            lmc_rng_restore(&t->sample_rng, t->st.sample_rng);
            event(t, "resumed from %s (step %lld, epoch %llu, sequence %llu)", res->last_ckpt, (long long)t->st.step,
                  (unsigned long long)t->st.data_epoch, (unsigned long long)t->st.data_pos);
        }
    }
    if (!res->last_ckpt[0] && c->init_from[0] && !train_ckpt_is_lmc(c->init_from)) {
        /* A plain HF folder (save_pretrained, the hub): weights only, fresh optimizer, step 0 --
         * continued pretraining / fine-tuning as nanoGPT's init_from and run_clm.py do it. */
        if (init_from_hf(t, c->init_from, &mc, err)) return lmc_err_wrap(err, "run.init_from");
        event(t, "initialised weights from the HF folder %s (fresh optimizer, step 0)", c->init_from);
    } else if (!res->last_ckpt[0] && c->init_from[0]) {
        /* A branch: the whole state of another run's checkpoint, continued under this config
         * (typically the same run with a decaying schedule from here on). */
        int lrc = train_ckpt_load_opt(c->init_from, t->m, t->opt, &t->st, err);
        optim_to_train(t->opt, t->m);
        if (lrc || (!t->have_mix && train_loader_seek(data_for(t, t->st.step + 1), t->st.data_epoch, t->st.data_pos, err)) ||
            (t->have_mix && train_mix_restore(&t->mix, &t->st, err)))
            return lmc_err_wrap(err, "run.init_from");
        lmc_rng_restore(&t->sample_rng, t->st.sample_rng);
        snprintf(res->last_ckpt, sizeof res->last_ckpt, "%s", c->init_from);
        event(t, "initialised from %s (step %lld)", c->init_from, (long long)t->st.step);
    }
    if (tree) {
        /* ZeRO-1 shards AdamW; the other optimizers run replicated on every rank (docs/distributed.md) */
        int shard = !strcmp(c->shard_optimizer, "true") && optim_kind(t->opt) == OPTIM_ADAMW;
        if (train_dp_init(&t->dp_state, t->dist, t->m, c->batch_size / c->micro_batch, shard, err)) {
            train_dp_free(&t->dp_state, t->m);
            return -1;
        }
        t->dp = &t->dp_state;
    }
    if (t->writer) {
        if (trim_metrics(t->metrics_path, t->st.step, err)) return -1;
        if (trim_samples(t->samples_path, t->st.step, &t->sampled_last, err)) return -1;
        if (lmc_jsonl_open(&t->metrics, t->metrics_path, 1, err)) return -1;
        t->metrics_open = 1;
        if (!strcmp(c->tensorboard, "true")) {
            char *tb = lmc_path_join(t->run, "tb");
            rc = tb ? tb_writer_open(&t->tb, tb, tb_wall_now(), err) : lmc_errf(err, LMC_ENOMEM, "out of memory");
            free(tb);
            if (rc) return lmc_err_wrap(err, "run.tensorboard");
            t->tb_open = 1;
        }
    }
    char pbuf[32];
    event(t, "run %s: %s parameters, %lld layers, d_model %lld, vocab %d, seq_len %lld, batch %lld x %lld tokens, "
             "%llu training sequences, peak %.1f GFLOP/s%s",
          t->run, lmc_fmt_count(pbuf, sizeof pbuf, (double)gpt2_param_count(&mc)), (long long)c->n_layer,
          (long long)c->d_model, mc.vocab_size, (long long)c->seq_len, (long long)c->batch_size, (long long)c->seq_len,
          (unsigned long long)train_nseq(t), t->peak_flops / 1e9, c->peak_tflops > 0 ? "" : " (measured)");
    event(t, "compute: %d threads, GEMMs %s, precision %s%s", lmc_kernels_get_threads(), lmc_kernels_gemm_backend(),
          resolved.precision, strcmp(c->precision, "auto") ? "" : " (auto)");
    event(t, "OpenMP wait: %s", lmc_kernels_omp_wait());
    char cpu[400];
    train_cpu_name(cpu, sizeof cpu);
    event(t, "cpu: %s", cpu);
    char isa[384];
    lmc_isa_describe(isa, sizeof isa);
    event(t, "vector kernels: %s", isa);
    if (t->dp)
        event(t, "data parallel: %d rank%s (%s), %d threads each; %lld micro-batches per step summed in a fixed tree "
                 "(%lld per rank, %d extra gradient buffers); optimizer state %s",
              ranks, ranks > 1 ? "s" : "", dist_library(), lmc_kernels_get_threads(),
              (long long)t->dp->accum, (long long)t->dp->local, t->dp->ntmp,
              t->dp->shard ? "sharded over the ranks (ZeRO-1)" : "replicated");
    if (t->dp && ranks > 1 && !t->dp->shard && !strcmp(c->shard_optimizer, "true"))
        event(t, "train.optimizer %s is not sharded (ZeRO-1 covers adamw): every rank keeps its full state",
              c->optimizer);
    return 0;
}

static void teardown(trainer *t) {
    lmc_err e;
    if (t->dp) train_dp_free(t->dp, t->m);
    if (t->metrics_open) lmc_jsonl_close(&t->metrics, &e);
    if (t->tb_open) tb_writer_close(&t->tb, &e);
    if (t->log) fclose(t->log);
    optim_free(t->opt);
    gpt2_free(t->m);
    if (t->tok) tok_free(t->tok);
    train_mix_update_close(&t->mixu);
    if (t->have_mix) train_mix_close(&t->mix);
    else train_loader_close(&t->train);
    if (t->have_val) train_loader_close(&t->val);
    if (t->have_cool) train_loader_close(&t->cool);
    lmc_free(t->in);
    lmc_free(t->tg);
    lmc_free(t->bin);
    lmc_free(t->btg);
    free(t->run);
    free(t->ckpt_root);
    free(t->metrics_path);
    free(t->samples_path);
    free(t->config_yaml);
    free(t->tok_json);
}

/* The run's optimizer on m->grads. gpt2_adamw_step already skips frozen MTP heads and projects nGPT's
 * matrices; for the other optimizers nGPT's projection follows here (its invariant: unit-norm rows
 * after every step), and a curriculum that freezes heads is refused at setup. */
static int step_optimizer(trainer *t, double *lr, lmc_err *err) {
    if (optim_step(t->opt, t->m, *lr, lr, err)) return -1;
    if (optim_kind(t->opt) != OPTIM_ADAMW && t->m->cfg.normalized) {
        gpt2_ngpt_project(t->m);
        lmc_kernels_weights_changed();
    }
    return 0;
}

/* Micro-batch k of the step into t->in / t->tg: from the one loader, or from the sources the mixture's
 * plan assigns to its sequences. */
static int fetch(trainer *t, int64_t k, lmc_err *err) {
    int64_t mb = t->cfg->micro_batch;
    if (t->have_mix) return train_mix_next(&t->mix, k * mb, mb, t->in, t->tg, err);
    return train_loader_next(data_for(t, t->st.step + 1), mb, t->in, t->tg, err); /* MeCo's cooldown pool at the end */
}

/* Advance past micro-batches [k0, k0 + n) (another rank's share). */
static int skip(trainer *t, int64_t k0, int64_t n, lmc_err *err) {
    int64_t mb = t->cfg->micro_batch;
    if (t->have_mix) return train_mix_skip(&t->mix, k0 * mb, n * mb, err);
    return train_loader_skip(data_for(t, t->st.step + 1), (uint64_t)(n * mb), err);
}

/* The per-sequence losses of micro-batch k for the per-source train loss (and DoReMi's excess over the
 * reference model on update steps: src/train/mix_update.c). */
static int train_mix_after_forward(trainer *t, int64_t k, lmc_err *err) {
    int64_t mb = t->cfg->micro_batch;
    train_mix_record(&t->mix, k * mb, mb, t->m->losses);
    return train_mix_update_forward(&t->mixu, &t->mix, t->st.step + 1, k * mb, mb, t->in, t->tg, t->m->losses, err);
}

/* One micro-batch of a data-parallel step (train_dp_leaf): the rank's loader stands at it. */
static int dp_leaf(void *ctx, int64_t k, float *loss, lmc_err *err) {
    trainer *t = ctx;
    const train_config *c = t->cfg;
    if (fetch(t, k, err)) return -1;
    if (!t->have_mix)   /* one call: the output head's backward runs inside the forward (no recomputation) */
        return gpt2_forward_backward(t->m, t->in, t->tg, (int)c->micro_batch, (int)c->seq_len,
                                     1.0f / (float)t->dp->accum, loss, err);
    if (gpt2_forward(t->m, t->in, t->tg, (int)c->micro_batch, (int)c->seq_len, loss, err)) return -1;
    if (train_mix_after_forward(t, k, err)) return -1;
    return gpt2_backward(t->m, 1.0f / (float)t->dp->accum, err);
}

/* The data-parallel step: this rank's share of the global batch (the loader skips the others'), the
 * tree reduction, the global norm, the sharded update (src/train/dp.h). */
static int train_step_dp(trainer *t, double *lr, double *loss, double *norm, lmc_err *err) {
    const train_config *c = t->cfg;
    int64_t local = t->dp->local, r = t->dist->rank, n = t->dist->size;
    float lf;
    if (t->have_mix) train_mix_plan(&t->mix, t->st.step + 1);
    if (skip(t, 0, r * local, err)) return -1;
    if (train_dp_gradients(t->dp, t->m, dp_leaf, t, &lf, err)) return -1;
    if (skip(t, (r + 1) * local, (n - r - 1) * local, err)) return -1;
    if (t->have_mix && train_mix_end_step(&t->mix, combine, t->dist, t->mix.rule == MIX_DOREMI, err)) return -1;
    if (t->o->after_backward) t->o->after_backward(t->o->hook_ctx, t->st.step + 1, t->m, &lf);
    *loss = lf;
    if (train_dp_clip(t->dp, t->m, c->grad_clip, norm, err)) return -1;
    if (!isfinite(*loss) || !isfinite(*norm)) return 1; /* the same decision on every rank */
    if (!t->dp->shard) return step_optimizer(t, lr, err) ? -1 : 0; /* replicated: any optimizer */
    gpt2_adamw hp = {(float)*lr, (float)c->beta1, (float)c->beta2, (float)c->eps, (float)c->weight_decay};
    return train_dp_adamw(t->dp, t->m, &hp, err) ? -1 : 0;
}

/* One optimizer step; *loss / *norm get the step's mean loss and pre-clip gradient norm.
 * Returns 1 when the update was skipped (non-finite), 0 when applied, <0 on error. */
static int train_step(trainer *t, double *lr, double *loss, double *norm, lmc_err *err) {
    const train_config *c = t->cfg;
    t->step_targets = (uint64_t)c->batch_size * (uint64_t)c->seq_len;
    if (t->dp) return train_step_dp(t, lr, loss, norm, err);
    int64_t accum = c->batch_size / c->micro_batch;
    gpt2_zero_grad(t->m);
    train_mtp_schedule(c, t->m, t->st.step);
    if (t->have_mix) train_mix_plan(&t->mix, t->st.step + 1);
    train_loader *dl = data_for(t, t->st.step + 1);
    if (!t->have_mix && dl->masked) {
        /* the whole step's targets first: its loss is the mean over all of its unmasked targets */
        if (train_loader_next(dl, c->batch_size, t->bin, t->btg, err)) return -1;
        if (train_masked_accum(t->m, t->bin, t->btg, accum, (int)c->micro_batch, (int)c->seq_len, loss,
                               &t->step_targets, err))
            return lmc_err_wrap(err, "step %lld", (long long)t->st.step + 1);
        float lm = (float)*loss;
        if (t->o->after_backward) t->o->after_backward(t->o->hook_ctx, t->st.step + 1, t->m, &lm);
        *loss = lm;
        *norm = gpt2_clip_grad(t->m, c->grad_clip);
        if (!isfinite(*loss) || !isfinite(*norm)) return 1;
        return step_optimizer(t, lr, err) ? -1 : 0;
    }
    double sum = 0;
    for (int64_t k = 0; k < accum; k++) {
        if (fetch(t, k, err)) return -1;
        float l;
        if (!t->have_mix) {
            if (gpt2_forward_backward(t->m, t->in, t->tg, (int)c->micro_batch, (int)c->seq_len, 1.0f / (float)accum,
                                      &l, err))
                return -1;
        } else {
            if (gpt2_forward(t->m, t->in, t->tg, (int)c->micro_batch, (int)c->seq_len, &l, err)) return -1;
            if (train_mix_after_forward(t, k, err)) return -1;
            if (gpt2_backward(t->m, 1.0f / (float)accum, err)) return -1;
        }
        sum += l;
    }
    if (t->have_mix && train_mix_end_step(&t->mix, NULL, NULL, t->mix.rule == MIX_DOREMI, err)) return -1;
    float lf = (float)(sum / (double)accum);
    if (t->o->after_backward) t->o->after_backward(t->o->hook_ctx, t->st.step + 1, t->m, &lf);
    *loss = lf;
    *norm = gpt2_clip_grad(t->m, c->grad_clip);
    /* The finiteness check comes before the optimizer: a NaN must never reach the weights or m, v. */
    if (!isfinite(*loss) || !isfinite(*norm)) return 1;
    if (step_optimizer(t, lr, err)) return -1;
    return 0;
}

int train_run(const train_config *cfg, const train_opts *o, train_result *res, lmc_err *err) {
    trainer t;
    memset(&t, 0, sizeof t);
    train_diag diag = {0}; /* train.diag_every (src/train/diag_hook.c) */
    memset(res, 0, sizeof *res);
    res->last_val_loss = NAN;
    res->last_loss = NAN;
    t.cfg = cfg;
    t.o = o;
    /* A failed start must not leave a half-made run folder that looks like a run. */
    char *run_dir = lmc_path_join(cfg->run_dir, cfg->run_name);
    int fresh = run_dir && !lmc_is_dir(run_dir);
    int rc = setup(&t, res, err);
    if (rc) {
        teardown(&t);
        if (fresh && lmc_is_dir(run_dir)) {
            lmc_err keep;
            lmc_remove_tree(run_dir, &keep);
        }
        free(run_dir);
        return rc;
    }
    free(run_dir);
    res->step = t.st.step;
    const train_config *c = cfg;
    lmc_progress *pr = o->progress;
    /* the status line: every number on it over the last log_every steps (src/train/status.h) */
    train_status ts;
    if (train_status_init(&ts, (int)c->log_every, err)) {
        teardown(&t);
        return -1;
    }
    if (pr) {
        /* counts this session's steps; the line itself is ours (one window for every rate) */
        lmc_progress_start(pr, "train", (uint64_t)(c->steps - t.st.step), "steps");
        pr->line_only = 1;
    }
    double tok_per_step = (double)c->batch_size * (double)c->seq_len;
    t.t_start = lmc_now();
    double t_status = t.t_start;
    int64_t first_step = t.st.step;
    if (o->stop_at > 0 && t.st.step >= o->stop_at && t.st.step < c->steps) {
        res->stopped = 1; /* already there (a resume with --stop-at at or below the checkpoint) */
        event(&t, "already at step %lld (--stop-at %lld): nothing to do", (long long)t.st.step, (long long)o->stop_at);
    }
    if (c->diag_every > 0 && t.writer && train_diag_open(&diag, t.have_val ? &t.val : t.have_mix ? &t.mix.train[0] : &t.train, c->micro_batch, c->seq_len, err)) {
        rc = -1;
        goto out;
    }
    /* Velocitune's l_init: the sources' val losses before the first step (checkpointed after it) */
    if (t.have_mix && t.st.step < c->steps && !res->stopped && train_mix_update_begin(&t.mixu, &t.mix, eval_sources, &t, err)) {
        rc = -1;
        goto out;
    }
    while (t.st.step < c->steps && !res->stopped) {
        int64_t step = t.st.step + 1;
        /* sf-adamw: constant lr (its own warmup inside; the lr it applied is what is logged) */
        double lr = c->lr * (optim_uses_schedule(t.opt) ? train_schedule_factor(&t.sched, step - 1) : 1.0);
        int diag_now = c->diag_every > 0 && t.writer && step % c->diag_every == 0; /* rank 0 only */
        if (diag_now && train_diag_before(&diag, t.m, err)) { rc = -1; goto out; }
        double loss, norm, t0 = lmc_now();
        dist_crash_point(t.dist, step);
        if (t.have_cool && step == train_cooldown_start(c))
            event(&t, "step %lld: MeCo cooldown: data switches to data.cooldown_train (%s) for the last %lld steps; "
                      "optimizer and lr schedule continue", (long long)step, c->data_cooldown_train,
                  (long long)(c->steps - step + 1));
        int skipped = train_step(&t, &lr, &loss, &norm, err);
        if (skipped < 0) { rc = -1; goto out; }
        double dt = lmc_now() - t0;
        if (diag_now && train_diag_after(&diag, t.m, err)) { rc = -1; goto out; }
        t.st.step = step;
        t.st.tokens += t.step_targets; /* unmasked targets (all of them without a loss mask) */
        double tps = tok_per_step / dt, mfu = t.flops_per_token * tps / t.peak_flops;
        res->step = step;
        res->last_loss = loss;

        int do_eval = (t.have_val || (t.have_mix && t.mix.n_val)) &&
                      ((c->eval_every > 0 && step % c->eval_every == 0) || step == c->steps);
        double val_loss = NAN;
        if (do_eval) {
            if (eval_val(&t, &val_loss, err)) { rc = -1; goto out; }
            res->last_val_loss = val_loss;
            train_status_val(&ts, step, val_loss);
        }
        if (t.have_mix && train_mix_update_step(&t.mixu, &t.mix, step, t.m, t.in, t.tg, eval_sources, &t, err)) {
            rc = -1;
            goto out;
        }
        train_eval_results tasks = {0}; /* train.eval_tasks (src/train/eval_tasks.c) */
        if (t.writer && train_eval_tasks_due(c, step)) { /* rank 0 only: the weights are the same on every rank */
            if (!t.tok_json) { rc = lmc_errf(err, LMC_EINVAL, "train.eval_tasks needs data.tokenizer"); goto out; }
            optim_to_eval(t.opt, t.m); /* sf-adamw: the tasks score the evaluation point x */
            int trc = train_eval_tasks_run(t.m, c, t.tok_json, step, &tasks, err);
            optim_to_train(t.opt, t.m);
            if (trc) { rc = -1; goto out; }
        }
        lmc_jsonl *w = &t.metrics;
        if (t.writer) {
        lmc_jsonl_begin(w);
        lmc_jsonl_int(w, "step", step);
        lmc_jsonl_num(w, "loss", loss);
        lmc_jsonl_num(w, "lr", lr);
        lmc_jsonl_num(w, "grad_norm", norm);
        lmc_jsonl_int(w, "tokens", (int64_t)t.st.tokens);
        if (t.masked) lmc_jsonl_int(w, "tokens_all", (int64_t)((double)step * tok_per_step));
        if (t.have_cool && train_cooldown_active(c, step)) lmc_jsonl_bool(w, "cooldown", 1);
        lmc_jsonl_num(w, "tokens_per_s", tps);
        lmc_jsonl_num(w, "mfu", mfu);
        lmc_jsonl_num(w, "elapsed_s", t.st.elapsed_s + (lmc_now() - t.t_start));
        if (do_eval) lmc_jsonl_num(w, "val_loss", val_loss);
        train_eval_tasks_log(w, &tasks);
        if (t.have_mix) train_mix_log(&t.mix, w);
        train_diag_log(w, &diag);
        if (skipped) lmc_jsonl_bool(w, "skipped", 1);
        if (t.dp && t.dist->size > 1) lmc_jsonl_num(w, "comm_s", t.dp->comm_step_s);
        if (lmc_jsonl_end(w, err)) { rc = -1; goto out; }
        if (t.tb_open && tb_writer_metrics_line(&t.tb, w->line.data, w->line.len, tb_wall_now(), err)) { rc = -1; goto out; }
        }

        if (skipped) {
            t.st.nonfinite_run++;
            t.st.nonfinite_total++;
            res->skipped++;
            event(&t, "step %lld: non-finite %s (loss %g, grad norm %g): update skipped (%lld in a row)",
                  (long long)step, isfinite(loss) ? "gradient norm" : "loss", loss, norm,
                  (long long)t.st.nonfinite_run);
            if (t.st.nonfinite_run >= c->max_nonfinite) {
                rc = lmc_errf(err, LMC_ENUMERIC,
                              "stopped at step %lld: %lld non-finite steps in a row (loss or gradient norm NaN/inf); "
                              "the last good checkpoint is %s",
                              (long long)step, (long long)t.st.nonfinite_run,
                              res->last_ckpt[0] ? res->last_ckpt : "(none written yet)");
                event(&t, "%s", err->msg);
                goto out;
            }
        } else {
            t.st.nonfinite_run = 0;
        }
        if (do_eval) event(&t, "step %lld: val_loss %.4f", (long long)step, val_loss);
        if (t.have_mix) {
            char news[1200];
            train_mix_epoch_news(&t.mix, news, sizeof news);
            if (news[0]) event(&t, "step %lld: %s", (long long)step, news);
        }
        double now = lmc_now();
        train_status_push(&ts, dt, now - t_status, skipped ? NAN : loss);
        t_status = now;
        char line[256];
        train_status_format(&ts, line, sizeof line, step, c->steps, lr, tok_per_step, t.flops_per_token, t.peak_flops);
        if (step % c->log_every == 0 || step == c->steps) {
            if (t.log) {
                fprintf(t.log, "%s\n", line);
                fflush(t.log);
            }
            if (o->on_event && !pr && t.writer) o->on_event(o->event_ctx, TRAIN_EV_STATUS, line);
        }
        if (pr) {
            lmc_progress_note(pr, "%s", line);
            lmc_progress_set(pr, (uint64_t)(step - first_step));
        }
        if (t.writer && c->sample_every > 0 && step % c->sample_every == 0 && step != c->steps) try_sample(&t);
        int stop = (o->stop_at > 0 && step >= o->stop_at) || (o->stop_flag && *o->stop_flag);
        /* a signal reaches the ranks at different moments: they stop at the same step boundary */
        if (t.dist->size > 1 && dist_max_int(t.dist, &stop, err)) { rc = -1; goto out; }
        int do_ckpt = step == c->steps || stop || (c->checkpoint_every > 0 && step % c->checkpoint_every == 0);
        if (do_ckpt && save_ckpt(&t, res, err)) { rc = -1; goto out; }
        if (stop && step < c->steps) {
            res->stopped = 1;
            event(&t, "stopped after step %lld (%s); resume with --resume", (long long)step,
                  o->stop_at > 0 && step >= o->stop_at ? "--stop-at" : "signal");
            break;
        }
    }
    /* the final sample; also on a resume of a run killed between its last checkpoint and this sample */
    if (!res->stopped && t.st.step >= c->steps && (t.st.step > first_step || !t.sampled_last)) {
        if (t.writer) try_sample(&t);
        event(&t, "done: %lld steps, loss %.4f%s", (long long)t.st.step, res->last_loss, "");
    }
    if (pr) lmc_progress_finish(pr);
out:
    train_diag_close(&diag);
    /* The run's log tells why it stopped (a disk-full checkpoint, a bad shard), not only stderr. */
    if (rc && t.log && err && err->msg[0]) event(&t, "error: %s", err->msg);
    train_status_free(&ts);
    teardown(&t);
    return rc;
}
