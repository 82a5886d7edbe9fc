/* The config table and its YAML reader.
 *
 * The reader walks libyaml's event stream itself (rather than loading a generic tree) so that each
 * value is typed by the key it belongs to and every error can point at the exact line and column:
 * a quoted "3e-4" for a float key is an error, a plain 123 for a string key is the string "123". */
#include "train/config.h"
#include "train/eval_tasks.h"
#include "train/mix_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define OFF(f) offsetof(train_config, f)
#define SZ(f) sizeof(((train_config *)0)->f)
#define KI(sec, name, f, def, lo, hi, help) {sec, name, TRAIN_KEY_INT, OFF(f), 0, def, NULL, lo, hi, help}
#define KF(sec, name, f, def, lo, hi, help) {sec, name, TRAIN_KEY_FLOAT, OFF(f), 0, def, NULL, lo, hi, help}
#define KS(sec, name, f, def, help) {sec, name, TRAIN_KEY_STR, OFF(f), SZ(f), def, NULL, 0, 0, help}
#define KE(sec, name, f, def, ch, help) {sec, name, TRAIN_KEY_ENUM, OFF(f), SZ(f), def, ch, 0, 0, help}
#define BIG 9.0e18

static const train_key keys[] = {
    KS("run", "name", run_name, "run", "run name; the run directory is run.dir/run.name"),
    KS("run", "dir", run_dir, "runs", "parent folder of run directories"),
    KI("run", "seed", seed, "1337", 0, BIG, "seed for initialisation, data order and samples"),
    KI("run", "log_every", log_every, "10", 1, BIG, "steps between plain status lines (when not on a TTY), and the window every rate on the status line is taken over"),
    KI("run", "sample_every", sample_every, "0", 0, BIG, "steps between samples written to samples.txt (0 = only at the end)"),
    KI("run", "sample_tokens", sample_tokens, "64", 0, 1 << 20, "tokens per sample in samples.txt (0 = no samples)"),
    KS("run", "sample_prompt", sample_prompt, "", "prompt for samples.txt (empty = start from the end-of-text token)"),
    KE("run", "tensorboard", tensorboard, "false", "false|true", "also write every metrics.jsonl scalar to RUN/tb/events.out.tfevents.* (TensorBoard: tensorboard --logdir runs/)"),
    KF("run", "peak_tflops", peak_tflops, "0", 0, 1e9, "peak FLOP/s (in TFLOP/s) for MFU; 0 = measure a GEMM at start"),
    KS("run", "init_from", init_from, "", "start a new run from this lmc checkpoint folder (weights, AdamW, step, data position: e.g. a cooldown branch) or from a plain HF GPT-2/Llama/Qwen2 folder (weights only, fresh optimizer, step 0)"),
    KS("data", "train", data_train, "", "glob of training token shards (llm.c .bin; headerless uint16 with data.format)"),
    KS("data", "val", data_val, "", "glob of validation token shards (empty = no evaluation)"),
    KE("data", "format", data_format, "llmc", "llmc|nanogpt",
       "shard layout: llmc (header required) or nanogpt (headerless uint16)"),
    KS("data", "tokenizer", data_tokenizer, "", "tokenizer.json: vocab size, checkpoints and samples"),
    KE("data", "mixing", mixing, "static", "static|doremi|velocitune|chameleon",
       "data.sources weight rule: static (the configured weights), doremi (excess loss over data.mixing_reference), velocitune (learning velocity against each source's target_loss), chameleon (KRLS scores of middle-layer embeddings); docs/train.md"),
    KI("data", "mixing_every", mixing_every, "10", 1, BIG, "steps between weight updates of a dynamic data.mixing rule"),
    KS("data", "mixing_reference", mixing_reference, "", "doremi: the reference model (an lmc checkpoint folder or an HF folder with the run's vocabulary), loaded read-only"),
    KF("data", "mixing_eta", mixing_eta, "1", 0, 1e6, "doremi: step size eta of the exponentiated-gradient update"),
    KF("data", "mixing_smoothing", mixing_smoothing, "0.001", 0, 1, "doremi: smoothing c of the weights towards uniform"),
    KF("data", "chameleon_lambda", chameleon_lambda, "10", 0, 1e12, "chameleon: KRLS ridge lambda"),
    KF("data", "chameleon_tau", chameleon_tau, "5", 1e-9, 1e9, "chameleon: softmax temperature of the inverse scores"),
    KI("data", "chameleon_windows", chameleon_windows, "4", 1, 1 << 20, "chameleon: seq_len windows per source (val shards, else train) whose mean middle-layer hidden state is its embedding"),
    KE("data", "packing", data_packing, "concat", "concat|seamless", "training windows: concat = fixed cuts of the token stream; seamless = Seamless Packing (ACL 2025): long documents by a sliding window with bounded overlap, short ones First-Fit-Decreasing into bins (docs/train.md); validation stays concat"),
    KF("data", "packing_overlap", packing_overlap, "0.3", 0, 0.99, "seamless: the largest overlap of consecutive windows of one document, as a fraction of seq_len+1 (the paper's repetition ratio 0.3)"),
    KI("data", "packing_extra", packing_extra, "50", 0, 1 << 20, "seamless: bins hold seq_len+1+this many tokens before First-Fit-Decreasing closes them; the excess is truncated (the paper's 50)"),
    KE("data", "packing_pad", packing_pad, "false", "false|true", "seamless: true = the paper's padding variant (bins of exactly seq_len+1, each padded; padding has no target and no token count)"),
    KE("data", "loss_mask", data_loss_mask, "auto", "auto|off|require",
       "loss-mask sidecars X.mask next to each shard X.bin (docs/train.md): auto = used when present, and then required for every shard of the glob; require = every shard must have one; off = ignored"),
    KS("data", "cooldown_train", data_cooldown_train, "", "MeCo: glob of the plain (metadata-free) shards the final train.meco_cooldown_fraction of the steps train on"),
    KE("model", "arch", arch, "gpt2", "gpt2|llama", "preset: gpt2 (LayerNorm, learned positions, GELU, biases, tied head) or llama (RMSNorm, RoPE, SwiGLU, no biases, untied head); the keys below override it"),
    KI("model", "n_layer", n_layer, "4", 1, 1024, "transformer blocks"),
    KI("model", "n_head", n_head, "4", 1, 1024, "attention heads"),
    KI("model", "n_kv_head", n_kv_head, "0", 0, 1024, "key/value heads: 0 = n_head (multi-head), a divisor of n_head (grouped-query), 1 (multi-query)"),
    KI("model", "d_model", d_model, "128", 1, 1 << 16, "embedding width"),
    KI("model", "d_ff", d_ff, "0", 0, 1 << 20, "MLP width (0 = preset rule: 4*d_model for gelu, 256*ceil(floor(8*d_model/3)/256) for swiglu)"),
    KI("model", "seq_len", seq_len, "256", 1, 1 << 20, "context length in tokens"),
    KI("model", "vocab_size", vocab_size, "0", 0, 1 << 24, "vocabulary size (0 = from the tokenizer)"),
    KE("model", "norm", norm, "preset", "preset|layernorm|rmsnorm", "normalisation (preset = the arch's)"),
    KF("model", "norm_eps", norm_eps, "0", 0, 1, "norm epsilon (0 = 1e-5)"),
    KE("model", "position", position, "preset", "preset|learned|rope|alibi|none", "position encoding: learned table, RoPE (HF rotate-half), ALiBi, none (NoPE)"),
    KF("model", "rope_theta", rope_theta, "0", 0, 1e12, "RoPE base (0 = 10000)"),
    KE("model", "mlp", mlp, "preset", "preset|gelu|swiglu", "MLP: GELU-tanh or SwiGLU"),
    KE("model", "bias", bias, "preset", "preset|true|false", "biases in linear layers and LayerNorm"),
    KE("model", "tie_embeddings", tie_embeddings, "preset", "preset|true|false", "output head shares the token embedding"),
    KE("model", "attention", attention, "softmax", "softmax|lssa|lssar", "attention weights: softmax, lssa (softplus with the log(hd)log(n) length scale, arXiv 2501.13428) or lssar (lssa + re-weighting relu(n*A-1)^p); see docs/model.md"),
    KI("model", "lssar_power", lssar_power, "15", 1, 64, "lssar: the re-weighting power p (paper: 15 for 2-16x extrapolation, 3 at the training length)"),
    KE("model", "doc_mask", doc_mask, "false", "false|true", "document masking: attention and position ids restart at every end-of-text token inside a window (packed documents do not see each other); training and full-window eval"),
    KI("model", "doc_sep_id", doc_sep_id, "-1", -1, 1 << 24, "the token that begins every document (-1 = data.tokenizer's end-of-text)"),
    KE("model", "qk_norm", qk_norm, "false", "true|false", "RMSNorm of every q and k head before RoPE with learnable gains [head_dim] (Qwen3 placement)"),
    KE("model", "depth_scaling", depth_scaling, "none", "none|lns", "lns = LayerNorm Scaling: each pre-sublayer norm output of block l (1-based) times 1/sqrt(l), final norm unscaled, no depth-scaled init"),
    KE("model", "activation", activation, "preset", "preset|gelu|swiglu|hermite|fourier|tropical", "MLP activation: preset = model.mlp's; gelu/swiglu set model.mlp; hermite/fourier/tropical = learnable activation (ICLR 2026) in the non-gated MLP"),
    KI("model", "activation_degree", activation_degree, "3", 1, 16, "degree of the hermite/fourier/tropical activation"),
    KE("model", "normalized", normalized, "none", "none|ngpt|angpt", "ngpt = the normalized transformer (nGPT, ICLR 2025): unit-norm hidden states and matrices (projected after every optimizer step), learned eigen learning rates; angpt = the approximately normalized transformer (NeurIPS 2025): constant norm factors instead of per-token norms, matrix vectors bounded to norm <= 1 after every step, QK-norm kept (needs weight_decay 0, and muon.weight_decay 0 with muon); both need arch llama's switches (swiglu, no bias, untied), n_kv_head = n_head; use warmup 0"),
    KI("model", "mtp_heads", mtp_heads, "0", 0, 7, "extra multi-token prediction heads K (head i predicts token t+1+i; sampling uses the next-token head)"),
    KI("train", "steps", steps, "1000", 1, BIG, "optimizer steps"),
    KI("train", "batch_size", batch_size, "16", 1, 1 << 24, "sequences per optimizer step"),
    KI("train", "micro_batch", micro_batch, "16", 1, 1 << 24, "sequences per forward/backward (accumulation = batch_size/micro_batch)"),
    KF("train", "lr", lr, "0.0006", 0, 1e3, "peak learning rate"),
    KF("train", "min_lr_ratio", min_lr_ratio, "0.1", 0, 1, "final learning rate as a fraction of lr (cosine, wsd)"),
    KI("train", "warmup_steps", warmup_steps, "100", 0, BIG, "linear warmup steps (from lr/100 to lr)"),
    KE("train", "schedule", schedule, "cosine", "cosine|wsd|constant", "learning-rate schedule: cosine, wsd (warmup-stable-decay), constant (WSO)"),
    KF("train", "decay_fraction", decay_fraction, "0.2", 0, 1, "wsd: fraction of the steps spent decaying at the end"),
    KF("train", "meco_cooldown_fraction", meco_cooldown_fraction, "0", 0, 0.999999, "MeCo: the final fraction of steps (floor(F * steps)) reads data.cooldown_train instead of data.train; optimizer and lr schedule continue (0 = off; the paper uses 0.1)"),
    KE("train", "decay_shape", decay_shape, "1-sqrt", "linear|1-sqrt", "wsd: decay shape, linear or 1-sqrt"),
    KF("train", "weight_decay", weight_decay, "0.1", 0, 1e3, "AdamW decoupled weight decay"),
    KF("train", "beta1", beta1, "0.9", 0, 0.999999, "AdamW beta1"),
    KF("train", "beta2", beta2, "0.95", 0, 0.999999999, "AdamW beta2"),
    KF("train", "eps", eps, "1e-08", 0, 1, "AdamW epsilon"),
    KF("train", "grad_clip", grad_clip, "1", 0, 1e9, "clip the global gradient norm to this (0 = no clipping)"),
    KI("train", "eval_every", eval_every, "100", 0, BIG, "steps between validation evaluations (0 = only at the end)"),
    KI("train", "eval_batches", eval_batches, "8", 0, 1 << 24, "micro-batches in the fixed validation set (0 = no evaluation)"),
    KI("train", "checkpoint_every", checkpoint_every, "500", 0, BIG, "steps between checkpoints (0 = only at the end)"),
    KI("train", "keep_checkpoints", keep_checkpoints, "2", 1, 1 << 20, "newest checkpoints kept; older ones are deleted"),
    KI("train", "threads", threads, "0", 0, 4096, "OpenMP threads (0 = all cores)"),
    KE("train", "precision", precision, "auto", "auto|fp32|bf16",
       "GEMM precision: bf16 = mixed precision (fp32 master weights and optimizer state, bf16 GEMM inputs); auto = bf16 when the CPU has AMX-BF16 or AVX512_BF16"),
    KE("train", "optimizer", optimizer, "adamw", "adamw|sf-adamw|sf-adamw-refined|muon|soap|galore|kl-shampoo|kl-soap",
       "adamw (torch.optim.AdamW); sf-adamw (Schedule-Free AdamW: constant lr, train.schedule ignored, train.warmup_steps is its linear warmup, checkpoints/eval at the averaged point x); sf-adamw-refined (the same with Through the River's averaging weight, train.sf.C); muon (Newton-Schulz orthogonalised momentum on the 2-D block weights, AdamW with train.lr on embeddings, head, norms, biases); soap (Adam in the eigenbasis of Shampoo's factors, every tensor; uses train.beta1/beta2/eps/weight_decay); galore (Adam on a rank-k SVD projection of each block weight's gradient, Adam on the rest); kl-shampoo (KL-Shampoo, ICLR 2026: Kronecker factors fitted by KL minimisation, EMA eigenvalues, no grafting, no second moment; every 2-D tensor, AdamW on 1-D; no bias correction, so use lr warmup); kl-soap (the same factors, SOAP's Adam in their eigenbasis); both use train.beta1/beta2/eps/weight_decay and the soap.* keys"),
    KF("train", "sf.r", sf_r, "0", 0, 100, "sf-adamw: polynomial weighting power r of the average, weight (k+1)^r * lr_max^weight_lr_power"),
    KF("train", "sf.weight_lr_power", sf_weight_lr_power, "2", 0, 100, "sf-adamw: power of the max lr so far in each step's averaging weight (warmup steps count less)"),
    KF("train", "sf.C", sf_c, "200", 0, 1e9, "sf-adamw-refined: the constant C of the averaging weight c_t = min(1, (1-beta1) C / t) (Through the River; the paper's best at 124M is 200)"),
    KF("train", "muon.lr", muon_lr, "0", 0, 1e3, "muon: peak lr of the Muon matrices, scheduled like train.lr (0 = train.lr, natural with adjust_lr match_rms_adamw)"),
    KF("train", "muon.momentum", muon_momentum, "0.95", 0, 0.999999, "muon: momentum mu of the buffer B = lerp(B, g, 1-mu)"),
    KE("train", "muon.nesterov", muon_nesterov, "true", "true|false", "muon: Nesterov momentum (update lerp(g, B, mu) instead of B)"),
    KI("train", "muon.ns_steps", muon_ns_steps, "5", 1, 99, "muon: Newton-Schulz iterations (quintic, coefficients 3.4445, -4.7750, 2.0315)"),
    KF("train", "muon.weight_decay", muon_weight_decay, "0.1", 0, 1e3, "muon: decoupled weight decay of the Muon matrices, W *= 1 - lr*wd"),
    KF("train", "muon.eps", muon_eps, "1e-07", 0, 1, "muon: floor of the Frobenius norm before Newton-Schulz"),
    KE("train", "muon.adjust_lr", muon_adjust_lr, "match_rms_adamw", "match_rms_adamw|original",
       "muon: update scale, match_rms_adamw = lr * 0.2 * sqrt(max(out, in)) (Moonlight: AdamW's lr and wd transfer) or original = lr * sqrt(max(1, out/in)) (Keller Jordan's)"),
    KI("train", "soap.precondition_frequency", soap_precondition_frequency, "10", 1, 1 << 30, "soap, kl-shampoo, kl-soap: steps between eigenbasis refreshes (one power iteration L Q + QR, LAPACK)"),
    KI("train", "soap.max_precond_dim", soap_max_precond_dim, "10000", 1, 1 << 20, "soap, kl-shampoo, kl-soap: sides longer than this are not rotated (identity; kl-*: a diagonal factor); the factor of a side of length d costs 2 d^2 floats"),
    KF("train", "soap.shampoo_beta", soap_shampoo_beta, "-1", -1, 0.999999, "soap, kl-shampoo, kl-soap: EMA coefficient of the Shampoo factors L = GG^T, R = G^TG (kl-*: the KL factors and their eigenvalues) (negative = train.beta2)"),
    KF("train", "kl.init_factor", kl_init_factor, "0.1", 1e-30, 1e30, "kl-shampoo, kl-soap: initial eigenvalue estimate lambda of both Kronecker factors (the paper's init_factor)"),
    KF("train", "kl.clamp", kl_clamp, "4000", 0, 1e30, "kl-shampoo, kl-soap: lambda^-1/2 of a side of length d is clamped to max(10, min(d, clamp)) (0 = no clamping)"),
    KI("train", "galore.rank", galore_rank, "128", 1, 1 << 20, "galore: rank k of each block weight's gradient projection (capped at its shorter side)"),
    KI("train", "galore.update_proj_gap", galore_update_proj_gap, "200", 1, 1 << 30, "galore: steps between subspace updates (SVD of the current gradient)"),
    KF("train", "galore.scale", galore_scale, "0.25", 0, 1e3, "galore: scale alpha of the projected-back update"),
    KE("train", "galore.subspace", galore_subspace, "svd", "svd|importance", "galore: how the subspace is chosen: svd = the top-k singular vectors of the gradient (GaLore); importance = k of them sampled without replacement with probability proportional to the singular value (SARA, NeurIPS 2025), seeded by run.seed"),
    KE("train", "mtp_curriculum", mtp_curriculum, "none", "none|forward|reverse", "multi-token heads over training (ACL 2025): none = all K active; forward = 1 -> K+1 heads, reverse = K+1 -> 1, in K+1 equal stages"),
    KI("train", "diag_every", diag_every, "0", 0, BIG, "steps between probe-batch diagnostics logged as zsl_D, zsl_M, gwa, gwa_gamma (0 = off; docs/eval.md)"),
    KI("train", "max_nonfinite", max_nonfinite, "5", 1, 1 << 20, "consecutive non-finite steps (skipped) before the run stops"),
    KE("train", "grad_accum", grad_accum, "auto", "auto|inplace|tree",
       "micro-batch gradient sum: inplace (each backward adds into one buffer), tree (a fixed pairwise tree over the micro-batches, bitwise equal for any number of MPI ranks), auto = tree under MPI"),
    KE("train", "shard_optimizer", shard_optimizer, "true", "true|false",
       "under MPI: each rank keeps and updates only its slice of the AdamW state, then the weights are all-gathered (ZeRO-1)"),
    KF("train", "dist_timeout_s", dist_timeout_s, "600", 0, 1e7,
       "under MPI: a collective waiting longer than this stops the run with an error naming the rank (0 = wait forever)"),
};

const train_key *train_config_keys(size_t *n) {
    *n = sizeof keys / sizeof keys[0];
    return keys;
}

static const train_key *find_key(const char *section, const char *name) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name)) return &keys[i];
    return NULL;
}

static int is_section(const char *s) {
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].section, s)) return 1;
    return 0;
}

/* YAML 1.2 core-schema integer (decimal only) / float, strictly: no trailing garbage. */
static int parse_int(const char *s, int64_t *out) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!isdigit((unsigned char)*p)) return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out) {
    if (!*s || isspace((unsigned char)*s)) return -1;
    /* strtod also takes hex, "inf", "nan": YAML's core schema spells those .inf/.nan, and a
     * learning rate of infinity is a mistake anyway, so only finite decimal forms are accepted. */
    for (const char *p = s; *p; p++)
        if (!(isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-'))
            return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int choice_ok(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

/* Set one key from scalar text. `quoted`: the YAML scalar was quoted (so it is a string).
 * `where` prefixes messages ("cfg.yaml:3:5" or "--set"). */
static int set_value(train_config *c, const train_key *k, const char *v, int quoted,
                     const char *where, lmc_err *err) {
    char *field = (char *)c + k->offset;
    switch (k->type) {
    case TRAIN_KEY_INT: {
        int64_t x;
        if (quoted || parse_int(v, &x))
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: expected an integer, got '%s'", where,
                            k->section, k->name, v);
        if ((double)x < k->min || (double)x > k->max)
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: %lld is out of range [%.17g, %.17g]", where,
                            k->section, k->name, (long long)x, k->min, k->max);
        *(int64_t *)field = x;
        return 0;
    }
    case TRAIN_KEY_FLOAT: {
        double x;
        if (quoted || parse_float(v, &x))
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: expected a number, got '%s'", where,
                            k->section, k->name, v);
        if (x < k->min || x > k->max)
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: %g is out of range [%g, %g]", where,
                            k->section, k->name, x, k->min, k->max);
        *(double *)field = x;
        return 0;
    }
    case TRAIN_KEY_ENUM:
        if (!choice_ok(k->choices, v))
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: expected one of %s, got '%s'", where,
                            k->section, k->name, k->choices, v);
        /* fallthrough */
    case TRAIN_KEY_STR:
        if (strlen(v) >= k->size)
            return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: value is longer than %zu bytes", where,
                            k->section, k->name, k->size - 1);
        memset(field, 0, k->size); /* no stale bytes: configs compare with memcmp */
        memcpy(field, v, strlen(v));
        return 0;
    }
    return lmc_errf(err, LMC_EINVAL, "%s: %s.%s: bad key type", where, k->section, k->name);
}

void train_config_defaults(train_config *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        lmc_err e;
        /* The table's defaults are valid by construction (tests/train/test_config checks it). */
        (void)set_value(c, &keys[i], keys[i].def, keys[i].type == TRAIN_KEY_STR, "default", &e);
    }
}

/* ---- YAML event walk ---- */

#define NKEYS (sizeof keys / sizeof keys[0])

typedef struct {
    yaml_parser_t p;
    yaml_event_t ev;
    const char *name;
    lmc_err *err;
    /* Where each key and section was first given (0 = not yet): a second one is an error, because
     * YAML's "last wins" silently drops the value the user may have meant. */
    size_t key_line[NKEYS], key_col[NKEYS];
    const char *sec_name[8];
    size_t sec_line[8], sec_col[8];
    int n_sec;
    size_t src_line, src_col; /* data.sources */
} walker;

static int next(walker *w) {
    yaml_event_delete(&w->ev);
    if (!yaml_parser_parse(&w->p, &w->ev)) {
        return lmc_err_at(w->err, LMC_EFORMAT, w->name, w->p.problem_mark.line + 1,
                          w->p.problem_mark.column + 1, "YAML: %s", w->p.problem ? w->p.problem : "syntax error");
    }
    return 0;
}

static int at(walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int at(walker *w, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return lmc_err_at(w->err, LMC_EINVAL, w->name, w->ev.start_mark.line + 1, w->ev.start_mark.column + 1,
                      "%s", msg);
}

static const char *scalar(walker *w) { return (const char *)w->ev.data.scalar.value; }

static int walk_section(walker *w, train_config *c, const char *section) {
    /* current event: MAPPING_START of the section */
    for (;;) {
        if (next(w)) return -1;
        if (w->ev.type == YAML_MAPPING_END_EVENT) return 0;
        if (w->ev.type != YAML_SCALAR_EVENT) return at(w, "%s: expected a key", section);
        char key[256];
        snprintf(key, sizeof key, "%s", scalar(w));
        if (!strcmp(section, "train") && !strcmp(key, "eval_tasks")) { /* a list, not a table key */
            if (train_eval_tasks_parse(&w->p, &w->ev, c, w->name, w->err)) return -1;
            continue;
        }
        if (!strcmp(section, "data") && !strcmp(key, "sources")) { /* a list too (src/train/mix_config.c) */
            w->src_line = w->ev.start_mark.line + 1;
            w->src_col = w->ev.start_mark.column + 1;
            if (train_mix_sources_parse(&w->p, &w->ev, c, w->name, w->err)) return -1;
            continue;
        }
        const train_key *k = find_key(section, key);
        if (!k) return at(w, "unknown key '%s.%s' (lmc train --print-config lists the keys)", section, key);
        size_t line = w->ev.start_mark.line + 1;
        size_t ki = (size_t)(k - keys);
        if (w->key_line[ki])
            return at(w, "duplicate key '%s.%s' (first given at %zu:%zu)", section, key, w->key_line[ki], w->key_col[ki]);
        w->key_line[ki] = line;
        w->key_col[ki] = w->ev.start_mark.column + 1;
        if (next(w)) return -1;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return at(w, "%s.%s: expected a single value, not a %s", section, key,
                      w->ev.type == YAML_SEQUENCE_START_EVENT ? "list" : "mapping");
        char where[1200];
        snprintf(where, sizeof where, "%s:%zu:%zu", w->name, line, (size_t)w->ev.start_mark.column + 1);
        int quoted = w->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        const char *v = scalar(w);
        /* An empty plain value ("key:") is YAML null: fine for strings (empty), an error otherwise. */
        if (!quoted && (!strcmp(v, "~") || !strcmp(v, "null"))) v = "";
        if (set_value(c, k, v, quoted, where, w->err)) return -1;
    }
}

int train_config_load_buf(train_config *c, const char *buf, size_t len, const char *name, lmc_err *err) {
    walker w;
    memset(&w, 0, sizeof w);
    w.name = name;
    w.err = err;
    if (!yaml_parser_initialize(&w.p)) return lmc_errf(err, LMC_ENOMEM, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&w.p, (const unsigned char *)buf, len);
    int rc = -1;
    int depth = 0; /* 0: before the document's mapping, 1: inside it */
    if (next(&w)) goto out;
    for (;;) {
        yaml_event_type_t t = w.ev.type;
        if (t == YAML_STREAM_END_EVENT) break;
        if (t == YAML_DOCUMENT_END_EVENT && depth == 1) { rc = 0; goto out; }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
        } else if (t == YAML_MAPPING_START_EVENT && depth == 0) {
            depth = 1;
        } else if (t == YAML_MAPPING_END_EVENT && depth == 1) {
            depth = 2;
        } else if (t == YAML_SCALAR_EVENT && depth == 0 && w.ev.data.scalar.length == 0) {
            /* an empty document */
        } else if (t == YAML_SCALAR_EVENT && depth == 1) {
            char section[256];
            snprintf(section, sizeof section, "%s", scalar(&w));
            if (!is_section(section)) {
                at(&w, "unknown section '%s' (expected run, data, model or train)", section);
                goto out;
            }
            int dup = 0;
            for (int i = 0; i < w.n_sec && !dup; i++)
                if (!strcmp(w.sec_name[i], section)) {
                    at(&w, "duplicate section '%s' (first given at %zu:%zu)", section, w.sec_line[i], w.sec_col[i]);
                    dup = 1;
                }
            if (dup) goto out;
            if (w.n_sec < 8) {
                /* the table's own string: sections are a handful of fixed names */
                for (size_t i = 0; i < NKEYS; i++)
                    if (!strcmp(keys[i].section, section)) { w.sec_name[w.n_sec] = keys[i].section; break; }
                w.sec_col[w.n_sec] = w.ev.start_mark.column + 1;
                w.sec_line[w.n_sec++] = w.ev.start_mark.line + 1;
            }
            if (next(&w)) goto out;
            if (w.ev.type == YAML_SCALAR_EVENT && !strcmp(scalar(&w), "") ) {
                /* "train:" with nothing under it */
            } else if (w.ev.type != YAML_MAPPING_START_EVENT) {
                at(&w, "%s: expected a mapping of keys", section);
                goto out;
            } else if (walk_section(&w, c, section)) {
                goto out;
            }
        } else {
            at(&w, "expected a mapping of sections (run, data, model, train)");
            goto out;
        }
        if (next(&w)) goto out;
    }
    rc = 0;
    if (w.src_line && c->data_train[0])
        rc = lmc_err_at(err, LMC_EINVAL, name, w.src_line, w.src_col,
                        "data.sources and data.train are both set: data.sources replaces data.train (remove one)");
out:
    yaml_event_delete(&w.ev);
    yaml_parser_delete(&w.p);
    return rc;
}

int train_config_load_file(train_config *c, const char *path, lmc_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return lmc_err_sys(err, path, "open");
    lmc_buf b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = lmc_buf_append(&b, chunk, n, err))) break;
    if (!rc && ferror(f)) rc = lmc_err_sys(err, path, "read");
    fclose(f);
    if (!rc) rc = train_config_load_buf(c, b.data ? b.data : "", b.len, path, err);
    lmc_buf_free(&b);
    return rc;
}

int train_config_set(train_config *c, const char *assignment, lmc_err *err) {
    const char *eq = strchr(assignment, '=');
    const char *dot = strchr(assignment, '.');
    if (!eq || !dot || dot > eq)
        return lmc_errf(err, LMC_EINVAL, "--set %s: expected section.key=value (e.g. train.lr=3e-4)", assignment);
    char section[256], name[256];
    snprintf(section, sizeof section, "%.*s", (int)(dot - assignment), assignment);
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    const train_key *k = find_key(section, name);
    if (!k)
        return lmc_errf(err, LMC_EINVAL, "--set %s: unknown key '%s.%s' (lmc train --print-config lists the keys)",
                        assignment, section, name);
    return set_value(c, k, eq + 1, 0, "--set", err);
}

int train_config_validate(const train_config *c, int need_data, lmc_err *err) {
    if (c->batch_size % c->micro_batch)
        return lmc_errf(err, LMC_EINVAL, "train.batch_size (%lld) must be a multiple of train.micro_batch (%lld)",
                        (long long)c->batch_size, (long long)c->micro_batch);
    if (c->d_model % c->n_head)
        return lmc_errf(err, LMC_EINVAL, "model.d_model (%lld) must be a multiple of model.n_head (%lld)",
                        (long long)c->d_model, (long long)c->n_head);
    if (c->n_kv_head && c->n_head % c->n_kv_head)
        return lmc_errf(err, LMC_EINVAL, "model.n_kv_head (%lld) must divide model.n_head (%lld)",
                        (long long)c->n_kv_head, (long long)c->n_head);
    if (c->rope_theta != 0 && c->rope_theta <= 1)
        return lmc_errf(err, LMC_EINVAL, "model.rope_theta (%g) must be greater than 1 (or 0 for 10000)", c->rope_theta);
    if (c->warmup_steps > c->steps)
        return lmc_errf(err, LMC_EINVAL, "train.warmup_steps (%lld) exceeds train.steps (%lld)",
                        (long long)c->warmup_steps, (long long)c->steps);
    if (!strcmp(c->schedule, "wsd") &&
        c->warmup_steps > c->steps - (int64_t)floor(c->decay_fraction * (double)c->steps))
        return lmc_errf(err, LMC_EINVAL, "train.warmup_steps overlaps the wsd decay phase (train.decay_fraction)");
    if (c->meco_cooldown_fraction > 0 && !c->data_cooldown_train[0])
        return lmc_errf(err, LMC_EINVAL, "train.meco_cooldown_fraction %g needs data.cooldown_train (the plain shards)",
                        c->meco_cooldown_fraction);
    if (c->data_cooldown_train[0] && c->meco_cooldown_fraction <= 0)
        return lmc_errf(err, LMC_EINVAL, "data.cooldown_train is set but train.meco_cooldown_fraction is 0 (it would never be read)");
    if (c->meco_cooldown_fraction > 0 && (int64_t)floor(c->meco_cooldown_fraction * (double)c->steps) < 1)
        return lmc_errf(err, LMC_EINVAL, "train.meco_cooldown_fraction %g of train.steps %lld is no step", c->meco_cooldown_fraction,
                        (long long)c->steps);
    if (!c->run_name[0] || strchr(c->run_name, '/'))
        return lmc_errf(err, LMC_EINVAL, "run.name must be a non-empty name without '/'");
    if (train_mix_validate(c, err)) return -1;
    if (need_data && !c->data_train[0] && !c->n_sources)
        return lmc_errf(err, LMC_EINVAL, "data.train is not set (a glob of token shards, or data.sources)");
    if (need_data && !c->vocab_size && !c->data_tokenizer[0])
        return lmc_errf(err, LMC_EINVAL, "model.vocab_size is 0 (= from the tokenizer) but data.tokenizer is not set");
    return 0;
}

/* Shortest decimal that reads back as the same double. */
static void fmt_double(char *buf, size_t n, double v) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* "1" for a float key reads back fine; keep it short. */
}

/* Characters YAML reads as line breaks (NEL U+0085, LS U+2028, PS U+2029) or refuses as
 * non-printable (C1 controls U+0080-U+009F, U+FFFE, U+FFFF): their UTF-8 length at p, else 0, with
 * the code point in *cp. Printed configs escape them (found by fuzz_train_config). */
static int yaml_special_len(const char *p, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)p;
    if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) { *cp = u[1]; return 2; }
    if ((u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) ||
        (u[0] == 0xef && u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf))) {
        *cp = (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
        return 3;
    }
    return 0;
}

int train_yaml_printable(const char *v) {
    unsigned cp;
    for (const unsigned char *u = (const unsigned char *)v; *u; u++)
        if (*u < 0x20 || *u == 0x7f || yaml_special_len((const char *)u, &cp)) return 0;
    return 1;
}

static int needs_quotes(const char *s) {
    if (!*s) return 1;
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[strlen(s) - 1])) return 1;
    if (strchr("-?:,[]{}#&*!|>'\"%@`~", s[0]) && strcmp(s, "1-sqrt")) return 1;
    if (strstr(s, ": ") || strstr(s, " #") || s[strlen(s) - 1] == ':') return 1;
    /* control characters (a newline would end the plain scalar: found by fuzz_train_config) */
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || yaml_special_len(p, &(unsigned){0})) return 1;
    int64_t i;
    double d;
    if (!parse_int(s, &i) || !parse_float(s, &d)) return 1;
    static const char *const reserved[] = {"true", "false", "null", "yes", "no", "on", "off", "True", "False", "Null"};
    for (size_t k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
        if (!strcmp(s, reserved[k])) return 1;
    return 0;
}

static int append_quoted(lmc_buf *b, const char *s, lmc_err *err) {
    if (lmc_buf_append(b, "\"", 1, err)) return -1;
    for (const char *p = s; *p; p++) {
        unsigned cp;
        int rc, sl = yaml_special_len(p, &cp);
        if (sl) {
            rc = lmc_buf_printf(b, err, "\\u%04x", cp);
            p += sl - 1;
        } else if (*p == '"' || *p == '\\') rc = lmc_buf_printf(b, err, "\\%c", *p);
        else if ((unsigned char)*p < 0x20 || *p == 0x7f) rc = lmc_buf_printf(b, err, "\\x%02x", (unsigned char)*p);
        else rc = lmc_buf_append(b, p, 1, err);
        if (rc) return -1;
    }
    return lmc_buf_append(b, "\"", 1, err);
}

int train_config_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err) {
    const char *section = "";
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const train_key *k = &keys[i];
        const char *field = (const char *)c + k->offset;
        if (strcmp(section, k->section)) {
            /* data.sources closes the data section */
            if (!strcmp(section, "data") && train_mix_sources_to_yaml(c, out, err)) return -1;
            section = k->section;
            if (lmc_buf_printf(out, err, "%s%s:\n", i ? "\n" : "", section)) return -1;
        }
        size_t start = out->len;
        if (lmc_buf_printf(out, err, "  %s: ", k->name)) return -1;
        char num[64];
        int rc = 0;
        switch (k->type) {
        case TRAIN_KEY_INT: rc = lmc_buf_printf(out, err, "%lld", (long long)*(const int64_t *)field); break;
        case TRAIN_KEY_FLOAT:
            fmt_double(num, sizeof num, *(const double *)field);
            rc = lmc_buf_printf(out, err, "%s", num);
            break;
        case TRAIN_KEY_STR:
        case TRAIN_KEY_ENUM:
            rc = needs_quotes(field) ? append_quoted(out, field, err) : lmc_buf_printf(out, err, "%s", field);
            break;
        }
        if (rc) return -1;
        size_t width = out->len - start;
        if (lmc_buf_printf(out, err, "%*s# %s\n", width < 34 ? (int)(34 - width) : 1, "", k->help)) return -1;
    }
    /* the table ends in the train section, so the list lands under train: */
    if (train_eval_tasks_to_yaml(c, out, err)) return -1;
    return 0;
}

int train_config_keys_markdown(lmc_buf *out, lmc_err *err) {
    if (lmc_buf_printf(out, err, "| key | default | meaning |\n|---|---|---|\n")) return -1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const train_key *k = &keys[i];
        if (lmc_buf_printf(out, err, "| `%s.%s` | `%s` | %s%s%s |\n", k->section, k->name,
                           k->def[0] ? k->def : "\"\"", k->help,
                           k->type == TRAIN_KEY_ENUM ? "; one of " : "",
                           k->type == TRAIN_KEY_ENUM ? k->choices : ""))
            return -1;
    }
    return 0;
}
