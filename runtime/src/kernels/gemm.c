/*
 * gemm.c: small-batch GEMM kernels for the dense layer (see gemm.h), in
 * AVX-512F intrinsics behind a run-time CPU check.
 *
 * Why: at batch 32 the tutorial's first layer is x[32,784] W[784,128]
 * and dW = x^T dy with dy[32,128]. OpenBLAS 0.3.21 packs W, 400 KB, into
 * a panel on every call: on one Zen 5 core, with its AVX-512 (Cooperlake)
 * kernels, 50 us (125 GFLOP/s) for y = x W and 37 us (170 GFLOP/s) for
 * dW; pinned to its AVX2 kernels (OPENBLAS_CORETYPE=Haswell) 74 and 68 us.
 * The kernels here read the operands where they lie: W, row-major, is
 * already the layout a row-broadcast kernel wants, and x^T dy is a sum
 * over only 32 batch rows whose dy block stays in L1: 33 and 31 us, 190
 * and 205 GFLOP/s, near the core's peak. Tile sizes below.
 *
 * Register tiles: MR rows x NV vectors of 16 floats accumulate in zmm
 * registers (MR * NV of the 32); a column tail narrower than 16 uses a
 * masked load and store, so any width works. Every output is summed in a
 * fixed order (bias first, then k ascending; for dW the batch row
 * ascending) with fused multiply-adds, whatever the split across threads.
 */
#include "kernels/gemm.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(SEQRT_NO_AVX512)
#define SEQRT_GEMM_X86 1
#include <immintrin.h>
#endif

#ifdef SEQRT_GEMM_X86

int seqrt_gemm_available(void)
{
    static int cached = -1;
    if (cached < 0) {
        const char *force = getenv("SEQRT_KERNELS");
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") &&
                 !(force && strcmp(force, "blas") == 0);
    }
    return cached;
}

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline

/* Tile sizes, measured on Zen 5 for the tutorial's first layer (one
 * core, x[32,784] W[784,128]): y = x W with 4-row tiles 40 us (160
 * GFLOP/s), 6-row tiles 33 us (190 GFLOP/s: W, which streams from L2,
 * is read 6 times instead of 8); dW = x^T dy 31 us (205 GFLOP/s) with 4
 * or 6 rows. Blocking k so a block of W stays in L1 across the row tiles
 * (64 or 128 rows) measured no faster, alone or in a training step. */
enum {
    XW_MR = 6,   /* rows of x per tile: 24 accumulators */
    XT_MR = 4,   /* rows of dW per tile: 16 accumulators */
    MR_MAX = 6,  /* the tile switch below has cases up to this */
    NV_MAX = 4   /* 16-float vectors per tile: 64 columns */
};

/* mask of the valid lanes in the last vector of a `width`-column tile */
static __mmask16 tail_mask(int width)
{
    int r = width - 16 * ((width - 1) / 16);
    return (__mmask16)(r == 16 ? 0xFFFF : (1u << r) - 1u);
}

/* One tile of y = b + x w: rows [0,MR) of x, the NV vectors at w/b/y.
 * MR and NV are constants at every call site, so acc lives in registers. */
AVX512 void xw_tile(const int MR, const int NV, __mmask16 last, int k,
                    const float *x, int ldx, const float *w, int ldw,
                    const float *b, float *y, int ldy)
{
    __m512 acc[MR_MAX][NV_MAX];
    for (int c = 0; c < NV; c++) {
        __mmask16 mk = c == NV - 1 ? last : 0xFFFF;
        __m512 init = b ? _mm512_maskz_loadu_ps(mk, b + 16 * c) : _mm512_setzero_ps();
        for (int r = 0; r < MR; r++)
            acc[r][c] = init;
    }
    for (int p = 0; p < k; p++) {
        __m512 wv[NV_MAX];
        const float *wp = w + (size_t)p * ldw;
        for (int c = 0; c < NV; c++)
            wv[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? last : 0xFFFF, wp + 16 * c);
        for (int r = 0; r < MR; r++) {
            __m512 xb = _mm512_set1_ps(x[(size_t)r * ldx + p]);
            for (int c = 0; c < NV; c++)
                acc[r][c] = _mm512_fmadd_ps(xb, wv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++)
            _mm512_mask_storeu_ps(y + (size_t)r * ldy + 16 * c,
                                  c == NV - 1 ? last : 0xFFFF, acc[r][c]);
}

/* One tile of dw = x^T dy: dW rows [0,MR) (columns of x), NV vectors. */
AVX512 void xtdy_tile(const int MR, const int NV, __mmask16 last, int batch,
                      const float *x, int ldx, const float *dy, int ldy,
                      float *dw, int ldw)
{
    __m512 acc[MR_MAX][NV_MAX];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++)
            acc[r][c] = _mm512_setzero_ps();
    for (int q = 0; q < batch; q++) {
        __m512 dv[NV_MAX];
        const float *dq = dy + (size_t)q * ldy;
        for (int c = 0; c < NV; c++)
            dv[c] = _mm512_maskz_loadu_ps(c == NV - 1 ? last : 0xFFFF, dq + 16 * c);
        for (int r = 0; r < MR; r++) {
            __m512 xb = _mm512_set1_ps(x[(size_t)q * ldx + r]);
            for (int c = 0; c < NV; c++)
                acc[r][c] = _mm512_fmadd_ps(xb, dv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++)
            _mm512_mask_storeu_ps(dw + (size_t)r * ldw + 16 * c,
                                  c == NV - 1 ? last : 0xFFFF, acc[r][c]);
}

/* Dispatch to a tile with constant sizes: one case per (rows, vectors). */
#define TILE_CASES(CALL)                                                     \
    CALL(1, 1) CALL(1, 2) CALL(1, 3) CALL(1, 4) CALL(2, 1) CALL(2, 2)        \
    CALL(2, 3) CALL(2, 4) CALL(3, 1) CALL(3, 2) CALL(3, 3) CALL(3, 4)        \
    CALL(4, 1) CALL(4, 2) CALL(4, 3) CALL(4, 4) CALL(5, 1) CALL(5, 2)        \
    CALL(5, 3) CALL(5, 4) CALL(6, 1) CALL(6, 2) CALL(6, 3) CALL(6, 4)

__attribute__((target("avx512f")))
static void xw_cols(int m, int n, int ldx, int k, const float *x, const float *w,
                    const float *b, float *y, int j0, int j1)
{
    for (int j = j0; j < j1; j += 16 * NV_MAX) {
        int width = j1 - j < 16 * NV_MAX ? j1 - j : 16 * NV_MAX;
        int nv = (width + 15) / 16;
        __mmask16 last = tail_mask(width);
        const float *bj = b ? b + j : NULL;
        for (int i = 0; i < m; i += XW_MR) {
            int mr = m - i < XW_MR ? m - i : XW_MR;
            const float *xi = x + (size_t)i * ldx;
            float *yi = y + (size_t)i * n + j;
            switch (mr * 8 + nv) {
            default: break;
#define XW_CASE(R, V)                                                        \
    case R * 8 + V: xw_tile(R, V, last, k, xi, ldx, w + j, n, bj, yi, n); break;
                TILE_CASES(XW_CASE)
#undef XW_CASE
            }
        }
    }
}

void seqrt_gemm_xw(int m, int n, int k, const float *x, const float *w,
                   const float *b, float *y, int j0, int j1)
{
    xw_cols(m, n, k, k, x, w, b, y, j0, j1);
}

void seqrt_gemm_xw_k(int m, int n, int ldx, const float *x, const float *w,
                     int kk, const float *b, float *y)
{
    xw_cols(m, n, ldx, kk, x, w, b, y, 0, n);
}

__attribute__((target("avx512f")))
void seqrt_gemm_xtdy(int batch, int in, int n, const float *x,
                     const float *dy, float *dw, int i0, int i1)
{
    for (int j = 0; j < n; j += 16 * NV_MAX) {
        int width = n - j < 16 * NV_MAX ? n - j : 16 * NV_MAX;
        int nv = (width + 15) / 16;
        __mmask16 last = tail_mask(width);
        for (int i = i0; i < i1; i += XT_MR) {
            int mr = i1 - i < XT_MR ? i1 - i : XT_MR;
            float *dwi = dw + (size_t)i * n + j;
            switch (mr * 8 + nv) {
            default: break;
#define XT_CASE(R, V)                                                        \
    case R * 8 + V: xtdy_tile(R, V, last, batch, x + i, in, dy + j, n, dwi, n); break;
                TILE_CASES(XT_CASE)
#undef XT_CASE
            }
        }
    }
}

#else /* no AVX-512 kernels on this platform: dense.c uses CBLAS */

int seqrt_gemm_available(void)
{
    return 0;
}

/* Plain loops with the same contract, so the library links everywhere;
 * dense.c never calls them when seqrt_gemm_available() is 0. */
void seqrt_gemm_xw(int m, int n, int k, const float *x, const float *w,
                   const float *b, float *y, int j0, int j1)
{
    for (int i = 0; i < m; i++)
        for (int j = j0; j < j1; j++) {
            float s = b ? b[j] : 0.0f;
            for (int p = 0; p < k; p++)
                s += x[(size_t)i * k + p] * w[(size_t)p * n + j];
            y[(size_t)i * n + j] = s;
        }
}

void seqrt_gemm_xw_k(int m, int n, int ldx, const float *x, const float *w,
                     int kk, const float *b, float *y)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = b ? b[j] : 0.0f;
            for (int p = 0; p < kk; p++)
                s += x[(size_t)i * ldx + p] * w[(size_t)p * n + j];
            y[(size_t)i * n + j] = s;
        }
}

void seqrt_gemm_xtdy(int batch, int in, int n, const float *x,
                     const float *dy, float *dw, int i0, int i1)
{
    for (int i = i0; i < i1; i++)
        for (int j = 0; j < n; j++) {
            float s = 0.0f;
            for (int q = 0; q < batch; q++)
                s += x[(size_t)q * in + i] * dy[(size_t)q * n + j];
            dw[(size_t)i * n + j] = s;
        }
}

#endif
