/*
 * gemm_tiles.h: the register-tile kernels of gemm.c, written once and
 * compiled once per instruction set. Only gemm.c includes it, once per
 * ISA, after defining these macros (it undefines them at its end); hence no
 * include guard:
 *
 *   GT_TARGET            the target attribute ("avx512f", "avx2,fma")
 *   GT_SUFFIX(name)      name with the ISA's suffix (xw_avx2, ...)
 *   GT_V, GT_LANES       the vector type and its floats
 *   GT_MASK              a tail mask; GT_TAIL_MASK(width) selects the valid
 *                        lanes of the last vector of a `width`-column block
 *   GT_LOAD(p), GT_LOADM(m, p), GT_STORE(p, v), GT_STOREM(p, m, v)
 *   GT_SET1(f), GT_ZERO(), GT_ADD(a, b)
 *   GT_FMA(a, b, c)      a * b + c rounded once (as fmaf in the portable C)
 *   GT_XW_MR, GT_XT_MR   rows per tile of y = x w and of dw = x^T dy
 *   GT_MR_MAX            the larger of the two
 *   GT_NV                vectors per tile (columns: GT_NV * GT_LANES)
 *   GT_TILE_CASES(CALL)  CALL(R, V) for R in 1..GT_MR_MAX, V in 1..GT_NV
 *
 * A tile keeps MR x NV vector accumulators in registers; MR, NV and T (the
 * last vector is a partial, masked one) are constants at every call site
 * (the switches below), so each case compiles to straight register code.
 * The mask is used only in tails: an AVX2 masked store is much slower than
 * a plain one on AMD's cores.
 *
 * The tiles read x through runs (gemm.h xw_runs, xtdy_runs): a tile of
 * y = x w takes one pointer per row and walks k in runs of consecutive
 * floats; a tile of x^T dy walks its rows in runs. A convolution with
 * stride 1 so reads its receptive fields in the input itself (conv.c);
 * xw and xtdy are the one-run case, with the same loads and multiply-adds
 * as before (bench/gemm_paths: the dense layer's products took the same
 * time). Runs never change the order of the sums, so neither the bits.
 */

#define GT_FN __attribute__((target(GT_TARGET)))
#define GT_INLINE __attribute__((target(GT_TARGET), always_inline)) static inline
/* vector c of NV at p: masked when it is the partial last one */
#define GT_LD(T, NV, c, last, p) ((T) && (c) == (NV) - 1 ? GT_LOADM(last, p) : GT_LOAD(p))

/* One tile of y = (add ? y : 0) + (b) + x w: rows [0,MR) of y, row r of
 * x at xr[r]; x's k columns in runs of krun, the runs ldk floats apart
 * (one run: a plain row). */
GT_INLINE void GT_SUFFIX(xw_tile)(const int MR, const int NV, const int T, GT_MASK last,
                                  int k, const float *const *xr, int krun, size_t ldk,
                                  const float *w, int ldw, const float *b, float *y, int ldy,
                                  int add)
{
    GT_V acc[GT_MR_MAX][GT_NV];
    const float *xp[GT_MR_MAX];
    for (int r = 0; r < MR; r++)
        xp[r] = xr[r];
    for (int c = 0; c < NV; c++) {
        GT_V init = b ? GT_LD(T, NV, c, last, b + GT_LANES * c) : GT_ZERO();
        for (int r = 0; r < MR; r++)
            acc[r][c] = init;
    }
    for (int p0 = 0; p0 < k; p0 += krun) {
        const int pn = k - p0 < krun ? k - p0 : krun;
        const float *w0 = w + (size_t)p0 * ldw;
        for (int p = 0; p < pn; p++) {
            GT_V wv[GT_NV];
            const float *wp = w0 + (size_t)p * ldw;
            for (int c = 0; c < NV; c++)
                wv[c] = GT_LD(T, NV, c, last, wp + GT_LANES * c);
            for (int r = 0; r < MR; r++) {
                GT_V xb = GT_SET1(xp[r][p]);
                for (int c = 0; c < NV; c++)
                    acc[r][c] = GT_FMA(xb, wv[c], acc[r][c]);
            }
        }
        for (int r = 0; r < MR; r++)
            xp[r] += ldk;
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++) {
            float *yp = y + (size_t)r * ldy + GT_LANES * c;
            GT_V v = add ? GT_ADD(GT_LD(T, NV, c, last, yp), acc[r][c]) : acc[r][c];
            if (T && c == NV - 1)
                GT_STOREM(yp, last, v);
            else
                GT_STORE(yp, v);
        }
}

/* One tile of dw = (add ? dw : 0) + x^T dy: dw rows [0,MR) (columns of
 * x). Row q of x is x + (q / run) * ldr + (q % run) * ldx (runs of
 * `run` rows; one run: the plain matrix). */
GT_INLINE void GT_SUFFIX(xtdy_tile)(const int MR, const int NV, const int T, GT_MASK last,
                                    int batch, int run, const float *x, int ldx, size_t ldr,
                                    const float *dy, int ldy, float *dw, int ldw, int add)
{
    GT_V acc[GT_MR_MAX][GT_NV];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++)
            acc[r][c] = GT_ZERO();
    const float *xrun = x, *xq = x;
    int left = run;
    for (int q = 0; q < batch; q++) {
        GT_V dv[GT_NV];
        const float *dq = dy + (size_t)q * ldy;
        for (int c = 0; c < NV; c++)
            dv[c] = GT_LD(T, NV, c, last, dq + GT_LANES * c);
        for (int r = 0; r < MR; r++) {
            GT_V xb = GT_SET1(xq[r]);
            for (int c = 0; c < NV; c++)
                acc[r][c] = GT_FMA(xb, dv[c], acc[r][c]);
        }
        if (--left == 0) {
            left = run;
            xrun += ldr;
            xq = xrun;
        } else {
            xq += ldx;
        }
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < NV; c++) {
            float *dp = dw + (size_t)r * ldw + GT_LANES * c;
            GT_V v = add ? GT_ADD(GT_LD(T, NV, c, last, dp), acc[r][c]) : acc[r][c];
            if (T && c == NV - 1)
                GT_STOREM(dp, last, v);
            else
                GT_STORE(dp, v);
        }
}

/* the switch key of a tile: rows, vectors, tail */
#define GT_KEY(R, V, T) (((R) * 8 + (V)) * 2 + (T))

/* gemm.h's xw_runs: column blocks of GT_NV vectors, row tiles of
 * GT_XW_MR. */
GT_FN static void GT_SUFFIX(xw_runs)(int m, int n, const float *x, int mrun, int ldx,
                                     size_t ldm, int k, int krun, size_t ldk, const float *w,
                                     const float *b, float *y, int add)
{
    const int bw = GT_LANES * GT_NV;
    for (int j = 0; j < n; j += bw) {
        int width = n - j < bw ? n - j : bw;
        int nv = (width + GT_LANES - 1) / GT_LANES, t = width % GT_LANES != 0;
        GT_MASK last = GT_TAIL_MASK(width);
        const float *bj = b ? b + j : NULL;
        /* row i of x: run i / mrun, row i % mrun of it */
        const float *xrun = x;
        int in_run = 0;
        for (int i = 0; i < m; i += GT_XW_MR) {
            int mr = m - i < GT_XW_MR ? m - i : GT_XW_MR;
            const float *xr[GT_MR_MAX];
            for (int r = 0; r < mr; r++) {
                xr[r] = xrun + (size_t)in_run * ldx;
                if (++in_run == mrun) {
                    in_run = 0;
                    xrun += ldm;
                }
            }
            float *yi = y + (size_t)i * n + j;
            switch (GT_KEY(mr, nv, t)) {
            default: break;
#define GT_XW_CASE(R, V)                                                                   \
    case GT_KEY(R, V, 0):                                                                  \
        GT_SUFFIX(xw_tile)(R, V, 0, last, k, xr, krun, ldk, w + j, n, bj, yi, n, add);     \
        break;                                                                             \
    case GT_KEY(R, V, 1):                                                                  \
        GT_SUFFIX(xw_tile)(R, V, 1, last, k, xr, krun, ldk, w + j, n, bj, yi, n, add);     \
        break;
                GT_TILE_CASES(GT_XW_CASE)
#undef GT_XW_CASE
            }
        }
    }
}

/* gemm.h's xw: one run of rows ldx apart, one run of k */
GT_FN static void GT_SUFFIX(xw)(int m, int n, int ldx, const float *x, const float *w,
                                int k, const float *b, float *y, int add)
{
    GT_SUFFIX(xw_runs)(m, n, x, m, ldx, 0, k, k > 0 ? k : 1, 0, w, b, y, add);
}

/* gemm.h's xtdy_runs: column blocks of GT_NV vectors, row tiles of
 * GT_XT_MR. */
GT_FN static void GT_SUFFIX(xtdy_runs)(int batch, int run, int ldx, size_t ldr, int n,
                                       const float *x, const float *dy, float *dw, int i0,
                                       int i1, int add)
{
    const int bw = GT_LANES * GT_NV;
    for (int j = 0; j < n; j += bw) {
        int width = n - j < bw ? n - j : bw;
        int nv = (width + GT_LANES - 1) / GT_LANES, t = width % GT_LANES != 0;
        GT_MASK last = GT_TAIL_MASK(width);
        for (int i = i0; i < i1; i += GT_XT_MR) {
            int mr = i1 - i < GT_XT_MR ? i1 - i : GT_XT_MR;
            float *dwi = dw + (size_t)i * n + j;
            switch (GT_KEY(mr, nv, t)) {
            default: break;
#define GT_XT_CASE(R, V)                                                              \
    case GT_KEY(R, V, 0):                                                             \
        GT_SUFFIX(xtdy_tile)(R, V, 0, last, batch, run, x + i, ldx, ldr, dy + j, n,  \
                             dwi, n, add);                                            \
        break;                                                                        \
    case GT_KEY(R, V, 1):                                                             \
        GT_SUFFIX(xtdy_tile)(R, V, 1, last, batch, run, x + i, ldx, ldr, dy + j, n,  \
                             dwi, n, add);                                            \
        break;
                GT_TILE_CASES(GT_XT_CASE)
#undef GT_XT_CASE
            }
        }
    }
}

/* gemm.h's xtdy: one run of rows `in` floats apart */
GT_FN static void GT_SUFFIX(xtdy)(int batch, int in, int n, const float *x,
                                  const float *dy, float *dw, int i0, int i1)
{
    GT_SUFFIX(xtdy_runs)(batch, batch, in, 0, n, x, dy, dw, i0, i1, 0);
}

#undef GT_KEY
#undef GT_LD
#undef GT_INLINE
#undef GT_FN

/* The template's parameters end here, so the next path can define its own. */
#undef GT_TARGET
#undef GT_SUFFIX
#undef GT_V
#undef GT_LANES
#undef GT_MASK
#undef GT_TAIL_MASK
#undef GT_LOAD
#undef GT_LOADM
#undef GT_STORE
#undef GT_STOREM
#undef GT_SET1
#undef GT_ZERO
#undef GT_ADD
#undef GT_FMA
#undef GT_XW_MR
#undef GT_XT_MR
#undef GT_MR_MAX
#undef GT_NV
#undef GT_TILE_CASES
