/*
 * gemm.c: small-batch GEMM kernels for the dense layer (see gemm.h): the
 * same register tiles in AVX-512F and in AVX2+FMA intrinsics
 * (gemm_tiles.h, compiled once per ISA), and portable C; one chosen at
 * run time.
 *
 * Why: at batch 32 the tutorial's first layer is x[32,784] W[784,128]
 * and dW = x^T dy with dy[32,128]. OpenBLAS 0.3.21 packs W, 400 KB, into
 * a panel on every call: on one Zen 5 core, with its AVX-512 (Cooperlake)
 * kernels, 50 us (125 GFLOP/s) for y = x W and 37 us (170 GFLOP/s) for
 * dW; pinned to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell) 74 and 68 us.
 * The kernels here read the operands where they lie: W, row-major, is
 * already the layout a row-broadcast kernel wants, and x^T dy is a sum
 * over only 32 batch rows whose dy block stays in L1: 33 and 31 us, 190
 * and 205 GFLOP/s, near the core's peak.
 *
 * AVX2: on one core of an AMD EPYC (Zen 3, AVX2+FMA, no AVX-512), the
 * same two products (bench/gemm_paths.c: the median of 2000 calls; the
 * machine was shared, other processes used about 1.5 of its 2 cores, so
 * each figure is the best of 3 runs and only differences of 10 % or more
 * mean anything):
 *
 *   tiles (y = x W, dW)    y = x W + b          dW = x^T dy
 *   6x2, 4x2 (kept)        101 us, 64 GFLOP/s    79 us, 81 GFLOP/s
 *   6x2, 6x2               103 us                78 us
 *   4x3, 4x3               113 us                83 us
 *   4x2, 6x2               134 us               105 us
 *   OpenBLAS (Zen kernel)   86 us, 75 GFLOP/s   116 us, 55 GFLOP/s
 *
 * OpenBLAS is faster for y = x W by about 15 us and slower for dW by
 * about 37 us, so a step's two large products take about 180 us on these
 * kernels against 200 us on OpenBLAS; the kernels also run dx and the
 * small layers without OpenBLAS's per-call packing, and, above all, sum
 * in one fixed order whatever the thread count, which OpenBLAS does not
 * promise. So AVX2 is the default on such CPUs, like AVX-512 on its own.
 * (Within dense.c, y = x W runs in 4 chunks of k of at most 208 rows:
 * their 16-column slices of W, 13 KB, stay in L1 across the row tiles.)
 *
 * Register tiles: MR rows x NV vectors accumulate in registers (AVX-512:
 * 6 x 4 for y = x W, 4 x 4 for dW, of 32 zmm; AVX2: 6 x 2 and 4 x 2 of
 * 16 ymm, leaving room for the NV vectors of W or dy and the broadcast);
 * a column tail narrower than a vector uses a masked load and store, so
 * any width works. Every output is summed in a fixed order (the bias or 0
 * first, then k ascending; for dW the batch row ascending) with fused
 * multiply-adds; the portable path does the same with fmaf, so every path
 * gives the same bits, whatever the split across threads.
 *
 * Convolutions (conv.c) call the same tiles with the rows of x, and for
 * y = x w its k columns, read in runs where they lie in the input
 * (xw_runs, xtdy_runs: gemm.h), so stride-1 convolutions need no im2col
 * copy; xw and xtdy are their one-run cases (the dense layer's products
 * measured the same before and after: bench/gemm_paths, 32.4-33.6 us
 * and 28.0-29.1 us). AVX-512 dW tiles have 6 rows (24 accumulators, 4
 * dy vectors, a broadcast: 29 of 32 registers) since 2026-12-02: conv2's
 * dW (288 rows, 144 positions) in its backward, bench/conv_paths
 * --layers, 1 thread, fastest of 200, alternated: 1.70-1.74 ms with 4
 * rows, 1.63-1.68 ms with 6; the dense layer's dW 28.0-28.7 us either
 * way. Cutting y = x w's k into L1-sized chunks (the sums going on from
 * y) gave nothing on conv2's forward (0.87-0.94 against 0.87-0.89 ms)
 * and was not kept.
 */
#include "kernels/gemm.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------- portable C */

enum { PORTABLE_BW = 64 }; /* columns summed at once, in an array on the stack */

static void xw_runs_portable(int m, int n, const float *x, int mrun, int ldx, size_t ldm,
                             int k, int krun, size_t ldk, const float *w, const float *b,
                             float *y, int add)
{
    float acc[PORTABLE_BW];
    for (int i = 0; i < m; i++) {
        const float *xi = x + (size_t)(i / mrun) * ldm + (size_t)(i % mrun) * ldx;
        for (int j0 = 0; j0 < n; j0 += PORTABLE_BW) {
            int nb = n - j0 < PORTABLE_BW ? n - j0 : PORTABLE_BW;
            for (int j = 0; j < nb; j++)
                acc[j] = b ? b[j0 + j] : 0.0f;
            const float *xr = xi; /* run p0 / krun of the row */
            for (int p0 = 0; p0 < k; p0 += krun, xr += ldk)
                for (int p = p0; p < k && p < p0 + krun; p++) {
                    const float xv = xr[p - p0];
                    const float *wp = w + (size_t)p * n + j0;
                    for (int j = 0; j < nb; j++)
                        acc[j] = fmaf(xv, wp[j], acc[j]);
                }
            float *yi = y + (size_t)i * n + j0;
            for (int j = 0; j < nb; j++)
                yi[j] = add ? yi[j] + acc[j] : acc[j];
        }
    }
}

static void xw_portable(int m, int n, int ldx, const float *x, const float *w, int k,
                        const float *b, float *y, int add)
{
    xw_runs_portable(m, n, x, m > 0 ? m : 1, ldx, 0, k, k > 0 ? k : 1, 0, w, b, y, add);
}

static void xtdy_runs_portable(int batch, int run, int ldx, size_t ldr, int n,
                               const float *x, const float *dy, float *dw, int i0, int i1,
                               int add)
{
    float acc[PORTABLE_BW];
    for (int i = i0; i < i1; i++)
        for (int j0 = 0; j0 < n; j0 += PORTABLE_BW) {
            int nb = n - j0 < PORTABLE_BW ? n - j0 : PORTABLE_BW;
            for (int j = 0; j < nb; j++)
                acc[j] = 0.0f;
            const float *xrun = x + i;
            for (int q0 = 0; q0 < batch; q0 += run, xrun += ldr)
                for (int q = q0; q < batch && q < q0 + run; q++) {
                    const float xv = xrun[(size_t)(q - q0) * ldx];
                    const float *dq = dy + (size_t)q * n + j0;
                    for (int j = 0; j < nb; j++)
                        acc[j] = fmaf(xv, dq[j], acc[j]);
                }
            float *dwi = dw + (size_t)i * n + j0;
            for (int j = 0; j < nb; j++)
                dwi[j] = add ? dwi[j] + acc[j] : acc[j];
        }
}

static void xtdy_portable(int batch, int in, int n, const float *x, const float *dy,
                          float *dw, int i0, int i1)
{
    xtdy_runs_portable(batch, batch, in, 0, n, x, dy, dw, i0, i1, 0);
}

/* ------------------------------------------------------------- x86-64 */

#if defined(__x86_64__) && defined(__GNUC__)
#define SEQRT_GEMM_X86 1
#include <immintrin.h>

__attribute__((target("avx512f"))) static inline __mmask16 avx512_tail_mask(int width)
{
    int r = width - 16 * ((width - 1) / 16);
    return (__mmask16)(r == 16 ? 0xFFFF : (1u << r) - 1u);
}

#define GT_TARGET "avx512f"
#define GT_SUFFIX(name) name##_avx512
#define GT_V __m512
#define GT_LANES 16
#define GT_MASK __mmask16
#define GT_TAIL_MASK(width) avx512_tail_mask(width)
#define GT_LOAD(p) _mm512_loadu_ps(p)
#define GT_LOADM(m, p) _mm512_maskz_loadu_ps(m, p)
#define GT_STORE(p, v) _mm512_storeu_ps(p, v)
#define GT_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define GT_SET1(f) _mm512_set1_ps(f)
#define GT_ZERO() _mm512_setzero_ps()
#define GT_ADD(a, b) _mm512_add_ps(a, b)
#define GT_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GT_XW_MR 6
#define GT_XT_MR 6
#define GT_MR_MAX 6
#define GT_NV 4
#define GT_TILE_CASES(CALL)                                                  \
    CALL(1, 1) CALL(1, 2) CALL(1, 3) CALL(1, 4) CALL(2, 1) CALL(2, 2)        \
    CALL(2, 3) CALL(2, 4) CALL(3, 1) CALL(3, 2) CALL(3, 3) CALL(3, 4)        \
    CALL(4, 1) CALL(4, 2) CALL(4, 3) CALL(4, 4) CALL(5, 1) CALL(5, 2)        \
    CALL(5, 3) CALL(5, 4) CALL(6, 1) CALL(6, 2) CALL(6, 3) CALL(6, 4)
#include "kernels/gemm_tiles.h" /* undefines the GT_ parameters */

/* lanes [0, r) of the last 8-float vector, r = width's remainder (1..8) */
__attribute__((target("avx2"))) static inline __m256i avx2_tail_mask(int width)
{
    int r = width - 8 * ((width - 1) / 8);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define GT_TARGET "avx2,fma"
#define GT_SUFFIX(name) name##_avx2
#define GT_V __m256
#define GT_LANES 8
#define GT_MASK __m256i
#define GT_TAIL_MASK(width) avx2_tail_mask(width)
#define GT_LOAD(p) _mm256_loadu_ps(p)
#define GT_LOADM(m, p) _mm256_maskload_ps(p, m)
#define GT_STORE(p, v) _mm256_storeu_ps(p, v)
#define GT_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define GT_SET1(f) _mm256_set1_ps(f)
#define GT_ZERO() _mm256_setzero_ps()
#define GT_ADD(a, b) _mm256_add_ps(a, b)
#define GT_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GT_XW_MR 6
#define GT_XT_MR 4
#define GT_MR_MAX 6
#define GT_NV 2
#define GT_TILE_CASES(CALL)                                                  \
    CALL(1, 1) CALL(1, 2) CALL(2, 1) CALL(2, 2) CALL(3, 1) CALL(3, 2)        \
    CALL(4, 1) CALL(4, 2) CALL(5, 1) CALL(5, 2) CALL(6, 1) CALL(6, 2)
#include "kernels/gemm_tiles.h" /* undefines the GT_ parameters */
#endif /* x86-64 */

/* ------------------------------------------------------- the choice */

static const seqrt_gemm_ops path_ops[SEQRT_GEMM_PATHS] = {
    [SEQRT_GEMM_BLAS] = {SEQRT_GEMM_BLAS, "blas", NULL, NULL, NULL, NULL},
    [SEQRT_GEMM_PORTABLE] = {SEQRT_GEMM_PORTABLE, "portable", xw_portable, xtdy_portable,
                             xw_runs_portable, xtdy_runs_portable},
#ifdef SEQRT_GEMM_X86
    [SEQRT_GEMM_AVX2] = {SEQRT_GEMM_AVX2, "avx2", xw_avx2, xtdy_avx2, xw_runs_avx2,
                         xtdy_runs_avx2},
    [SEQRT_GEMM_AVX512] = {SEQRT_GEMM_AVX512, "avx512", xw_avx512, xtdy_avx512,
                           xw_runs_avx512, xtdy_runs_avx512},
#else
    [SEQRT_GEMM_AVX2] = {SEQRT_GEMM_AVX2, "avx2", NULL, NULL, NULL, NULL},
    [SEQRT_GEMM_AVX512] = {SEQRT_GEMM_AVX512, "avx512", NULL, NULL, NULL, NULL},
#endif
};

const char *seqrt_gemm_path_name(seqrt_gemm_path path)
{
    return path >= 0 && path < SEQRT_GEMM_PATHS ? path_ops[path].name : "?";
}

/* 1 when this CPU (and this build) can run the path. */
static int cpu_has(seqrt_gemm_path path)
{
    switch (path) {
    case SEQRT_GEMM_BLAS:
    case SEQRT_GEMM_PORTABLE:
        return 1;
#ifdef SEQRT_GEMM_X86
    case SEQRT_GEMM_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SEQRT_GEMM_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

const seqrt_gemm_ops *seqrt_gemm_path_ops(seqrt_gemm_path path)
{
    if (path <= SEQRT_GEMM_BLAS || path >= SEQRT_GEMM_PATHS || !cpu_has(path))
        return NULL;
    return &path_ops[path];
}

/* The best path of this CPU: AVX-512 > AVX2 > portable. The portable
 * path is fast only where fmaf is one instruction (FP_FAST_FMAF: AArch64,
 * POWER, ...); on an x86-64 without FMA (before 2013) it is a library
 * routine, 100 times slower than OpenBLAS, so CBLAS is the default there. */
static seqrt_gemm_path best_path(void)
{
    if (cpu_has(SEQRT_GEMM_AVX512))
        return SEQRT_GEMM_AVX512;
    if (cpu_has(SEQRT_GEMM_AVX2))
        return SEQRT_GEMM_AVX2;
#ifdef FP_FAST_FMAF
    return SEQRT_GEMM_PORTABLE;
#else
    return SEQRT_GEMM_BLAS;
#endif
}

seqrt_gemm_path seqrt_gemm_choose(const char *value)
{
    seqrt_gemm_path best = best_path();
    if (!value || !*value)
        return best;
    for (int p = 0; p < SEQRT_GEMM_PATHS; p++) {
        if (strcmp(value, path_ops[p].name) != 0)
            continue;
        if (cpu_has((seqrt_gemm_path)p))
            return (seqrt_gemm_path)p;
        fprintf(stderr, "warning: SEQRT_KERNELS=%s: this CPU lacks it; using %s\n", value,
                path_ops[best].name);
        return best;
    }
    fprintf(stderr,
            "warning: SEQRT_KERNELS=%s is none of blas, portable, avx2, avx512; using %s\n",
            value, path_ops[best].name);
    return best;
}

/* The path in use: chosen at the first call, which seqrt_set_threads makes
 * on the main thread before any worker exists. */
static int in_use = -1;

const seqrt_gemm_ops *seqrt_gemm_kernels(void)
{
    if (in_use < 0)
        in_use = (int)seqrt_gemm_choose(getenv("SEQRT_KERNELS"));
    return in_use == SEQRT_GEMM_BLAS ? NULL : &path_ops[in_use];
}

int seqrt_gemm_use(seqrt_gemm_path path)
{
    if (path < 0 || path >= SEQRT_GEMM_PATHS || !cpu_has(path))
        return -1;
    in_use = (int)path;
    return 0;
}
