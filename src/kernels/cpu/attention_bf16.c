/* Causal attention with bf16 GEMM inputs, fp32 accumulation and fp32 softmax (the bf16 path).
 *
 * The algorithm is attention.c's: query blocks of QB rows, an exact row softmax per block, only the
 * per-row log-sum-exp kept, backward recomputes P block by block:
 *   S = scale Q K^T;  P = softmax(S);  O = P V;
 *   dP = dO V^T;  dS = scale P * (dP - rowsum(dO * O));  dQ = dS K;  dK^T += Q^T dS;  dV^T += dO^T P.
 * Every GEMM is one call of block_gemm: C[M x N] fp32 (+)= A[M x K] bf16 . B[K x N] bf16, run by one of two
 * engines on the same operand layouts:
 *   AMX tiles (tdpbf16ps: C[16 x 16] fp32 += A[16 x 32] . B[32 x 16]) where the CPU has AMX-BF16 and Linux
 *   grants the tile state (Intel Xeon from Sapphire Rapids);
 *   AVX512_BF16 dot products otherwise (vdpbf16ps: per fp32 lane c += a0 b0 + a1 b1 over one K-pair; AMD
 *   Zen 4, Intel Cooper Lake).
 * A rows are plain row-major bf16; B holds K-pairs: element (k, n) of B at B[(k / 2) * ldb + 2n + (k & 1)],
 * the layout both instructions read. So each unit of work first rounds its head's q, k, v (and dO) to bf16 in
 * the layouts its GEMMs read:
 *   Qb, dOb   row-major [T x hd]           (A of S = Q K^T, of dP = dO V^T)
 *   Kt, Vt    K^T / V^T as B: pairs over hd (B of S, of dP)
 *   Kv, Vv    K / V as B: pairs over keys   (B of dQ = dS K, of O = P V)
 *   QT, dOT   Q^T / dO^T row-major [hd x T] (A of dK^T, dV^T: computing the transposed gradients
 *             keeps every A operand row-major; they are transposed back once per kv head)
 * and P, dS are rounded per block (row-major for an A operand, pairs over queries for a B operand).
 * The scale is applied to the fp32 scores; in backward it is folded into dS before rounding.
 *
 * What is bf16: the GEMM inputs q, k, v, P, dO, dS. What stays fp32: every product's accumulation, the
 * scores, softmax, lse, rowsum(dO * O), and all outputs. Both engines form each bf16 product exactly in
 * fp32 and flush denormals, so one error bound covers both (tests/kernels/test_attention_bf16.c); they
 * differ in the order of the fp32 additions inside a K-step. Work units, their order and the per-unit
 * single-threaded sums are attention.c's (forward per (batch, head), backward per (batch, kv head)),
 * so results are deterministic and do not depend on the thread count.
 *
 * Shapes: T and hd multiples of 32 (tile K-depth); otherwise attention.c's fp32 kernels run. Document
 * starts round a block's first key down to a multiple of 32; the extra columns are masked (exact 0). */
#include "kernels/cpu/attention_bf16.h"
#include "kernels/cpu/kernels.h"
#include "base/error.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "kernels/cpu/attention_rows.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define QB 64
/* One target set for the whole file: AMX instructions appear only in tiles_on, amx_gemm and the
 * _tile_release calls, which run only when the engine is K_ATT_BF16_AMX. */
#define AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int cpu_engine = -1;   /* this CPU's engine (K_ATT_BF16_*), asked once; -1 = not yet */
static int forced;            /* k_attention_bf16_force: 0 = the CPU's choice */

static int cpu_choice(void) {
    if (cpu_engine < 0) {
        lmc_cpu_features f = lmc_cpu_detect();
        int e = K_ATT_BF16_NONE;
        if (f.avx512_bf16) {   /* the packing code needs AVX512_BF16's conversions in both engines */
            e = K_ATT_BF16_DP;
            /* Linux hands out the 8 KB of tile state only to processes that ask for it */
            if (f.amx_bf16 && f.amx_tile && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0)
                e = K_ATT_BF16_AMX;
        }
        cpu_engine = e;
    }
    return cpu_engine;
}

int k_attention_bf16_engine(void) { return forced ? forced : cpu_choice(); }

int k_attention_bf16_force(int engine) {
    const int cpu = cpu_choice();
    const int ok = engine == K_ATT_BF16_NONE || (engine == K_ATT_BF16_DP && cpu != K_ATT_BF16_NONE) ||
                   (engine == K_ATT_BF16_AMX && cpu == K_ATT_BF16_AMX);
    if (!ok) return -1;
    forced = engine;
    return 0;
}

int k_attention_bf16_usable(int T, int hd) {
    return k_attention_bf16_engine() != K_ATT_BF16_NONE && T > 0 && T % 32 == 0 && hd % 32 == 0 && hd <= 256;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* All eight tiles 16 rows x 64 bytes: C tiles 0-3, A tiles 4-5, B tiles 6-7. */
AMX static void tiles_on(void) {
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 8; t++) {
        c.rows[t] = 16;
        c.colsb[t] = 64;
    }
    _tile_loadconfig(&c);
}

/* C[M x N] (+)= A[M x K] B; A row-major bf16 (lda), B in K-pairs (ldb, in bf16 elements), C fp32 (ldc).
 * M, N multiples of 16, K of 32. Blocks of 32 x 32 (four C tiles) where they fit. */
AMX static void amx_gemm(int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B, int ldb, float *C,
                         int ldc, int acc) {
    const long sa = (long)lda * 2, sb = (long)ldb * 2, sc = (long)ldc * 4;
    for (int m0 = 0; m0 < M; m0 += 32) {
        const int m2 = M - m0 >= 32;
        for (int n0 = 0; n0 < N; n0 += 32) {
            const int n2 = N - n0 >= 32;
            float *c = C + (size_t)m0 * ldc + n0;
            if (acc) {
                _tile_loadd(0, c, sc);
                if (n2) _tile_loadd(1, c + 16, sc);
                if (m2) _tile_loadd(2, c + (size_t)16 * ldc, sc);
                if (m2 && n2) _tile_loadd(3, c + (size_t)16 * ldc + 16, sc);
            } else {
                _tile_zero(0);
                _tile_zero(1);
                _tile_zero(2);
                _tile_zero(3);
            }
            const uint16_t *a = A + (size_t)m0 * lda, *b = B + 2 * (size_t)n0;
            for (int k0 = 0; k0 < K; k0 += 32) {
                _tile_loadd(4, a + k0, sa);
                _tile_loadd(6, b + (size_t)(k0 / 2) * ldb, sb);
                _tile_dpbf16ps(0, 4, 6);
                if (n2) {
                    _tile_loadd(7, b + (size_t)(k0 / 2) * ldb + 32, sb);
                    _tile_dpbf16ps(1, 4, 7);
                }
                if (m2) {
                    _tile_loadd(5, a + (size_t)16 * lda + k0, sa);
                    _tile_dpbf16ps(2, 5, 6);
                    if (n2) _tile_dpbf16ps(3, 5, 7);
                }
            }
            _tile_stored(0, c, sc);
            if (n2) _tile_stored(1, c + 16, sc);
            if (m2) _tile_stored(2, c + (size_t)16 * ldc, sc);
            if (m2 && n2) _tile_stored(3, c + (size_t)16 * ldc + 16, sc);
        }
    }
}

/* amx_gemm's product and layouts with vdpbf16ps (no tiles): M a multiple of 8, N of 32 (every N here is
 * kv or hd, both multiples of 32), K even. Blocks of 8 rows x 32 columns: 16 accumulators; per K-pair
 * two loads of B (16 columns of pairs each) and 8 broadcast A pairs. */
AMX static void dp_gemm(int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B, int ldb, float *C,
                        int ldc, int acc) {
    for (int m0 = 0; m0 < M; m0 += 8)
        for (int n0 = 0; n0 < N; n0 += 32) {
            const uint16_t *a = A + (size_t)m0 * lda, *b = B + 2 * (size_t)n0;
            float *c = C + (size_t)m0 * ldc + n0;
            __m512 c0[8], c1[8];
            for (int i = 0; i < 8; i++) {
                c0[i] = acc ? _mm512_loadu_ps(c + (size_t)i * ldc) : _mm512_setzero_ps();
                c1[i] = acc ? _mm512_loadu_ps(c + (size_t)i * ldc + 16) : _mm512_setzero_ps();
            }
            for (int p = 0; p < K / 2; p++) {
                __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + (size_t)p * ldb);
                __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + (size_t)p * ldb + 32);
                for (int i = 0; i < 8; i++) {
                    uint32_t pair;   /* A(i, 2p) in the low half, A(i, 2p + 1) in the high half */
                    memcpy(&pair, a + (size_t)i * lda + 2 * p, sizeof pair);
                    __m512bh ai = (__m512bh)_mm512_set1_epi32((int)pair);
                    c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
                    c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
                }
            }
            for (int i = 0; i < 8; i++) {
                _mm512_storeu_ps(c + (size_t)i * ldc, c0[i]);
                _mm512_storeu_ps(c + (size_t)i * ldc + 16, c1[i]);
            }
        }
}

/* The one block GEMM of this file, on the engine the kernel runs. */
AMX static inline void block_gemm(int amx, int M, int N, int K, const uint16_t *A, int lda, const uint16_t *B,
                                  int ldb, float *C, int ldc, int acc) {
    if (amx) amx_gemm(M, N, K, A, lda, B, ldb, C, ldc, acc);
    else dp_gemm(M, N, K, A, lda, B, ldb, C, ldc, acc);
}

/* 16 floats -> 16 bf16, round to nearest even. */
AMX static inline __m256i bf16x16(const float *x) { return (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x)); }

/* rows x cols (ld) -> dense row-major bf16; cols a multiple of 16. */
AMX static void pack_rows(uint16_t *dst, const float *src, int rows, int cols, size_t ld) {
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c += 16)
            _mm256_storeu_si256((__m256i *)(dst + (size_t)r * cols + c), bf16x16(src + r * ld + c));
}

/* Rows r, r+1 (cols each) interleaved: out[2c + i] = row_i[c], 2 * cols bf16. */
AMX static inline void interleave2(uint16_t *out, const float *r0, const float *r1, int cols) {
    for (int c = 0; c < cols; c += 16) {
        __m256i a = bf16x16(r0 + c), b = bf16x16(r1 + c);
        __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        _mm256_storeu_si256((__m256i *)(out + 2 * c), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_storeu_si256((__m256i *)(out + 2 * c + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
}

/* As a B operand with K running over the rows: pairs over rows, [(rows / 2) x 2 cols]; rows even. */
AMX static void pack_pairs_over_rows(uint16_t *dst, const float *src, int rows, int cols, size_t ld) {
    for (int r = 0; r < rows; r += 2)
        interleave2(dst + (size_t)r * cols, src + r * ld, src + (r + 1) * ld, cols);
}

/* In-register transpose of a 16 x 16 block of 32-bit elements (r[i] = row i in, column i out). */
AMX static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);       /* per 128-bit lane L: r_i[4L], r_i+1[4L], r_i[4L+1], .. */
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 16; g += 4) {                     /* u[g + k], lane L = column 4L + k of rows g..g+3 */
        u[g + 0] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
        u[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
        u[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
        u[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int k = 0; k < 4; k++) {                         /* gather lane L of the four row groups */
        __m512 v = _mm512_shuffle_f32x4(u[k], u[4 + k], 0x88), v2 = _mm512_shuffle_f32x4(u[k], u[4 + k], 0xDD);
        __m512 w = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0x88), w2 = _mm512_shuffle_f32x4(u[8 + k], u[12 + k], 0xDD);
        r[k] = _mm512_shuffle_f32x4(v, w, 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(v, w, 0xDD);
        r[4 + k] = _mm512_shuffle_f32x4(v2, w2, 0x88);
        r[12 + k] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
    }
}

/* As a B operand with K running over the columns (the transpose as B): the 32-bit pairs of source row r
 * go to column r of a [(cols / 2) x rows] array of pairs (ldb = 2 * rows). rows % 16 == 0, cols % 32 == 0. */
AMX static void pack_pairs_over_cols(uint16_t *dst, const float *src, int rows, int cols, size_t ld) {
    uint32_t *d32 = (uint32_t *)dst;
    __m512 r[16];
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 32) {
            for (int i = 0; i < 16; i++) {
                const float *x = src + (r0 + i) * ld + c0;
                r[i] = (__m512)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
            }
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_storeu_ps((float *)(d32 + (size_t)(c0 / 2 + i) * rows + r0), r[i]);
        }
}

/* The transpose, row-major bf16 [cols x rows]. rows, cols multiples of 16. */
AMX static void pack_transposed(uint16_t *dst, const float *src, int rows, int cols, size_t ld) {
    __m512 r[16];
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 16) {
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (r0 + i) * ld + c0);
            transpose16(r);
            for (int i = 0; i < 16; i++)
                _mm256_storeu_si256((__m256i *)(dst + (size_t)(c0 + i) * rows + r0), (__m256i)_mm512_cvtneps_pbh(r[i]));
        }
}

/* fp32 [rows x cols] (dense) -> its transpose [cols x rows] with leading dimension ld. */
AMX static void unpack_transposed(float *dst, size_t ld, const float *src, int rows, int cols) {
    __m512 r[16];
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int c0 = 0; c0 < cols; c0 += 16) {
            for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)(r0 + i) * cols + c0);
            transpose16(r);
            for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (c0 + i) * ld + r0, r[i]);
        }
}

/* sum_e a[e] b[e], hd a multiple of 16 */
AMX static inline float dot16(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    for (int e = 0; e < n; e += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + e), _mm512_loadu_ps(b + e), acc);
    return _mm512_reduce_add_ps(acc);
}

/* The first key any row of the query block may see, rounded down to a tile's K-depth. */
static inline int block_first_key(const int32_t *ds, int i0, int rows) { return block_lo(ds, i0, rows) & ~31; }

static void *scratch(size_t bytes) { return aligned_alloc(64, (bytes + 63) & ~(size_t)63); }

AMX int k_attention_bf16_fwd(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                            const float *slopes, const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd, th = (size_t)T * hd;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    const int amx = k_attention_bf16_engine() == K_ATT_BF16_AMX;
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        uint16_t *Qb = scratch(3 * th * 2 + (size_t)QB * T * 2), *Kt = Qb + th, *Vv = Kt + th, *Pb = Vv + th;
        float *S = scratch((size_t)QB * T * 4);
        if (amx && Qb && S) tiles_on();
#pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            if (!Qb || !S) { fail = 1; continue; }
            int b = bh / NH, h = bh % NH, kh = h / G;
            const float *base = qkv + (size_t)b * T * W;
            const int32_t *dst = docstart ? docstart + (size_t)b * T : NULL;
            const float *slope = slopes ? slopes + h : NULL;
            pack_rows(Qb, base + h * hd, T, hd, W);
            pack_pairs_over_cols(Kt, base + KOFF + kh * hd, T, hd, W);
            pack_pairs_over_rows(Vv, base + VOFF + kh * hd, T, hd, W);
            for (int i0 = 0; i0 < T; i0 += QB) {
                int rows = T - i0 < QB ? T - i0 : QB;
                int j0 = block_first_key(dst, i0, rows), kv = i0 + rows - j0;   /* keys [j0, i0 + rows) */
                block_gemm(amx, rows, kv, hd, Qb + (size_t)i0 * hd, hd, Kt + 2 * (size_t)j0, 2 * T, S, kv, 0);
                for (int r = 0; r < rows; r++) {
                    int lo = dst ? dst[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;   /* row's keys [lo, lo + n) */
                    float *s = S + (size_t)r * kv;
                    lse[(size_t)bh * T + i0 + r] = att_row_softmax(s, kv, lo, n, scale, slope);
                    for (int j = 0; j < kv; j += 16) _mm256_storeu_si256((__m256i *)(Pb + (size_t)r * kv + j), bf16x16(s + j));
                }
                block_gemm(amx, rows, hd, kv, Pb, kv, Vv + (size_t)j0 * hd, 2 * hd, out + ((size_t)b * T + i0) * OC + h * hd,
                         (int)OC, 0);
            }
        }
        if (amx && Qb && S) _tile_release();
        free(Qb);
        free(S);
    }
    return fail ? LMC_ENOMEM : 0;
}

AMX int k_attention_bf16_bwd(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                            int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart) {
    const int G = NH / NKV;
    const size_t W = (size_t)(NH + 2 * NKV) * hd, OC = (size_t)NH * hd, th = (size_t)T * hd, qt = (size_t)QB * T;
    const int KOFF = NH * hd, VOFF = (NH + NKV) * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    const int amx = k_attention_bf16_engine() == K_ATT_BF16_AMX;
    int fail = 0;
#pragma omp parallel reduction(|:fail)
    {
        uint16_t *Kt = scratch((7 * th + 3 * qt) * 2);
        uint16_t *Kv = Kt + th, *Vt = Kv + th, *Qb = Vt + th, *QT = Qb + th, *dOb = QT + th, *dOT = dOb + th;
        uint16_t *Pv = dOT + th, *dSb = Pv + qt, *dSv = dSb + qt;
        float *dKt = scratch((2 * th + 2 * qt + T) * 4), *dVt = dKt + th, *P = dVt + th, *dS = P + qt, *D = dS + qt;
        int ok = Kt && dKt;
        if (amx && ok) tiles_on();
#pragma omp for schedule(dynamic, 1)
        for (int bk = 0; bk < B * NKV; bk++) {
            if (!ok) { fail = 1; continue; }
            int b = bk / NKV, kh = bk % NKV;
            const float *base = qkv + (size_t)b * T * W;
            float *dbase = dqkv + (size_t)b * T * W;
            const int32_t *dst = docstart ? docstart + (size_t)b * T : NULL;
            pack_pairs_over_cols(Kt, base + KOFF + kh * hd, T, hd, W);
            pack_pairs_over_rows(Kv, base + KOFF + kh * hd, T, hd, W);
            pack_pairs_over_cols(Vt, base + VOFF + kh * hd, T, hd, W);
            memset(dKt, 0, 2 * th * sizeof(float));
            for (int h = kh * G; h < (kh + 1) * G; h++) {
                int bh = b * NH + h;
                const float *slope = slopes ? slopes + h : NULL;
                const float *dO = dout + (size_t)b * T * OC + h * hd, *O = out + (size_t)b * T * OC + h * hd;
                pack_rows(Qb, base + h * hd, T, hd, W);
                pack_transposed(QT, base + h * hd, T, hd, W);
                pack_rows(dOb, dO, T, hd, OC);
                pack_transposed(dOT, dO, T, hd, OC);
                for (int t = 0; t < T; t++) D[t] = dot16(dO + (size_t)t * OC, O + (size_t)t * OC, hd);
                for (int i0 = 0; i0 < T; i0 += QB) {
                    int rows = T - i0 < QB ? T - i0 : QB;
                    int j0 = block_first_key(dst, i0, rows), kv = i0 + rows - j0;
                    block_gemm(amx, rows, kv, hd, Qb + (size_t)i0 * hd, hd, Kt + 2 * (size_t)j0, 2 * T, P, kv, 0);
                    for (int r = 0; r < rows; r++) {
                        int lo = dst ? dst[i0 + r] - j0 : 0, n = i0 + r + 1 - j0 - lo;
                        att_row_probs(P + (size_t)r * kv, kv, lo, n, scale, slope, lse[(size_t)bh * T + i0 + r]);
                    }
                    /* dP = dO V^T, then dS = scale P (dP - D) in place */
                    block_gemm(amx, rows, kv, hd, dOb + (size_t)i0 * hd, hd, Vt + 2 * (size_t)j0, 2 * T, dS, kv, 0);
                    for (int r = 0; r < rows; r++) {
                        float *ds = dS + (size_t)r * kv;
                        const float *p = P + (size_t)r * kv;
                        const float d = D[i0 + r];
#pragma omp simd
                        for (int j = 0; j < kv; j++) ds[j] = scale * p[j] * (ds[j] - d);
                    }
                    pack_pairs_over_rows(Pv, P, rows, kv, kv);
                    pack_rows(dSb, dS, rows, kv, kv);
                    pack_pairs_over_rows(dSv, dS, rows, kv, kv);
                    /* dV^T[:, j0:] += dO^T P;  dK^T[:, j0:] += Q^T dS;  dQ = dS K */
                    block_gemm(amx, hd, kv, rows, dOT + i0, T, Pv, 2 * kv, dVt + j0, T, 1);
                    block_gemm(amx, hd, kv, rows, QT + i0, T, dSv, 2 * kv, dKt + j0, T, 1);
                    block_gemm(amx, rows, hd, kv, dSb, kv, Kv + (size_t)j0 * hd, 2 * hd, dbase + (size_t)i0 * W + h * hd,
                             (int)W, 0);
                }
            }
            /* transpose the kv head's gradients back into the qkv rows */
            float *dk = dbase + KOFF + kh * hd, *dv = dbase + VOFF + kh * hd;
            unpack_transposed(dk, W, dKt, hd, T);
            unpack_transposed(dv, W, dVt, hd, T);
        }
        if (amx && ok) _tile_release();
        free(Kt);
        free(dKt);
    }
    return fail ? LMC_ENOMEM : 0;
}
#else
int k_attention_bf16_engine(void) { return K_ATT_BF16_NONE; }
int k_attention_bf16_force(int engine) { return engine == K_ATT_BF16_NONE ? 0 : -1; }
int k_attention_bf16_usable(int T, int hd) { (void)T; (void)hd; return 0; }
int k_attention_bf16_fwd(float *out, float *lse, const float *qkv, int B, int T, int NH, int NKV, int hd,
                         const float *slopes, const int32_t *docstart) {
    (void)out; (void)lse; (void)qkv; (void)B; (void)T; (void)NH; (void)NKV; (void)hd; (void)slopes; (void)docstart;
    return LMC_EINVAL;
}
int k_attention_bf16_bwd(float *dqkv, const float *dout, const float *qkv, const float *out, const float *lse,
                         int B, int T, int NH, int NKV, int hd, const float *slopes, const int32_t *docstart) {
    (void)dqkv; (void)dout; (void)qkv; (void)out; (void)lse; (void)B; (void)T; (void)NH; (void)NKV; (void)hd;
    (void)slopes; (void)docstart;
    return LMC_EINVAL;
}
#endif
