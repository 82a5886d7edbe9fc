/* GEMMs through oneDNN's matmul primitive, fp32 or bf16 inputs with fp32 output.
 *
 * A primitive is created once per (shape, strides, transposes, input type, alpha, beta) and reused:
 * a model has a few dozen distinct GEMM shapes, so the cache stays small and creation (JIT code
 * generation, ~ms) is paid once per run. Transposes are strides on the memory descriptors; beta != 0 is a
 * sum post-op and alpha an output scale, so C = alpha op(A) op(B) + beta C exactly as BLAS defines it; a
 * linear layer's bias and residual are added in the same epilogue (bias argument, binary-add post-op), so
 * C is written once.
 * oneDNN threads with lmc's OpenMP pool (its OpenMP runtime build) and picks AMX, AVX512-BF16 or
 * AVX-512 at run time. Called from one thread at a time (the GEMM layer runs between kernels, never
 * inside a parallel region). */
#ifdef LMC_HAVE_DNNL
#include "kernels/cpu/gemm.h"
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct prim_key {
    int ta, tb, M, N, K, lda, ldb, ldc, bf16;
    int wany;   /* B is a weight kept in the layout the primitive prefers (format "any") */
    int bias;   /* a bias row [N] added in the epilogue */
    int ldx;    /* > 0: a residual [M, N] (leading dimension ldx) added in the epilogue (binary post-op) */
    float alpha, beta;
} prim_key;

typedef struct prim_entry {
    prim_key key;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, bias, x0;
    dnnl_memory_desc_t wmd;   /* wany: the weights layout the primitive chose */
} prim_entry;

#define CACHE_CAP 256
static prim_entry cache[CACHE_CAP];
static int cache_n, cache_next;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static int init_state;   /* 0 = not tried, 1 = ready, -1 = unavailable */

static int dnnl_init(void) {
    if (init_state) return init_state > 0;
    init_state = -1;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) return 0;
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) return 0;
    init_state = 1;
    return 1;
}

static void entry_free(prim_entry *e) {
    if (e->prim) dnnl_primitive_destroy(e->prim);
    if (e->a) dnnl_memory_destroy(e->a);
    if (e->b) dnnl_memory_destroy(e->b);
    if (e->c) dnnl_memory_destroy(e->c);
    if (e->bias) dnnl_memory_destroy(e->bias);
    if (e->x0) dnnl_memory_destroy(e->x0);
    memset(e, 0, sizeof *e);
}

static int entry_make(prim_entry *e, const prim_key *k) {
    memset(e, 0, sizeof *e);
    e->key = *k;
    dnnl_data_type_t in = k->bf16 ? dnnl_bf16 : dnnl_f32;
    /* op(A) is M x K: A stored M x K (lda) or, transposed, K x M (lda). Same for op(B), K x N. */
    dnnl_dims_t ad = {k->M, k->K}, as = {k->ta ? 1 : k->lda, k->ta ? k->lda : 1};
    dnnl_dims_t bd = {k->K, k->N}, bs = {k->tb ? 1 : k->ldb, k->tb ? k->ldb : 1};
    dnnl_dims_t cd = {k->M, k->N}, cs = {k->ldc, 1}, xs = {k->ldx, 1}, vd = {1, k->N}, vs = {k->N, 1};
    dnnl_memory_desc_t amd, bmd, cmd, bany, vmd, xmd;
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    int ok = dnnl_memory_desc_init_by_strides(&amd, 2, ad, in, as) == dnnl_success &&
             dnnl_memory_desc_init_by_strides(&bmd, 2, bd, in, bs) == dnnl_success &&
             dnnl_memory_desc_init_by_strides(&cmd, 2, cd, dnnl_f32, cs) == dnnl_success &&
             dnnl_memory_desc_init_by_strides(&vmd, 2, vd, dnnl_f32, vs) == dnnl_success &&
             (!k->ldx || dnnl_memory_desc_init_by_strides(&xmd, 2, cd, dnnl_f32, xs) == dnnl_success) &&
             dnnl_memory_desc_init_by_tag(&bany, 2, bd, in, dnnl_format_tag_any) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &amd, k->wany ? &bany : &bmd, k->bias ? &vmd : NULL, &cmd) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success;
    if (ok && k->alpha != 1.0f) ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha) == dnnl_success;
    /* epilogue: acc (+ bias) [+ beta C] [+ x0], in that order */
    if (ok && (k->beta != 0.0f || k->ldx)) {
        ok = dnnl_post_ops_create(&po) == dnnl_success &&
             (k->beta == 0.0f || dnnl_post_ops_append_sum(po, k->beta) == dnnl_success) &&
             (!k->ldx || dnnl_post_ops_append_binary(po, dnnl_binary_add, &xmd) == dnnl_success) &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    }
    ok = ok && dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) == dnnl_success &&
         dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    if (ok && k->wany) e->wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    ok = ok && dnnl_memory_create(&e->a, &amd, engine, DNNL_MEMORY_NONE) == dnnl_success &&
         dnnl_memory_create(&e->b, k->wany ? &e->wmd : &bmd, engine, DNNL_MEMORY_NONE) == dnnl_success &&
         dnnl_memory_create(&e->c, &cmd, engine, DNNL_MEMORY_NONE) == dnnl_success &&
         (!k->bias || dnnl_memory_create(&e->bias, &vmd, engine, DNNL_MEMORY_NONE) == dnnl_success) &&
         (!k->ldx || dnnl_memory_create(&e->x0, &xmd, engine, DNNL_MEMORY_NONE) == dnnl_success);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ok) entry_free(e);
    return ok;
}

static prim_entry *lookup(const prim_key *k) {
    for (int i = 0; i < cache_n; i++)
        if (!memcmp(&cache[i].key, k, sizeof *k)) return &cache[i];
    prim_entry *e;
    if (cache_n < CACHE_CAP) e = &cache[cache_n++];
    else { e = &cache[cache_next]; cache_next = (cache_next + 1) % CACHE_CAP; entry_free(e); }
    if (!entry_make(e, k)) {
        if (e == &cache[cache_n - 1]) cache_n--;
        return NULL;
    }
    return e;
}

/* Run entry e on A, B -> C with the epilogue's bias / residual (the handles its key asked for). */
static int execute(prim_entry *e, const void *A, const void *B, float *C, const k_epilogue *ep) {
    dnnl_memory_set_data_handle(e->a, (void *)A);
    dnnl_memory_set_data_handle(e->b, (void *)B);
    dnnl_memory_set_data_handle(e->c, C);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
    int n = 3;
    if (e->bias) {
        dnnl_memory_set_data_handle(e->bias, (void *)ep->bias);
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bias};
    }
    if (e->x0) {
        dnnl_memory_set_data_handle(e->x0, (void *)ep->x0);
        args[n++] = (dnnl_exec_arg_t){DNNL_ARG_ATTR_MULTIPLE_POST_OP(e->key.beta != 0.0f ? 1 : 0) | DNNL_ARG_SRC_1, e->x0};
    }
    if (dnnl_primitive_execute(e->prim, stream, n, args) != dnnl_success) return -1;
    return dnnl_stream_wait(stream) == dnnl_success ? 0 : -1;
}

static void key_epilogue(prim_key *k, const k_epilogue *ep) {
    if (!ep) return;
    k->bias = ep->bias != NULL;
    k->ldx = ep->x0 ? ep->ldx : 0;
}

int k_dnnl_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, const uint16_t *A16, int lda,
                const float *B, const uint16_t *B16, int ldb, float beta, float *C, int ldc, const k_epilogue *ep) {
    if (!dnnl_init()) return -1;
    int bf16 = A16 != NULL;
    if (bf16 != (B16 != NULL)) return -1;
    prim_key k;
    memset(&k, 0, sizeof k);   /* padding bytes too: the key is compared with memcmp */
    k.ta = ta; k.tb = tb; k.M = M; k.N = N; k.K = K; k.lda = lda; k.ldb = ldb; k.ldc = ldc; k.bf16 = bf16;
    k.alpha = alpha; k.beta = beta;
    key_epilogue(&k, ep);
    prim_entry *e = lookup(&k);
    if (!e) return -1;
    return execute(e, bf16 ? (const void *)A16 : (const void *)A, bf16 ? (const void *)B16 : (const void *)B, C, ep);
}

/* Weights in the primitive's preferred layout. For AMX the matmul wants B in a blocked (VNNI-packed)
 * layout; given a plain B it repacks B inside every call. A weight is repacked (and rounded from fp32 to
 * bf16, in the same reorder) once per weight generation instead: once per step for each of the two ways
 * a weight is used (forward B = W, backward B = W^T). */
typedef struct wpacked {
    const float *w;
    int tb, K, N, ld;
    dnnl_memory_desc_t md;     /* the layout (and type) it was packed into */
    unsigned long gen;
    void *buf;
    dnnl_memory_t mem;
} wpacked;
static wpacked *wp;
static int wp_n, wp_cap;

static wpacked *packed_weight(const float *w, int tb, int K, int N, int ld, const dnnl_memory_desc_t *md) {
    wpacked *e = NULL;
    for (int i = 0; i < wp_n && !e; i++)
        if (wp[i].w == w && wp[i].tb == tb && wp[i].K == K && wp[i].N == N && wp[i].ld == ld &&
            dnnl_memory_desc_equal(&wp[i].md, md))
            e = &wp[i];
    if (!e) {
        if (wp_n == wp_cap) {
            int cap = wp_cap ? 2 * wp_cap : 64;
            wpacked *n = realloc(wp, (size_t)cap * sizeof *n);
            if (!n) return NULL;
            wp = n;
            wp_cap = cap;
        }
        void *buf = NULL;
        if (posix_memalign(&buf, 64, dnnl_memory_desc_get_size(md) + 64)) return NULL;
        dnnl_memory_t mem;
        if (dnnl_memory_create(&mem, md, engine, buf) != dnnl_success) { free(buf); return NULL; }
        e = &wp[wp_n++];
        *e = (wpacked){w, tb, K, N, ld, *md, 0, buf, mem};
    }
    if (e->gen != k_weights_generation()) {
        /* fp32 as stored (K x N, or N x K when used transposed) -> the packed bf16 layout */
        dnnl_dims_t d = {K, N}, st = {tb ? 1 : ld, tb ? ld : 1};
        dnnl_memory_desc_t src_md;
        dnnl_primitive_desc_t rpd = NULL;
        dnnl_primitive_t r = NULL;
        dnnl_memory_t src = NULL;
        int ok = dnnl_memory_desc_init_by_strides(&src_md, 2, d, dnnl_f32, st) == dnnl_success &&
                 dnnl_reorder_primitive_desc_create(&rpd, &src_md, engine, md, engine, NULL) == dnnl_success &&
                 dnnl_primitive_create(&r, rpd) == dnnl_success &&
                 dnnl_memory_create(&src, &src_md, engine, (void *)w) == dnnl_success;
        if (ok) {
            dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, e->mem}};
            ok = dnnl_primitive_execute(r, stream, 2, args) == dnnl_success && dnnl_stream_wait(stream) == dnnl_success;
        }
        if (src) dnnl_memory_destroy(src);
        if (r) dnnl_primitive_destroy(r);
        if (rpd) dnnl_primitive_desc_destroy(rpd);
        if (!ok) return NULL;
        e->gen = k_weights_generation();
    }
    return e;
}

int k_dnnl_gemm_wpacked(int ta, int tb, int M, int N, int K, float alpha, const uint16_t *A16, int lda,
                        const float *W, int ldw, float beta, float *C, int ldc, const k_epilogue *ep) {
    if (!dnnl_init()) return -1;
    prim_key k;
    memset(&k, 0, sizeof k);
    k.ta = ta; k.tb = tb; k.M = M; k.N = N; k.K = K; k.lda = lda; k.ldb = ldw; k.ldc = ldc; k.bf16 = 1; k.wany = 1;
    k.alpha = alpha; k.beta = beta;
    key_epilogue(&k, ep);
    prim_entry *e = lookup(&k);
    if (!e) return -1;
    wpacked *w = packed_weight(W, tb, K, N, ldw, &e->wmd);
    if (!w) return -1;
    return execute(e, A16, w->buf, C, ep);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch ((int)isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "unknown isa";
    }
}

const char *k_dnnl_describe(void) {
    static char buf[96];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
             isa_name(dnnl_get_effective_cpu_isa()));
    return buf;
}

int k_dnnl_bf16_fast(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}
#else
typedef int k_gemm_onednn_unused;   /* ISO C: a translation unit must not be empty */
#endif
