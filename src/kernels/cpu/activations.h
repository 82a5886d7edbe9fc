/* Learnable polynomial, trigonometric and tropical activations (Khalfaoui-Hassani & Kesselheim,
 * "Polynomial, trigonometric, and tropical activations", ICLR 2026; code K-H-Ismail/torchortho).
 * One activation per MLP; its coefficients are scalars shared by every channel (as the paper's GPT-2
 * runs do). Degree n >= 1. Coefficient layout (k_act_ncoef floats):
 *   hermite  [a_0 .. a_n]                 F(x) = sum_k a_k h_k(x),  h_k = He_k / k!
 *            (h_0 = 1, h_1 = x, h_{k+1} = (x h_k - h_{k-1}) / (k+1); dh_k/dx = h_{k-1})
 *   fourier  [b, a_1..a_n, f_1..f_n, p_1..p_n]   F(x) = b + sum_k a_k cos(f_k x - p_k) / k!
 *   tropical [c_0 .. c_n]                 F(x) = (sqrt 2 / n) max_k (k x + c_k)   (slopes k fixed;
 *            the gradient goes to the first maximising k, as torch.max does)
 * Init (the paper's variance-preserving init, torchortho v0.1.2): hermite a_k = e^{-1/2} (k >= 1),
 * a_0 = e^{-1/2} sqrt(1 - 1/n!); fourier f_k = k, p_k = pi/4, a_k = 1/sqrt(I_0(2)), b = a sqrt(1 - 1/(n!)^2);
 * tropical c_k = 1 (= sqrt2 relu(x) + sqrt2/n).
 * Reductions over elements (the coefficient gradients) use a fixed blocking independent of the thread
 * count, accumulated in double: results are bitwise deterministic. */
#ifndef LMC_KERNELS_CPU_ACTIVATIONS_H
#define LMC_KERNELS_CPU_ACTIVATIONS_H

#include <stddef.h>

enum { K_ACT_HERMITE = 1, K_ACT_FOURIER = 2, K_ACT_TROPICAL = 3 }; /* = GPT2_ACT_* */
enum { K_ACT_MAX_DEGREE = 16 };

/* Coefficients of a family at degree n (0 for an unknown family). */
int k_act_ncoef(int kind, int n);
void k_act_init(int kind, int n, float *coef);
/* out[i] = F(x[i]) for n elements (out may alias x). */
void k_act_fwd(int kind, int deg, float *out, const float *x, const float *coef, size_t n);
/* dx[i] = dout[i] F'(x[i]) (overwrites; dx may alias dout); dcoef[j] += sum_i dout[i] dF(x[i])/dcoef_j. */
void k_act_bwd(int kind, int deg, float *dx, float *dcoef, const float *dout, const float *x, const float *coef,
               size_t n);

#endif
