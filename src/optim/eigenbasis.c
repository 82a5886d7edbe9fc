/* The eigenbasis pieces SOAP and KL-SOAP / KL-Shampoo share (optim_internal.h): rotating a gradient
 * into and out of the bases of its Kronecker factors, and the first basis from an eigendecomposition. */
#include "optim/optim_internal.h"

#include <lapacke.h>
#include <string.h>
#include "kernels/cpu/kernels.h"

void optim_project(lmc_optim *o, const float *X, int r, int c, const float *QL, const float *QR, float *out) {
    const float *src = X;
    if (QL) {
        float *T = QR ? o->sw[0] : out;
        k_gemm(1, 0, r, c, r, 1.0f, QL, r, X, c, 0.0f, T, c);
        src = T;
    }
    if (QR) k_gemm(0, 0, r, c, c, 1.0f, src, c, QR, c, 0.0f, out, c);
    else if (!QL) memcpy(out, X, (size_t)r * (size_t)c * sizeof(float));
}

void optim_project_back(lmc_optim *o, const float *X, int r, int c, const float *QL, const float *QR, float *out) {
    const float *src = X;
    if (QL) {
        float *T = QR ? o->sw[0] : out;
        k_gemm(0, 0, r, c, r, 1.0f, QL, r, X, c, 0.0f, T, c);
        src = T;
    }
    if (QR) k_gemm(0, 1, r, c, c, 1.0f, src, c, QR, c, 0.0f, out, c);
    else if (!QL) memcpy(out, X, (size_t)r * (size_t)c * sizeof(float));
}

int optim_eig_basis(lmc_optim *o, const float *F, float *Q, int d, lmc_err *err) {
    float *A = o->sw[3];
    memcpy(A, F, (size_t)d * (size_t)d * sizeof(float));
    for (int i = 0; i < d; i++) A[(size_t)i * d + i] += 1e-30f;
    lapack_int info = LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', 'L', d, A, d, o->sw_est);
    if (info)
        return lmc_errf(err, LMC_ENUMERIC, "%s: eigendecomposition (LAPACK ssyevd) of a %dx%d factor failed (info %d)",
                        optim_kind_name(o->hp.kind), d, d, (int)info);
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) Q[(size_t)i * d + j] = A[(size_t)i * d + (d - 1 - j)];
    return 0;
}
