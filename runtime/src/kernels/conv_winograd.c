/*
 * conv_winograd.c: 3x3 stride-1 convolutions as Winograd F(2x2, 3x3)
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2015), on the AVX-512 path, for conv.c's forward, its dx and its dW.
 *
 * Why. At stride 1 conv.c's products already read the input in place
 * (gemm.h xw_runs) at about 90 % of this core's sgemm ceiling, so the
 * GEMMs cannot get much faster: the arithmetic has to shrink. F(2x2,
 * 3x3) computes a 2x2 block of outputs from a 4x4 block of inputs with
 * 16 products per (cin, cout) pair instead of 36: 2.25 times fewer
 * multiply-adds, plus transforms that cost O(cin + cout) per tile.
 *
 * The method, per sample. The outputs are cut into 2x2 tiles (a partial
 * tile at an odd edge: its input is padded with zeros and the outputs
 * past the edge are dropped); tile t's input is the 4x4 block from
 * (2 ty - pad_top, 2 tx - pad_left), zeros outside the image.
 *   V[e][t][ci]  = (B^T d B)[e]       per tile and channel (16 elements e)
 *   U[e][ci][co] = (G g G^T)[e]       per filter, once per call
 *   M[e][t][co]  = V[e] U[e]          16 GEMMs (gemm.h xw: m = tiles,
 *                                     k = cin, n = cout)
 *   y[tile][co]  = A^T M A + b        the 2x2 outputs
 * with, for F(2, 3),
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1].
 * The tiles go through in chunks (in raster order), so V and M for one
 * chunk stay in L1/L2: [16][chunk][cin] and [16][chunk][cout] floats
 * (seqrt_winograd_buffer_floats). Each tile's arithmetic is the same
 * whatever the chunk (the GEMM computes each row of M alone), so conv.c
 * chooses the chunk to fit its scratch without changing a bit.
 *
 * dx: the same tiles of the layer's outputs, every step transposed
 * (the adjoint of the forward's linear map from d to y):
 *   dM[e][t][co] = (A dY A^T)[e]      dY the tile's 2x2 block of dy
 *   dV[e][t][ci] = dM[e] U[e]^T       16 GEMMs (m = tiles, k = cout,
 *                                     n = cin; U transposed once a call)
 *   dx += B dV B^T                    the 4x4 block added into dx's
 *                                     cells inside the image, the tiles
 *                                     in raster order (dx zeroed first)
 * The first version computed dx as the forward convolution of dy with
 * the kernel turned by 180 degrees (padding 2 - pad, output h x w): the
 * same routine, but its tiles cover the 14x14 dx of conv2, 49 of them against
 * the 36 of the 12x12 dy, so 1.61 M multiply-adds a sample instead of
 * 1.18 M. Measured (conv2's backward, fastest of 300, three rounds):
 * 1.49-1.55 ms that way, 1.34-1.39 ms transposed, which also loads 4 dy
 * cells a tile instead of 16. The price is an add into dx per cell and
 * tile (the 4x4 blocks overlap by 2), in a fixed order, so the bits are
 * still those of the sample alone.
 *
 * dW: the gradient with respect to the kernel g of the forward's y = A^T
 * [(G g G^T) (.) V] A is G^T [sum over the tiles of V (.) dM] G, dM =
 * A dY A^T as for dx (the elementwise product's adjoint in U, then G g
 * G^T's):
 *   dU[e][ci][co] += V[e]^T dM[e]     16 GEMMs (gemm.h xtdy_runs: the
 *                                     tiles the sum, m = cin, n = cout)
 *   dW[ky][kx][ci][co] = (G^T dU G)   per (ci, co), once a group of
 *                                     samples (dU is linear in the sum)
 * with G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1]. It runs in the
 * dx's pass (seqrt_winograd_dw_sample): per chunk of tiles dM from dy,
 * V from x (input_chunk, as the forward), dU's products, then dx's from
 * the same dM; buffers [16][chunk] of (cin + cout + cin) floats. Each
 * chunk's product is summed from 0, the tiles ascending, then added to
 * dU (xtdy_runs' add), so dW's bits depend on the chunk, which conv.c
 * fixes by the shape and batch (36 tiles at conv2: a longer sum per add
 * than 12, 1.10 against 1.14 ms for conv2's backward), never the threads.
 * conv2 needs 1.18 M multiply-adds a sample for dW instead of the GEMM's
 * 2.65 M: its backward went from 1.35-1.40 to 1.08-1.12 ms on one core
 * (conv.c's header has the table). Error against the double definition
 * on max |dW|: 1.6-3.3e-7, the GEMM's 1.4-6.2e-7 (test_conv,
 * conv_winograd).
 *
 * Numbers. Every output is a fixed sequence of float operations (the
 * transforms in a fixed order, the GEMM's fixed chain of fused multiply-
 * adds over ci ascending, then the bias), whichever thread computes it
 * and whatever the chunk: the same bits for every thread count. Not the
 * im2col path's bits: V sums up to 16 inputs, U halves and sums weights,
 * and y sums 9 elements of M that partly cancel. Against a double-
 * precision direct convolution (tests/runtime/test_conv.c,
 * conv_winograd: Glorot-scale weights, inputs in [-1, 1]) the worst
 * error relative to max |y| (or |dx|) is 1.6-3.6e-7 over its shapes, the
 * im2col path's 1.1-7.1e-7; at the CNN's conv2, batch 3, y 2.7e-7
 * (im2col 6.2e-7) and dx 3.6e-7 (im2col 2.0e-7). Float's precision,
 * either way.
 *
 * Measured on one core of the Zen 5 development machine (2026-12-02,
 * load average 1.5-2.5 from other jobs), the CNN's conv2 at batch 32
 * (14x14x32 -> 12x12x64 valid), fastest of 300 calls:
 *
 *   the chunk of tiles     4      6      8     12     18     24
 *   forward (ms)       0.514  0.496  0.582  0.474  0.468  0.470
 *   backward (ms)      1.626  1.509  1.699  1.492  1.502  1.507
 *
 * (backward: dW's unchanged GEMM and the Winograd dx, the dx of the
 * turned kernel then). The chunk is best a multiple of the GEMM's 6-row
 * register tile (8 = 6 + a 2-row tail is slow); 12, 18 and 24 are the
 * same within the noise, and conv.c takes 12, the smallest buffers: a
 * chunk's V and M, 16 * 12 * (cin + cout) floats, are 72 KB at conv2's,
 * so each sample's stay in L2 and fit smaller batches' scratch. perf of
 * the forward: the 16 GEMMs 67 %, the input transforms 11 %, the output
 * transforms 11 %, the weights' 1.7 %. A load with no lanes instead of a
 * branch per border cell made no measurable difference, but one path is
 * simpler. Reusing B^T d of the two columns a tile shares with its left
 * neighbour (the channels outer, the tiles inner) was slower: backward
 * (the turned-kernel dx) 1.58 ms against 1.52. The GEMMs run at about
 * 220-240 GFLOP/s here (k = cin = 32, n = 64): the ceiling, so the fewer
 * multiply-adds are the gain. conv.c's header has the layers' times
 * before and after.
 */
#include "kernels/conv.h"

#include "kernels/gemm.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_WINO 1
#define WINO_FN __attribute__((target("avx512f")))
#else
#define HAVE_WINO 0
#endif

static int wino_enabled = 1;

void seqrt_winograd_enable(int on)
{
    wino_enabled = on != 0;
}

int seqrt_winograd_shape_ok(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c)
{
    return HAVE_WINO && wino_enabled && g && g->path == SEQRT_GEMM_AVX512 && c->kh == 3 &&
           c->kw == 3 && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1 &&
           c->cin % 16 == 0 && c->cout % 16 == 0 && c->cin > 0 && c->cout > 0 && c->oh > 0 &&
           c->ow > 0;
}

size_t seqrt_winograd_tiles(const seqrt_conv2d_shape *c)
{
    return (size_t)((c->oh + 1) / 2) * (size_t)((c->ow + 1) / 2);
}

size_t seqrt_winograd_buffer_floats(const seqrt_conv2d_shape *c, size_t chunk)
{
    return 16 * chunk * ((size_t)c->cin + (size_t)c->cout);
}

size_t seqrt_winograd_dw_buffer_floats(const seqrt_conv2d_shape *c, size_t chunk)
{
    return 16 * chunk * (2 * (size_t)c->cin + (size_t)c->cout);
}

size_t seqrt_winograd_weights_floats(const seqrt_conv2d_shape *c)
{
    return 16 * (size_t)c->cin * (size_t)c->cout;
}

#if HAVE_WINO

/* u[16] = G g G^T for one vector of 16 filters; g[ky * 3 + kx] */
WINO_FN static inline void filter_transform(const __m512 g[9], __m512 u[16])
{
    const __m512 half = _mm512_set1_ps(0.5f);
    __m512 t[4][3]; /* G g: 4 rows of 3 */
    for (int kx = 0; kx < 3; kx++) {
        const __m512 g0 = g[kx], g1 = g[3 + kx], g2 = g[6 + kx];
        const __m512 s = _mm512_add_ps(g0, g2);
        t[0][kx] = g0;
        t[1][kx] = _mm512_mul_ps(_mm512_add_ps(s, g1), half);
        t[2][kx] = _mm512_mul_ps(_mm512_sub_ps(s, g1), half);
        t[3][kx] = g2;
    }
    for (int r = 0; r < 4; r++) { /* (G g) G^T */
        const __m512 g0 = t[r][0], g1 = t[r][1], g2 = t[r][2];
        const __m512 s = _mm512_add_ps(g0, g2);
        u[r * 4 + 0] = g0;
        u[r * 4 + 1] = _mm512_mul_ps(_mm512_add_ps(s, g1), half);
        u[r * 4 + 2] = _mm512_mul_ps(_mm512_sub_ps(s, g1), half);
        u[r * 4 + 3] = g2;
    }
}

/* u[e][ci][co] from w[ky][kx][ci][co], 16 filters a vector; transposed
 * (dx): u[e][co][ci], the vectors (16 values of co) scattered cin floats
 * apart */
WINO_FN static void weights(const seqrt_conv2d_shape *c, const float *w, int transposed,
                            float *const u[16])
{
    const int cin = c->cin, cout = c->cout;
    const __m512i apart = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi32(cin));
    for (int ci = 0; ci < cin; ci++)
        for (int co = 0; co < cout; co += 16) {
            __m512 g[9], t[16];
            for (int k = 0; k < 9; k++)
                g[k] = _mm512_loadu_ps(w + ((size_t)k * cin + ci) * cout + co);
            filter_transform(g, t);
            for (int e = 0; e < 16; e++) {
                if (transposed)
                    _mm512_i32scatter_ps(u[e] + (size_t)co * cin + ci, apart, t[e], 4);
                else
                    _mm512_storeu_ps(u[e] + (size_t)ci * cout + co, t[e]);
            }
        }
}

/* v[e * ldv .. + 16] = (B^T d B)[e] for one tile and 16 channels */
WINO_FN static inline void input_tile(__m512 d[4][4], float *v, size_t ldv)
{
    __m512 t[4][4]; /* B^T d */
    for (int s = 0; s < 4; s++) {
        t[0][s] = _mm512_sub_ps(d[0][s], d[2][s]);
        t[1][s] = _mm512_add_ps(d[1][s], d[2][s]);
        t[2][s] = _mm512_sub_ps(d[2][s], d[1][s]);
        t[3][s] = _mm512_sub_ps(d[1][s], d[3][s]);
    }
    for (int r = 0; r < 4; r++) { /* (B^T d) B */
        _mm512_storeu_ps(v + (size_t)(r * 4 + 0) * ldv, _mm512_sub_ps(t[r][0], t[r][2]));
        _mm512_storeu_ps(v + (size_t)(r * 4 + 1) * ldv, _mm512_add_ps(t[r][1], t[r][2]));
        _mm512_storeu_ps(v + (size_t)(r * 4 + 2) * ldv, _mm512_sub_ps(t[r][2], t[r][1]));
        _mm512_storeu_ps(v + (size_t)(r * 4 + 3) * ldv, _mm512_sub_ps(t[r][1], t[r][3]));
    }
}

/* the 2x2 outputs (A^T M A + b) of one tile for 16 filters; m[e * ldm];
 * only the outputs inside the image (rows2, cols2: 1 or 2) are stored */
WINO_FN static inline void output_tile(const float *m, size_t ldm, const float *b, size_t c0,
                                       float *y, size_t row_stride, size_t cout, int rows2,
                                       int cols2)
{
    __m512 q[16];
    for (int e = 0; e < 16; e++)
        q[e] = _mm512_loadu_ps(m + (size_t)e * ldm + c0);
    __m512 t[2][4]; /* A^T M */
    for (int s = 0; s < 4; s++) {
        t[0][s] = _mm512_add_ps(_mm512_add_ps(q[s], q[4 + s]), q[8 + s]);
        t[1][s] = _mm512_sub_ps(_mm512_sub_ps(q[4 + s], q[8 + s]), q[12 + s]);
    }
    const __m512 bias = b ? _mm512_loadu_ps(b + c0) : _mm512_setzero_ps();
    for (int r = 0; r < rows2; r++) { /* (A^T M) A, then the bias */
        const __m512 o0 = _mm512_add_ps(_mm512_add_ps(t[r][0], t[r][1]), t[r][2]);
        _mm512_storeu_ps(y + (size_t)r * row_stride + c0, _mm512_add_ps(o0, bias));
        if (cols2 > 1) {
            const __m512 o1 = _mm512_sub_ps(_mm512_sub_ps(t[r][1], t[r][2]), t[r][3]);
            _mm512_storeu_ps(y + (size_t)r * row_stride + cout + c0, _mm512_add_ps(o1, bias));
        }
    }
}

/* the input transforms of tiles [t0, t0 + n) into v[16][chunk][cin].
 * A cell outside the image is a load with no lanes, at x (no address
 * outside the buffer is formed): no branch per cell. A branch per cell
 * at the border took 8 % of conv2's backward, whose dx tiles are half
 * border (perf, conv_paths' shapes). */
WINO_FN static void input_chunk(const seqrt_conv2d_shape *c, const float *x, size_t t0,
                                size_t n, float *v, size_t ldv)
{
    const size_t cin = (size_t)c->cin, row_stride = (size_t)c->w * cin;
    const int tw = (c->ow + 1) / 2;
    for (size_t t = 0; t < n; t++) {
        const int ty = (int)((t0 + t) / (size_t)tw), tx = (int)((t0 + t) % (size_t)tw);
        const int iy = 2 * ty - c->pad_top, ix = 2 * tx - c->pad_left;
        size_t off[16];
        __mmask16 in[16];
        for (int r = 0; r < 4; r++)
            for (int s = 0; s < 4; s++) {
                const int y = iy + r, xx = ix + s;
                const int ok = y >= 0 && y < c->h && xx >= 0 && xx < c->w;
                off[r * 4 + s] = ok ? (size_t)y * row_stride + (size_t)xx * cin : 0;
                in[r * 4 + s] = ok ? (__mmask16)0xFFFF : 0;
            }
        for (size_t c0 = 0; c0 < cin; c0 += 16) {
            __m512 d[4][4];
            for (int r = 0; r < 4; r++)
                for (int s = 0; s < 4; s++)
                    d[r][s] = _mm512_maskz_loadu_ps(in[r * 4 + s], x + off[r * 4 + s] + c0);
            input_tile(d, v + t * cin + c0, ldv);
        }
    }
}

WINO_FN static void output_chunk(const seqrt_conv2d_shape *c, const float *m, size_t ldm,
                                 const float *b, size_t t0, size_t n, float *y)
{
    const size_t cout = (size_t)c->cout, row_stride = (size_t)c->ow * cout;
    const int tw = (c->ow + 1) / 2;
    for (size_t t = 0; t < n; t++) {
        const int ty = (int)((t0 + t) / (size_t)tw), tx = (int)((t0 + t) % (size_t)tw);
        const int oy = 2 * ty, ox = 2 * tx;
        const int rows2 = c->oh - oy < 2 ? 1 : 2, cols2 = c->ow - ox < 2 ? 1 : 2;
        float *yt = y + (size_t)oy * row_stride + (size_t)ox * cout;
        for (size_t c0 = 0; c0 < cout; c0 += 16)
            output_tile(m + t * cout, ldm, b, c0, yt, row_stride, cout, rows2, cols2);
    }
}

void seqrt_winograd_weights(const seqrt_conv2d_shape *c, const float *w, int transposed,
                            float *const u[16])
{
    weights(c, w, transposed, u);
}

/* out[e][n, nout] = in[e][n, k] w[e][k, nout] for the 16 elements e: the
 * transformed tiles' products (in[e] and out[e] are ld_in and ld_out
 * floats apart) */
static void products(const seqrt_gemm_ops *g, size_t n, int k, int nout, const float *in,
                     size_t ld_in, const float *const w[16], float *out, size_t ld_out)
{
    for (int e = 0; e < 16; e++)
        g->xw((int)n, nout, k, in + (size_t)e * ld_in, w[e], k, NULL, out + (size_t)e * ld_out,
              0);
}

void seqrt_winograd_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                           const float *x, const float *const u[16], const float *b,
                           float *y, float *buf, size_t chunk)
{
    const size_t T = chunk, nt = seqrt_winograd_tiles(c);
    const size_t cin = (size_t)c->cin, cout = (size_t)c->cout;
    float *v = buf, *m = buf + 16 * T * cin; /* v[16][T][cin], m[16][T][cout] */
    for (size_t t0 = 0; t0 < nt; t0 += T) {
        const size_t n = nt - t0 < T ? nt - t0 : T;
        input_chunk(c, x, t0, n, v, T * cin);
        products(g, n, c->cin, c->cout, v, T * cin, u, m, T * cout);
        output_chunk(c, m, T * cout, b, t0, n, y);
    }
}

/* dx's transforms (the forward's transposed): per tile, dM = A dY A^T
 * of its 2x2 block of dy (zeros past the edge), into m[16][chunk][cout] */
WINO_FN static void dy_chunk(const seqrt_conv2d_shape *c, const float *dy, size_t t0, size_t n,
                             float *m, size_t ldm)
{
    const size_t cout = (size_t)c->cout, row_stride = (size_t)c->ow * cout;
    const int tw = (c->ow + 1) / 2;
    for (size_t t = 0; t < n; t++) {
        const int ty = (int)((t0 + t) / (size_t)tw), tx = (int)((t0 + t) % (size_t)tw);
        const int oy = 2 * ty, ox = 2 * tx;
        const __mmask16 r1 = oy + 1 < c->oh ? 0xFFFF : 0, c1 = ox + 1 < c->ow ? 0xFFFF : 0;
        const float *p = dy + (size_t)oy * row_stride + (size_t)ox * cout;
        const size_t o01 = c1 ? cout : 0, o10 = r1 ? row_stride : 0, o11 = o01 + o10;
        float *mt = m + t * cout;
        for (size_t c0 = 0; c0 < cout; c0 += 16) {
            const __m512 y00 = _mm512_loadu_ps(p + c0);
            const __m512 y01 = _mm512_maskz_loadu_ps(c1, p + o01 + c0);
            const __m512 y10 = _mm512_maskz_loadu_ps(r1, p + o10 + c0);
            const __m512 y11 = _mm512_maskz_loadu_ps(r1 & c1, p + o11 + c0);
            /* A dY: rows (y0, y0 + y1, y0 - y1, -y1) */
            __m512 a[4][2];
            a[0][0] = y00, a[0][1] = y01;
            a[1][0] = _mm512_add_ps(y00, y10), a[1][1] = _mm512_add_ps(y01, y11);
            a[2][0] = _mm512_sub_ps(y00, y10), a[2][1] = _mm512_sub_ps(y01, y11);
            a[3][0] = _mm512_sub_ps(_mm512_setzero_ps(), y10);
            a[3][1] = _mm512_sub_ps(_mm512_setzero_ps(), y11);
            for (int r = 0; r < 4; r++) { /* (A dY) A^T */
                float *q = mt + (size_t)(r * 4) * ldm + c0;
                _mm512_storeu_ps(q, a[r][0]);
                _mm512_storeu_ps(q + ldm, _mm512_add_ps(a[r][0], a[r][1]));
                _mm512_storeu_ps(q + 2 * ldm, _mm512_sub_ps(a[r][0], a[r][1]));
                _mm512_storeu_ps(q + 3 * ldm, _mm512_sub_ps(_mm512_setzero_ps(), a[r][1]));
            }
        }
    }
}

/* dd = B dV B^T per tile (4x4 cells, 16 channels), added into dx's
 * cells inside the image, the tiles in order */
WINO_FN static void dx_chunk(const seqrt_conv2d_shape *c, const float *v, size_t ldv, size_t t0,
                             size_t n, float *dx)
{
    const size_t cin = (size_t)c->cin, row_stride = (size_t)c->w * cin;
    const int tw = (c->ow + 1) / 2;
    for (size_t t = 0; t < n; t++) {
        const int ty = (int)((t0 + t) / (size_t)tw), tx = (int)((t0 + t) % (size_t)tw);
        const int iy = 2 * ty - c->pad_top, ix = 2 * tx - c->pad_left;
        for (size_t c0 = 0; c0 < cin; c0 += 16) {
            __m512 q[16], b[4][4];
            for (int e = 0; e < 16; e++)
                q[e] = _mm512_loadu_ps(v + t * cin + (size_t)e * ldv + c0);
            for (int s = 0; s < 4; s++) { /* B dV: rows (v0, v1 - v2 + v3, v1 + v2 - v0, -v3) */
                const __m512 v0 = q[s], v1 = q[4 + s], v2 = q[8 + s], v3 = q[12 + s];
                b[0][s] = v0;
                b[1][s] = _mm512_add_ps(_mm512_sub_ps(v1, v2), v3);
                b[2][s] = _mm512_sub_ps(_mm512_add_ps(v1, v2), v0);
                b[3][s] = _mm512_sub_ps(_mm512_setzero_ps(), v3);
            }
            for (int r = 0; r < 4; r++) {
                const int y = iy + r;
                if (y < 0 || y >= c->h)
                    continue;
                const __m512 v0 = b[r][0], v1 = b[r][1], v2 = b[r][2], v3 = b[r][3];
                __m512 d[4];
                d[0] = v0;
                d[1] = _mm512_add_ps(_mm512_sub_ps(v1, v2), v3);
                d[2] = _mm512_sub_ps(_mm512_add_ps(v1, v2), v0);
                d[3] = _mm512_sub_ps(_mm512_setzero_ps(), v3);
                for (int s = 0; s < 4; s++) {
                    const int xx = ix + s;
                    if (xx < 0 || xx >= c->w)
                        continue;
                    float *p = dx + (size_t)y * row_stride + (size_t)xx * cin + c0;
                    _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), d[s]));
                }
            }
        }
    }
}

void seqrt_winograd_dx_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *dy, const float *const ut[16], float *dx,
                              float *buf, size_t chunk)
{
    const size_t T = chunk, nt = seqrt_winograd_tiles(c);
    const size_t cin = (size_t)c->cin, cout = (size_t)c->cout;
    float *v = buf, *m = buf + 16 * T * cin; /* v[16][T][cin], m[16][T][cout] */
    memset(dx, 0, (size_t)c->h * c->w * cin * sizeof *dx);
    for (size_t t0 = 0; t0 < nt; t0 += T) {
        const size_t n = nt - t0 < T ? nt - t0 : T;
        dy_chunk(c, dy, t0, n, m, T * cout);
        products(g, n, c->cout, c->cin, m, T * cout, ut, v, T * cin);
        dx_chunk(c, v, T * cin, t0, n, dx);
    }
}

/* One sample's dW (and dx when ut): per chunk of tiles, Z = A dY A^T
 * (dy_chunk, the dx's dM) and V = B^T d B of x's tiles (input_chunk, the
 * forward's), then dU[e] (+)= V[e]^T Z[e] (16 xtdy_runs: each element
 * summed from 0 over the chunk's tiles ascending, then added), then the
 * dx's steps on the same Z. buf: v[16][T][cin] (dx's dV), m[16][T][cout]
 * (Z), vx[16][T][cin] (V). */
void seqrt_winograd_dw_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *x, const float *dy, const float *const ut[16],
                              float *dx, float *du, int add, float *buf, size_t chunk)
{
    const size_t T = chunk, nt = seqrt_winograd_tiles(c);
    const size_t cin = (size_t)c->cin, cout = (size_t)c->cout;
    float *v = buf, *m = buf + 16 * T * cin, *vx = m + 16 * T * cout;
    if (dx)
        memset(dx, 0, (size_t)c->h * c->w * cin * sizeof *dx);
    for (size_t t0 = 0; t0 < nt; t0 += T) {
        const size_t n = nt - t0 < T ? nt - t0 : T;
        dy_chunk(c, dy, t0, n, m, T * cout);
        input_chunk(c, x, t0, n, vx, T * cin);
        for (int e = 0; e < 16; e++)
            g->xtdy_runs((int)n, (int)n, c->cin, 0, c->cout, vx + (size_t)e * T * cin,
                         m + (size_t)e * T * cout, du + (size_t)e * cin * cout, 0, c->cin,
                         add || t0 > 0);
        if (!dx)
            continue;
        products(g, n, c->cout, c->cin, m, T * cout, ut, v, T * cin);
        dx_chunk(c, v, T * cin, t0, n, dx);
    }
}

/* dw[ky][kx][ci][co] = (G^T dU G)[ky][kx] per (ci, co), 16 co a vector:
 * G^T's rows (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1) */
WINO_FN void seqrt_winograd_dw_finish(const seqrt_conv2d_shape *c, const float *du, float *dw)
{
    const size_t cin = (size_t)c->cin, cout = (size_t)c->cout, block = cin * cout;
    const __m512 half = _mm512_set1_ps(0.5f);
    for (size_t ci = 0; ci < cin; ci++)
        for (size_t co = 0; co < cout; co += 16) {
            __m512 q[16], t[3][4];
            for (int e = 0; e < 16; e++)
                q[e] = _mm512_loadu_ps(du + (size_t)e * block + ci * cout + co);
            for (int s = 0; s < 4; s++) { /* G^T dU: 3 rows of 4 */
                const __m512 u0 = q[s], u1 = q[4 + s], u2 = q[8 + s], u3 = q[12 + s];
                const __m512 h = _mm512_mul_ps(_mm512_add_ps(u1, u2), half);
                t[0][s] = _mm512_add_ps(u0, h);
                t[1][s] = _mm512_mul_ps(_mm512_sub_ps(u1, u2), half);
                t[2][s] = _mm512_add_ps(h, u3);
            }
            for (int r = 0; r < 3; r++) { /* (G^T dU) G */
                const __m512 u0 = t[r][0], u1 = t[r][1], u2 = t[r][2], u3 = t[r][3];
                const __m512 h = _mm512_mul_ps(_mm512_add_ps(u1, u2), half);
                float *p = dw + ((size_t)(r * 3) * cin + ci) * cout + co;
                _mm512_storeu_ps(p, _mm512_add_ps(u0, h));
                _mm512_storeu_ps(p + block, _mm512_mul_ps(_mm512_sub_ps(u1, u2), half));
                _mm512_storeu_ps(p + 2 * block, _mm512_add_ps(h, u3));
            }
        }
}

#else /* no AVX-512 in this build: seqrt_winograd_shape_ok is 0 */

void seqrt_winograd_dw_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *x, const float *dy, const float *const ut[16],
                              float *dx, float *du, int add, float *buf, size_t chunk)
{
    (void)g, (void)c, (void)x, (void)dy, (void)ut, (void)dx, (void)du, (void)add, (void)buf,
        (void)chunk;
}

void seqrt_winograd_dw_finish(const seqrt_conv2d_shape *c, const float *du, float *dw)
{
    (void)c, (void)du, (void)dw;
}

void seqrt_winograd_weights(const seqrt_conv2d_shape *c, const float *w, int transposed,
                            float *const u[16])
{
    (void)c, (void)w, (void)transposed, (void)u;
}

void seqrt_winograd_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                           const float *x, const float *const u[16], const float *b,
                           float *y, float *buf, size_t chunk)
{
    (void)g, (void)c, (void)x, (void)u, (void)b, (void)y, (void)buf, (void)chunk;
}

void seqrt_winograd_dx_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *dy, const float *const ut[16], float *dx,
                              float *buf, size_t chunk)
{
    (void)g, (void)c, (void)dy, (void)ut, (void)dx, (void)buf, (void)chunk;
}

#endif
