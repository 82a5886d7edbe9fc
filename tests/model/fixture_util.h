/* Shared by the PyTorch-fixture tests of the model (test_gpt2_ref, test_family_ref): reading fixture
 * tensors from a safetensors file and the error norm max_i |a_i - b_i| / max_i |b_i| (row/stride select a
 * sub-block of padded tensors; NaN counts as infinite error). */
#ifndef LMC_TEST_MODEL_FIXTURE_UTIL_H
#define LMC_TEST_MODEL_FIXTURE_UTIL_H
#include "test.h"
#include "interop/safetensors.h"

static double rel_err(const float *a, const float *b, size_t n, size_t stride_a, size_t stride_b, size_t row) {
    double md = 0.0, mb = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t ia = row ? (i / row) * stride_a + i % row : i, ib = row ? (i / row) * stride_b + i % row : i;
        double d = fabs((double)a[ia] - (double)b[ib]);
        if (d > md || d != d) md = d != d ? INFINITY : d;
        if (fabs(b[ib]) > mb) mb = fabs(b[ib]);
    }
    return md / (mb > 0 ? mb : 1.0);
}

static float *read_tensor(const st_file *f, const char *name, size_t *n) {
    const st_tensor *t = st_find(f, name);
    if (!t) { fprintf(stderr, "fixture lacks %s\n", name); exit(1); }
    float *out = (float *)malloc(t->numel * sizeof(float) + 4);
    if (t->dtype == ST_I32) {
        memcpy(out, t->data, t->numel * 4);
    } else {
        lmc_err err;
        if (st_read_f32(f, t, out, t->numel, &err)) { fprintf(stderr, "%s\n", err.msg); exit(1); }
    }
    if (n) *n = t->numel;
    return out;
}

static double read_f64(const st_file *f, const char *name, size_t i) {
    const st_tensor *t = st_find(f, name);
    double d;
    memcpy(&d, t->data + 8 * i, 8);
    return d;
}

#endif
