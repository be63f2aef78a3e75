/*
 * gemm.h: libseqrt's own small-batch GEMM kernels (private to the runtime).
 *
 * The dense layer's two large products at training batch sizes (a few
 * dozen rows) are y = x W and dW = x^T dy. OpenBLAS packs both operands on
 * every call, which at 32 rows costs more than the arithmetic; these
 * kernels read W and x in place (see gemm.c for the measurements).
 *
 * They exist for x86-64 CPUs with AVX-512F, checked once at run time;
 * elsewhere seqrt_gemm_available() is 0 and dense.c calls cblas_sgemm.
 * Setting SEQRT_KERNELS=blas in the environment forces the CBLAS path
 * (for comparisons and for the tests of both paths).
 *
 * Both kernels compute a sub-range so callers can split one product
 * across threads; every output element is a fixed-order sum (k, or the
 * batch row, ascending), so the result does not depend on the split.
 */
#ifndef SEQRT_GEMM_H
#define SEQRT_GEMM_H

/* 1 when the kernels below may be called on this CPU. */
int seqrt_gemm_available(void);

/* y[m, j0:j1) = b[j0:j1) (or 0 when b == NULL) + x[m,k] w[k, j0:j1);
 * x row-major with k columns, w and y row-major with n columns. */
void seqrt_gemm_xw(int m, int n, int k, const float *x, const float *w,
                   const float *b, float *y, int j0, int j1);

/* y[m, n) = b (or 0 when b == NULL) + x[:, 0:kk) w[0:kk, :), a slice of
 * the products's inner dimension: x has `ldx` columns in all and points
 * at the slice's first, w points at the slice's first row (n columns).
 * kk may be 0 (y = b). */
void seqrt_gemm_xw_k(int m, int n, int ldx, const float *x, const float *w,
                     int kk, const float *b, float *y);

/* dw[i0:i1, n) = x[batch, i0:i1)^T dy[batch, n); x has `in` columns. */
void seqrt_gemm_xtdy(int batch, int in, int n, const float *x,
                     const float *dy, float *dw, int i0, int i1);

#endif /* SEQRT_GEMM_H */
