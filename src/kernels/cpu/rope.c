/* Rotary position embedding, the rotate-half convention of HF LlamaForCausalLM (the first and second
 * halves of a head form the pairs), so HF q_proj/k_proj weights are used without permutation. */
#include "kernels/cpu/kernels.h"
#include <math.h>

void k_rope_table(float *cos_t, float *sin_t, int max_seq, int hd, float theta) {
    const int h2 = hd / 2;
    for (int i = 0; i < h2; i++) {
        /* as HF: inv_freq = 1 / theta ** (arange(0, hd, 2).float() / hd), in float32 */
        float expo = (float)(2 * i) / (float)hd;
        float inv = 1.0f / powf(theta, expo);
        for (int t = 0; t < max_seq; t++) {
            float ang = (float)t * inv;  /* float product, as torch's outer product */
            cos_t[(size_t)t * h2 + i] = (float)cos((double)ang);
            sin_t[(size_t)t * h2 + i] = (float)sin((double)ang);
        }
    }
}

void k_rope_apply(float *x, size_t ld, int B, int T, int pos0, int col0, int nh, int hd,
                  const float *cos_t, const float *sin_t, int inverse) {
    const int h2 = hd / 2;
    const float sg = inverse ? -1.0f : 1.0f;
    const size_t N = (size_t)B * T;
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        int t = (int)(n % (size_t)T) + pos0;
        const float *c = cos_t + (size_t)t * h2, *s = sin_t + (size_t)t * h2;
        float *row = x + n * ld + col0;
        for (int h = 0; h < nh; h++) {
            float *x1 = row + (size_t)h * hd, *x2 = x1 + h2;
#pragma omp simd
            for (int i = 0; i < h2; i++) {
                float a = x1[i], b = x2[i], sn = sg * s[i];
                x1[i] = a * c[i] - b * sn;
                x2[i] = b * c[i] + a * sn;
            }
        }
    }
}

void k_rope_apply_pos(float *x, size_t ld, size_t N, const int32_t *pos, int col0, int nh, int hd,
                      const float *cos_t, const float *sin_t, int inverse) {
    const int h2 = hd / 2;
    const float sg = inverse ? -1.0f : 1.0f;
#pragma omp parallel for schedule(static)
    for (size_t n = 0; n < N; n++) {
        const float *c = cos_t + (size_t)pos[n] * h2, *s = sin_t + (size_t)pos[n] * h2;
        float *row = x + n * ld + col0;
        for (int h = 0; h < nh; h++) {
            float *x1 = row + (size_t)h * hd, *x2 = x1 + h2;
#pragma omp simd
            for (int i = 0; i < h2; i++) {
                float a = x1[i], b = x2[i], sn = sg * s[i];
                x1[i] = a * c[i] - b * sn;
                x2[i] = b * c[i] + a * sn;
            }
        }
    }
}
