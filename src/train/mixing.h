/* Domain-weight update rules for data mixtures (data.mixing; TECHNIQUES.md §11).
 *
 * Pure functions of their inputs: the trainer (src/train/mixture.c) gathers the per-source signals
 * (training losses, reference-model losses, validation losses, hidden-state embeddings) every
 * data.mixing_every steps and hands them here; the new weights go into the checkpoint, so a resumed
 * run continues with exactly the weights it stopped with.
 *
 * Weights are k positive doubles summing to 1 on return. */
#ifndef LMC_TRAIN_MIXING_H
#define LMC_TRAIN_MIXING_H

#include "base/error.h"

typedef enum { MIX_STATIC = 0, MIX_DOREMI, MIX_VELOCITUNE, MIX_CHAMELEON } mix_rule;

/* "static" | "doremi" | "velocitune" | "chameleon" -> rule; -1 for anything else. */
int mix_rule_parse(const char *name, mix_rule *rule);
const char *mix_rule_name(mix_rule rule);

/* DoReMi (Group DRO step): excess[i] = the domain's per-token excess loss over the reference model,
 * clipped at 0 per token and averaged over the domain's tokens in the batch (0 when the batch had none).
 *   w' = w * exp(eta * excess);  w = (1 - c) * w' / sum(w') + c / k      (eta = 1, c = 1e-3)
 * avg (may be NULL): the running sum of every w so far, for the final averaged weights ᾱ. */
void mix_doremi_update(double *w, const double *excess, int k, double eta, double smoothing, double *avg);

/* Velocitune: V[i] = clamp((now[i] - target[i]) / (init[i] - target[i]), 0, 1);
 * w[i] <- w[i] exp(V[i]) / sum_j w[j] exp(V[j]). A domain whose init <= target has V = 0. */
void mix_velocitune_update(double *w, const double *loss_now, const double *loss_init, const double *loss_target,
                           int k, double *velocity_out /* k or NULL */);

/* Chameleon: emb is k x d (row i = domain i's mean middle-layer hidden state). Linear kernel,
 * double-centred, S = diag(Ω (Ω + λ k I)^-1), S /= sum(S); then
 *   pretrain: w = softmax((1 / (S + 1e-12)) / tau)     (tau = 5)
 *   finetune: w = softmax(S / tau)                      (tau = 0.2)
 * scores_out (k or NULL) receives the normalised S. Errors: k < 2, a singular system. */
int mix_chameleon_weights(double *w, const double *emb, int k, int d, double lambda, double tau, int finetune,
                          double *scores_out, lmc_err *err);

#endif
