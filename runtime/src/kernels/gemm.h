/*
 * gemm.h: libseqrt's own small-batch GEMM kernels (private to the runtime).
 *
 * The dense layer's two large products at training batch sizes (a few
 * dozen rows) are y = x W and dW = x^T dy. OpenBLAS packs both operands on
 * every call, which at 32 rows costs more than the arithmetic; these
 * kernels read W and x in place (see gemm.c for the measurements).
 *
 * Three implementations ("paths") of the same two kernels: AVX-512F and
 * AVX2+FMA intrinsics, and portable C. One is chosen once, at the first
 * call, from the CPU: AVX-512 > AVX2 > portable. SEQRT_KERNELS in the
 * environment overrides it: `blas` makes dense.c use CBLAS sgemm instead
 * (seqrt_gemm_kernels() returns NULL), `avx512`, `avx2` or `portable`
 * forces that path (one the CPU lacks falls back to the default, with a
 * warning on stderr).
 *
 * Every path computes each output element as the same fixed-order chain
 * of fused multiply-adds (fmaf in portable C): the bias or 0 first, then
 * k (or the batch row) ascending. So all paths give the same bits, and the
 * result does not depend on how a caller splits the work into ranges.
 * SEQRT_KERNELS=blas is for comparisons: its sums are OpenBLAS's, which
 * then also gets the threads (parallel.c) and does not promise the same
 * bits for every thread count.
 */
#ifndef SEQRT_GEMM_H
#define SEQRT_GEMM_H

#include <stddef.h>

typedef enum seqrt_gemm_path {
    SEQRT_GEMM_BLAS,     /* no kernels of ours: CBLAS sgemm in dense.c */
    SEQRT_GEMM_PORTABLE, /* plain C with fmaf */
    SEQRT_GEMM_AVX2,     /* x86-64 AVX2 + FMA, 8-float vectors */
    SEQRT_GEMM_AVX512,   /* x86-64 AVX-512F, 16-float vectors */
    SEQRT_GEMM_PATHS
} seqrt_gemm_path;

typedef struct seqrt_gemm_ops {
    seqrt_gemm_path path;
    const char     *name; /* the SEQRT_KERNELS value that forces it */

    /* y[m, n) = (add ? y : 0) + (b or 0) + x[:, 0:k) w[0:k, :): x has
     * `ldx` columns in all (k of them are used), w is k x n, y m x n, all
     * row-major. The product is summed from the bias (or 0) with k
     * ascending and then, when add is set, added to y: so chunks of k
     * computed one after the other with add set give y = ((p0 + p1) + p2)
     * ..., the same as chunks computed apart and added in that order.
     * k may be 0 (y = b, or y unchanged). */
    void (*xw)(int m, int n, int ldx, const float *x, const float *w, int k,
               const float *b, float *y, int add);

    /* dw[i0:i1, n) = x[batch, i0:i1)^T dy[batch, n); x has `in` columns;
     * the batch row ascending. Writes only rows [i0, i1) of dw. */
    void (*xtdy)(int batch, int in, int n, const float *x, const float *dy,
                 float *dw, int i0, int i1);

    /* xw with x's rows and columns read where they lie: row i of x' is at
     * x + (i / mrun) * ldm + (i % mrun) * ldx (rows in runs of mrun, ldx
     * floats apart, the runs ldm apart), and its k columns are runs of
     * krun consecutive floats, the runs ldk apart. For a convolution with
     * stride 1 a row of x' is an output position's receptive field in the
     * (padded) input: kh runs of kw*cin floats, one input row apart; so the
     * forward needs no im2col (conv.c). The same sums in the same order as
     * xw over the gathered matrix; xw(m, n, ldx, ...) is xw_runs(m, n, x,
     * m, ldx, 0, k, k, 0, ...). */
    void (*xw_runs)(int m, int n, const float *x, int mrun, int ldx, size_t ldm, int k,
                    int krun, size_t ldk, const float *w, const float *b, float *y, int add);

    /* xtdy with the rows of x read where they lie and the product added
     * to dw: dw[i0:i1, n) = (add ? dw : 0) + x'^T dy, where row q of x'
     * is x + (q / run) * ldr + (q % run) * ldx (batch rows in runs of
     * `run` rows ldx floats apart, the runs ldr floats apart). For a
     * convolution with stride 1 the receptive fields of one kernel row are
     * such rows of the (padded) input, so dW needs no im2col (conv.c).
     * Each element is summed from 0, the row ascending, then added to dw:
     * the bits of xtdy into a spare buffer and an add. xtdy(batch, in, ...)
     * is xtdy_runs(batch, batch, in, 0, ..., 0). */
    void (*xtdy_runs)(int batch, int run, int ldx, size_t ldr, int n, const float *x,
                      const float *dy, float *dw, int i0, int i1, int add);
} seqrt_gemm_ops;

/* The kernels in use (chosen once; see above), or NULL when dense.c is to
 * use CBLAS. */
const seqrt_gemm_ops *seqrt_gemm_kernels(void);

/* The path SEQRT_KERNELS=value selects on this CPU; NULL or "" gives the
 * default. A value that names no path, or a path this CPU lacks, gives
 * the default and a warning on stderr (a trainer still trains). */
seqrt_gemm_path seqrt_gemm_choose(const char *value);

/* The kernels of one path, or NULL when this CPU (or this build) lacks
 * it, or for SEQRT_GEMM_BLAS. For tests and benchmarks. */
const seqrt_gemm_ops *seqrt_gemm_path_ops(seqrt_gemm_path path);

/* Makes `path` the one in use from now on (tests: every path through
 * dense.c). Returns 0, or -1 (nothing changed) when the CPU lacks it.
 * Not to be called while a kernel runs. */
int seqrt_gemm_use(seqrt_gemm_path path);

/* The SEQRT_KERNELS name of a path ("blas", "portable", "avx2", "avx512"). */
const char *seqrt_gemm_path_name(seqrt_gemm_path path);

/* The fixed chunks dense.c cuts a large y = x W's inner dimension into
 * (see dense.c): the threads share them out, so more chunks allow more
 * threads on the product; each one costs a pass over y. 4: the 2-core
 * machines measured (docs/performance.md). With several threads the
 * forward pass needs (SEQRT_DENSE_K_CHUNKS - 1) x batch x out floats of
 * seqrt_parallel_scratch. */
enum { SEQRT_DENSE_K_CHUNKS = 4 };

#endif /* SEQRT_GEMM_H */
