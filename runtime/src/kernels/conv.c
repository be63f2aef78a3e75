/*
 * conv.c: 2-D convolution over NHWC images with Keras's weight layout
 * [kh, kw, cin, cout], forward and backward, as im2col and the runtime's
 * own GEMM kernels (gemm.c).
 *
 * The method. With K = kh*kw*cin and P = oh*ow, one sample's im2col is a
 * [P, K] matrix whose row p holds the receptive field of output p in the
 * order (ky, kx, ci), the order of the weights' rows; so in NHWC the
 * convolution IS a GEMM with no reordering of anything else:
 *   forward   y_n[P, cout]  = col_n[P, K] W[K, cout] + b      (gemm.h xw)
 *   weights   dW[K, cout]   = sum_n col_n^T dy_n               (gemm.h xtdy)
 *   input     dcol_n[P, K]  = dy_n W^T, then col2im (a scatter-add) to dx_n
 * and the GEMMs are the dense layer's register-tile kernels (AVX-512 6x64
 * and 4x64 tiles here), which read W in place and need no packing. A
 * direct convolution (a loop nest over NHWC) would avoid im2col's copy,
 * but at the shapes the copy is small next to the products (the
 * second layer's im2col is 0.11 ms of a 3.3 ms forward + backward) and the
 * GEMM tiles already run at 170-220 GFLOP/s on one core, 70-90 % of the
 * per-core sgemm ceiling (about 235 GFLOP/s, issue #13); a direct kernel
 * would have to match those tiles for every kernel size, stride and
 * dilation.
 *
 * Measured on one core of the Zen 5 development machine (AVX-512),
 * bench/conv_paths.c and micro-timings of the same calls, the issue's
 * CNN at batch 32: conv1 28x28x1 -> 28x28x32 (3x3 same: K = 9, P = 784),
 * conv2 14x14x32 -> 12x12x64 (3x3 valid: K = 288, P = 144). The machine
 * was shared with other engineers' jobs, so figures are the fastest of
 * 30-200 calls; differences under 10 % mean nothing.
 *
 *   forward, one GEMM per sample vs one GEMM over the whole batch's
 *   im2col rows (m = 4608): 0.99 vs 1.00 ms (conv2), 0.188 vs 0.185 ms
 *   (conv1): the same. Per sample is kept: each part of a thread split
 *   is a run of whole samples, and a sample's im2col (166 KB for conv2)
 *   is still in L2 when the GEMM reads it.
 *
 *   dW = col^T dy, conv2, the 32 samples' products only: one xtdy over
 *   all 4608 rows 1.32 ms (129 GFLOP/s); one xtdy per sample (P = 144
 *   rows: its col and dy stay in L2) 0.89 ms (191 GFLOP/s); dW^T = dy^T
 *   col through xw (dy transposed first) 0.84 + 0.09 ms. So dW is summed
 *   per sample: each sample's product goes into a slot and is added to
 *   its group's sum; the samples are cut into DW_GROUPS fixed groups, the
 *   threads take whole groups, and the group sums are added in group
 *   order after the join. The groups depend on the batch alone, so dW has
 *   the same bits for every thread count. The first version (one xtdy
 *   over each group's rows) took 7 ms for conv2's backward on a busy
 *   machine against 2.0-2.4 ms now.
 *
 *   dx per sample, right after its dW, while its im2col rows are in
 *   cache: dcol = dy_n W^T 0.77 ms for the 32 samples (221 GFLOP/s),
 *   then col2im 0.19 ms. dcol overwrites the sample's im2col rows, which
 *   dW no longer needs; W^T is built once in dw (overwritten at the end
 *   anyway), so scratch holds no copy of the weights.
 *
 *   im2col row by row (each position's K values, runs of kw*cin floats
 *   behind bounds tests): conv1's 32 samples 0.27 ms, more than its
 *   GEMM (0.08 ms). Column by column (one kernel offset at a time, the
 *   valid output columns one range without tests): 0.10 ms.
 *
 *   Both layers, forward + backward (conv1 without dx, as a first
 *   layer), in a quiet moment: 3.51 ms on one thread (154 GFLOP/s) and
 *   2.03 ms on two (265 GFLOP/s) on the AVX-512 tiles; 6.6 ms on the
 *   AVX2 tiles (1 thread); 4.2 ms on OpenBLAS sgemm (SEQRT_KERNELS=blas,
 *   its Zen AVX-512 kernels, 1 thread); PyTorch 1.13's conv2d (oneDNN)
 *   3.8 ms on 1 thread. docs/performance.md has the table.
 *
 *   Direct 3x3 on one input channel (conv1; "direct 3x3" below): on the
 *   AVX-512 path conv1 forward 0.168 -> 0.087-0.100 ms and its dW
 *   (no dx) 0.301 -> 0.20 ms on one thread, the same bits
 *   (conv_paths, fastest of 200, 2026-12-02, load average 5-7). And the
 *   im2col rows now go to one buffer per thread part (forward) or dW
 *   group (backward), not one per sample: conv2's 32 samples' rows were
 *   5.3 MB, so each im2col wrote to memory out of L2; the fused CNN step
 *   (conv_paths --cnn, 1 thread) went from 6.4-6.9 to 5.8-6.0 ms.
 *
 *   No im2col at stride 1 (2026-12-02, later). perf of the 1-thread
 *   trainer still put im2col at 8 % (the forward's and, again, the
 *   backward's for dW), the per-sample dW's spare slot and its add, and
 *   db's sums in C at another 3.6 %, col2im at 4.4 %. Now, with stride 1
 *   and no dilation, the products read the receptive fields in the input
 *   itself (or a zero-bordered copy of the sample when there is padding):
 *   a row of the im2col matrix is kh runs of kw*cin consecutive floats of
 *   the input, one input row apart, and the rows of one output row are cin
 *   floats apart (gemm.h xw_runs, xtdy_runs). Each sample's dW product is
 *   added into its group's sum inside the GEMM (xtdy_runs' add: the sum
 *   from 0, then the add, at the tile's store), so the spare slot holds
 *   only db. col2im gathers each input cell's entries in registers
 *   (AVX-512, cin a multiple of 16) instead of scattering into a zeroed
 *   dx; db's per-sample sums stay in registers (AVX-512). Every one of
 *   these does the same operations in the same order as before, so the
 *   bits are unchanged (test_conv: conv_in_place, conv_col2im_order; the
 *   trainer's history, 1 and 2 threads, to the last digit). Together with
 *   dW tiles of 6 rows (gemm.c), on one core, fastest of 200
 *   (bench/conv_paths --layers, before and after alternated three times,
 *   load average 3.5-3.9 from other jobs):
 *
 *     1 thread            before            after
 *     conv1 forward       0.083-0.085 ms    0.072-0.073 ms
 *     conv1 backward      0.188-0.203       0.123-0.133
 *     conv2 forward       0.843-0.888       0.722-0.754
 *     conv2 backward      2.003-2.181       1.660-1.721
 *     both layers         3.10-3.36         2.58-2.68
 *
 *   and on 2 threads, when the second core was free, 1.67-1.78 ms against
 *   1.32-1.34 ms for both layers (conv2 forward 0.367 ms, backward 0.86:
 *   2.0x the 1-thread times; the split loses nothing measurable). col2im
 *   alone, conv2's 32 samples: 0.184 ms scattered, 0.101 ms gathered (a
 *   first gather with the strides as run-time divisors took 0.125 ms, one
 *   with its sums in a C array 0.23 ms). The direct 3x3's dW also sums
 *   db from the dy vectors it loads (the same adds in the same order as
 *   the separate pass): conv1 backward 0.123-0.125 -> 0.086-0.092 ms
 *   (three rounds alternated, load average 1.8).
 *
 *   Winograd F(2x2, 3x3) (2026-12-02, conv_winograd.c). The in-place
 *   products above run at about 90 % of the core's sgemm ceiling, and
 *   perf of the 1-thread trainer put conv2's forward and dx GEMMs
 *   (xw_runs) at 38 % of an epoch and col2im at 2 %: only fewer
 *   multiply-adds could make them faster. On the AVX-512 path, for a 3x3
 *   kernel with stride 1 and no dilation and cin and cout multiples of 16
 *   (the GEMMs' and the transforms' vectors), the forward and dx go
 *   through Winograd F(2x2, 3x3): per 2x2 block of outputs 16 products
 *   per channel pair instead of 36. conv2's forward needs 1.18 M
 *   multiply-adds a sample instead of 2.65 M, and so does its dx (the
 *   same tiles, each step transposed), with no col2im. dW stayed the
 *   in-place GEMM until "Winograd's dW" below.
 *   The sums are not im2col's (tests/runtime/test_conv.c, conv_winograd:
 *   worst error on the output's scale 1.6-3.6e-7 against the double
 *   definition, the im2col path 1.1-7.1e-7), but each output's are fixed,
 *   so the bits are the same for every thread count. It is used only when
 *   the transformed weights and the buffers fit in the call's scratch,
 *   laid out by the shape and batch alone ("Winograd's scratch" below);
 *   else the paths above. conv_paths --layers, fastest of 200, the
 *   version before (3e4c388) and this one alternated three times (load
 *   average 1.7-1.8 from other jobs; 2 threads when the second core was
 *   free; Winograd turned off in this version, the first line per layer
 *   of conv_paths --layers, gives the "before" times):
 *
 *     conv2               before            Winograd
 *     1 thread  forward   0.741-0.749 ms    0.475-0.482 ms
 *     1 thread  backward  1.697-1.709       1.359-1.403
 *     2 threads forward   0.367-0.372       0.294-0.305
 *     2 threads backward  0.856-0.860       0.708-0.715
 *     both layers, 1 thr  2.598-2.617       2.002-2.041
 *     both layers, 2 thr  1.306-1.314       1.085-1.108
 *
 *   The trainer (models/mnist_cnn_bn.seq, data/mnist-digits, the
 *   history's seconds of 3 epochs, before and after alternated three
 *   times, load average 1.6-2.5): 1 thread 0.98-1.06 s an epoch before,
 *   0.82-0.88 s after; 2 threads 0.50-0.68 s before, 0.43-0.59 s after.
 *   perf of that trainer (1 thread): xw_runs (now conv2's Winograd
 *   products) 21 % of an epoch instead of 38 %, col2im gone, the
 *   transforms about 9 %. Validation accuracy after 2 epochs 0.9635,
 *   as before; the history is the same on 1 and 2 threads to the last
 *   digit.
 *
 *   The backward gained less: its dW (0.85 ms) was unchanged. The
 *   forward gains less on 2 threads than on 1 (0.29-0.30 against 0.48
 *   ms): the weights' transform runs on the calling thread before the
 *   split, and the other core then reads U (128 KB) from the first one's
 *   cache; transforming the weights once (a timing experiment, not a
 *   result) gave 0.26-0.27 ms. A copy of U per part would avoid that,
 *   at 16 cin cout more floats of scratch per part. Now (later the same
 *   day) each thread part transforms the weights itself into its first
 *   sample's room when U and a buffer of the same chunk fit there (conv2:
 *   59,968 floats a sample, U 32,768, the buffer 18,432), else U is
 *   shared as before; the same U bits either way. conv_paths --layers,
 *   five rounds alternated, 2 threads: conv2's forward 0.289-0.313 ms
 *   with U shared, 0.243-0.296 with U per part (0.289-0.297 against
 *   0.243-0.245 in the three quiet rounds); 1 thread the same
 *   (0.475-0.571 against 0.478-0.565).
 *
 *   Winograd's dW (2026-12-02, later). The gradient of y = A^T [(G g G^T)
 *   (.) (B^T d B)] A with respect to g is G^T [sum over the tiles of
 *   (B^T d B) (.) (A dY A^T)] G: per group of samples dU[e] = sum of
 *   V[e]^T Z[e] over its samples' tiles (16 xtdy GEMMs: m = cin, n =
 *   cout, the tiles the sum), V the forward's input transform of x's
 *   tiles and Z the dx's transform of dy's, then the group's dW = G^T dU G
 *   into its slot, so sum_part adds the groups as before. It runs in the
 *   dx's pass over each sample (one Z for both), 36 tiles a chunk at
 *   conv2; conv2's dW needs 1.18 M multiply-adds a sample, not 2.65 M.
 *   dW's bits are not the GEMM's, but its order is fixed (the samples of
 *   a group ascending, each sample's chunks in raster order, each chunk's
 *   product summed from 0 and then added): the same for every thread
 *   count. Against the double definition (test_conv, conv_winograd) its
 *   error on max |dW| is 1.6-3.3e-7, the GEMM's 1.4-6.2e-7. It needs the
 *   group's dU, 16 cin cout floats (128 KB at conv2), in the scratch
 *   ("Winograd's scratch"): at batch 32 there is room, at conv2's batch
 *   1 not (the GEMM dW then, with Winograd's dx). conv_paths --layers,
 *   fastest of 200, the version before (1f82785) and this one alternated
 *   three times (load average 1.3-1.4):
 *
 *     conv2               before            Winograd dW
 *     1 thread  backward  1.354-1.404 ms    1.082-1.123 ms
 *     2 threads backward  0.706-0.721       0.569-0.574
 *     both layers, 1 thr  1.990-2.054       1.716-1.777
 *     both layers, 2 thr  1.090-1.106       0.945-0.958
 *
 *   The trainer (as above, three rounds alternated, load average
 *   1.3-1.9): 1 thread 0.82-0.92 s an epoch before, 0.62-0.83 s after;
 *   2 threads 0.52-0.61 s before, 0.49-0.60 s after. Again with the
 *   forward's U per part (above; load average 1.7-1.9): 1 thread
 *   0.74-0.87 s before, 0.69-0.74 s after; 2 threads 0.49-0.55 s
 *   before, 0.47-0.55 s after (the 2-thread epoch gains little: the
 *   conv layers are a smaller part of it). Validation accuracy
 *   after 2 epochs 0.9655 (0.962 before: other roundings); the history is
 *   the same on 1 and 2 threads to the last digit.
 *
 * Threads: forward splits the batch by samples; backward by the fixed
 * groups of samples, then the final sums by element ranges. Winograd's
 * forward runs per sample in the forward's parts, its dW and dx per
 * sample in the backward's groups (its dx after the sample's GEMM dW
 * when dU does not fit). A 1x1 kernel
 * with stride 1 and no padding skips im2col: x is its own im2col matrix
 * and dx its dcol. im2col is left for strides and dilations above 1, and
 * for CBLAS (SEQRT_KERNELS=blas).
 */
#include "kernels/conv.h"

#include "kernels/gemm.h"
#include "kernels/parts.h"
#include "kernels/simd.h"

#include <cblas.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_DIRECT 1
#define DIRECT_FN __attribute__((target("avx512f")))
#else
#define HAVE_DIRECT 0
#endif

/* Multiply-adds from which a call is split over the threads (as dense.c:
 * a hand-off costs about a microsecond). A function of the shape alone. */
#define SPLIT_MIN_MACS ((size_t)1 << 19)

/* Fixed groups of samples dW and db are summed in (see the header). */
enum { DW_GROUPS = 8 };

static size_t conv_k(const seqrt_conv2d_shape *c)
{
    return (size_t)c->kh * (size_t)c->kw * (size_t)c->cin;
}

static size_t conv_p(const seqrt_conv2d_shape *c)
{
    return (size_t)c->oh * (size_t)c->ow;
}

/* one group's partial dW [K, cout] then db [cout] */
static size_t slot_size(const seqrt_conv2d_shape *c)
{
    return conv_k(c) * (size_t)c->cout + (size_t)c->cout;
}

/* scratch: [batch][P, K] im2col rows (backward: then dcol), then
 * [2 groups][K*cout + cout] partial sums of dW and db and the groups'
 * spare slots (2 groups <= batch, or 1 sample per group and no spare) */
size_t seqrt_conv2d_scratch_per_sample(const seqrt_conv2d_shape *c)
{
    return (size_t)seqrt_conv2d_scratch_floats(conv_p(c), conv_k(c), (uint64_t)c->cout);
}

int seqrt_conv2d_is_pointwise(const seqrt_conv2d_shape *c)
{
    return c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->pad_top == 0 &&
           c->pad_left == 0 && c->oh == c->h && c->ow == c->w;
}

/* n floats from s to d without a call: the runs are short (a channel
 * run of cin floats). A plain loop is no good: GCC turns it into a call
 * of memmove, which took 8.7 % of the fused CNN step (perf, 1 thread;
 * conv2's im2col makes 41,000 calls of 128 bytes a step). Blocks of 16
 * floats are memcpy calls of a constant size, which GCC inlines as vector
 * moves; the tail shorter than 16 floats stays a loop where GCC is told
 * not to make library calls of loops (NO_LOOP_CALLS). */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LOOP_CALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LOOP_CALLS
#endif
static inline void copy(float *restrict d, const float *restrict s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        memcpy(d + i, s + i, 16 * sizeof *d);
    for (; i < n; i++)
        d[i] = s[i];
}

static inline void zero(float *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = 0.0f;
}

/* Column by column of the im2col matrix, i.e. kernel offset (ky, kx) by
 * offset: for one offset and one output row, the valid output columns
 * form one range [lo, hi) with no test inside the loop. Row by row (each
 * position's K values at once) was 3 times slower on one channel: its
 * runs are 3 floats long, each behind two bounds tests. */
NO_LOOP_CALLS void seqrt_conv2d_im2col(const seqrt_conv2d_shape *c, const float *x, float *col)
{
    const size_t K = conv_k(c), cin = (size_t)c->cin;
    for (int ky = 0; ky < c->kh; ky++)
        for (int kx = 0; kx < c->kw; kx++) {
            const size_t off = ((size_t)ky * c->kw + kx) * cin;
            /* ix = ox * sw + dx0 lies in [0, w) for ox in [lo, hi) */
            const int dx0 = kx * c->dw - c->pad_left;
            int lo = dx0 >= 0 ? 0 : (-dx0 + c->sw - 1) / c->sw;
            int hi = c->w - dx0 <= 0 ? 0 : (c->w - dx0 + c->sw - 1) / c->sw;
            if (hi > c->ow)
                hi = c->ow;
            if (lo > hi)
                lo = hi;
            for (int oy = 0; oy < c->oh; oy++) {
                const int iy = oy * c->sh - c->pad_top + ky * c->dh;
                float *row = col + (size_t)oy * c->ow * K + off;
                if (iy < 0 || iy >= c->h) {
                    for (int ox = 0; ox < c->ow; ox++)
                        zero(row + (size_t)ox * K, cin);
                    continue;
                }
                /* the input row; column ox * sw + dx0 is >= 0 for ox >= lo (a
                 * pointer to its column -dx0 would lie before the buffer) */
                const float *xr = x + (size_t)iy * c->w * cin;
                for (int ox = 0; ox < lo; ox++)
                    zero(row + (size_t)ox * K, cin);
                if (cin == 1)
                    for (int ox = lo; ox < hi; ox++)
                        row[(size_t)ox * K] = xr[ox * c->sw + dx0];
                else
                    for (int ox = lo; ox < hi; ox++)
                        copy(row + (size_t)ox * K, xr + (size_t)(ox * c->sw + dx0) * cin, cin);
                for (int ox = hi; ox < c->ow; ox++)
                    zero(row + (size_t)ox * K, cin);
            }
        }
}

/* The scatter: dx zeroed, then each dcol row's entries added into the
 * cells they were read from, the output positions p ascending. */
SEQRT_CLONES static void col2im_scatter(const seqrt_conv2d_shape *c, const float *dcol,
                                        float *dx)
{
    const size_t K = conv_k(c), cin = (size_t)c->cin;
    memset(dx, 0, (size_t)c->h * c->w * cin * sizeof *dx);
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++) {
            const float *row = dcol + ((size_t)oy * c->ow + ox) * K;
            for (int ky = 0; ky < c->kh; ky++) {
                const int iy = oy * c->sh - c->pad_top + ky * c->dh;
                if (iy < 0 || iy >= c->h)
                    continue;
                for (int kx = 0; kx < c->kw; kx++) {
                    const int ix = ox * c->sw - c->pad_left + kx * c->dw;
                    if (ix < 0 || ix >= c->w)
                        continue;
                    float *restrict d = dx + ((size_t)iy * c->w + ix) * cin;
                    const float *restrict s = row + ((size_t)ky * c->kw + kx) * cin;
                    for (size_t ci = 0; ci < cin; ci++)
                        d[ci] += s[ci];
                }
            }
        }
}

#if HAVE_DIRECT
/* The gather, AVX-512, cin a multiple of 16: each input cell's entries
 * summed in registers, NV vectors of channels at a time, and the cell
 * written once. The scatter added a cell's entries in the order of the
 * output positions p ascending, i.e. the kernel offsets (ky, kx)
 * descending (oy = (iy + pad - ky dh) / sh); the gather adds them from 0
 * in that order, so the bits are the scatter's. */
__attribute__((target("avx512f"), always_inline)) static inline void
col2im_cell(const seqrt_conv2d_shape *c, const float *dcol, float *d, int iy, int ix,
            size_t c0, const int NV, const int UNIT)
{
    /* UNIT: stride 1, no divisions (the shape's strides are not constants) */
    const int sh = UNIT ? 1 : c->sh, sw = UNIT ? 1 : c->sw;
    const size_t K = conv_k(c), cin = (size_t)c->cin;
    __m512 acc[4];
    for (int v = 0; v < NV; v++)
        acc[v] = _mm512_setzero_ps();
    for (int ky = c->kh - 1; ky >= 0; ky--) {
        const int ty = iy + c->pad_top - ky * c->dh;
        if (ty < 0 || ty % sh != 0 || ty / sh >= c->oh)
            continue;
        const float *drow = dcol + (size_t)(ty / sh) * c->ow * K + (size_t)ky * c->kw * cin + c0;
        for (int kx = c->kw - 1; kx >= 0; kx--) {
            const int tx = ix + c->pad_left - kx * c->dw;
            if (tx < 0 || tx % sw != 0 || tx / sw >= c->ow)
                continue;
            const float *src = drow + (size_t)(tx / sw) * K + (size_t)kx * cin;
            for (int v = 0; v < NV; v++)
                acc[v] = _mm512_add_ps(acc[v], _mm512_loadu_ps(src + 16 * v));
        }
    }
    for (int v = 0; v < NV; v++)
        _mm512_storeu_ps(d + c0 + 16 * v, acc[v]);
}

__attribute__((target("avx512f"), always_inline)) static inline void
col2im_gather_cells(const seqrt_conv2d_shape *c, const float *dcol, float *dx, const int UNIT)
{
    const size_t cin = (size_t)c->cin;
    for (int iy = 0; iy < c->h; iy++)
        for (int ix = 0; ix < c->w; ix++) {
            float *d = dx + ((size_t)iy * c->w + ix) * cin;
            size_t c0 = 0;
            for (; c0 + 64 <= cin; c0 += 64)
                col2im_cell(c, dcol, d, iy, ix, c0, 4, UNIT);
            switch ((cin - c0) / 16) {
            case 3: col2im_cell(c, dcol, d, iy, ix, c0, 3, UNIT); break;
            case 2: col2im_cell(c, dcol, d, iy, ix, c0, 2, UNIT); break;
            case 1: col2im_cell(c, dcol, d, iy, ix, c0, 1, UNIT); break;
            default: break;
            }
        }
}

DIRECT_FN static void col2im_gather(const seqrt_conv2d_shape *c, const float *dcol, float *dx)
{
    if (c->sh == 1 && c->sw == 1)
        col2im_gather_cells(c, dcol, dx, 1);
    else
        col2im_gather_cells(c, dcol, dx, 0);
}

static int cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

void seqrt_conv2d_col2im(const seqrt_conv2d_shape *c, const float *dcol, float *dx)
{
#if HAVE_DIRECT
    if (c->cin % 16 == 0 && cpu_avx512()) {
        col2im_gather(c, dcol, dx);
        return;
    }
#endif
    col2im_scatter(c, dcol, dx);
}

/* ------------------------------------------------------ the two GEMMs */

/* y[m, n] = x[m, 0:k) w[k, n] (+ b): ldx columns in x */
static void mm_xw(const seqrt_gemm_ops *g, int m, int n, int ldx, const float *x,
                  const float *w, int k, const float *b, float *y)
{
    if (g) {
        g->xw(m, n, ldx, x, w, k, b, y, 0);
        return;
    }
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < m; i++)
            memcpy(y + (size_t)i * n, b, (size_t)n * sizeof *y);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, x, ldx, w, n,
                beta, y, n);
}

/* dw[in, n] = (add ? dw : 0) + x[rows, in]^T dy[rows, n] */
static void mm_xtdy(const seqrt_gemm_ops *g, int rows, int in, int n, const float *x,
                    const float *dy, float *dw, int add)
{
    if (g) {
        g->xtdy_runs(rows, rows, in, 0, n, x, dy, dw, 0, in, add);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, n, rows, 1.0f, x, in, dy, n,
                add ? 1.0f : 0.0f, dw, n);
}

/* ------------------------------------------- stride 1: no im2col for dW */

/* With stride 1 and no dilation, the receptive fields of kernel row ky
 * are rows of the input itself: output (oy, ox)'s cells (ky, kx, ci),
 * kx and ci running, are kw*cin consecutive floats of input row oy + ky
 * from column ox. So dW's rows for ky, [kw*cin, cout], are x'^T dy with
 * x' row (oy, ox) at x + ((oy + ky) * w + ox) * cin: runs of ow rows cin
 * floats apart, the runs w*cin apart (gemm.h xtdy_runs); the same sums in
 * the same order as over the im2col rows. With padding, the input is
 * first copied into a zero-bordered [oh + kh - 1, ow + kw - 1, cin]. */
static int implicit_ok(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c)
{
    return g && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1;
}

/* the width of the input the implicit dW reads: the padded copy's or w */
static int implicit_width(const seqrt_conv2d_shape *c)
{
    return c->ow + c->kw - 1;
}

static int implicit_pads(const seqrt_conv2d_shape *c)
{
    return c->pad_top || c->pad_left || c->oh + c->kh - 1 != c->h ||
           implicit_width(c) != c->w;
}

/* xp[oh + kh - 1, ow + kw - 1, cin]: x with its zero border. It fits in
 * a sample's im2col rows: (oh + kh - 1)(ow + kw - 1) <= kh kw oh ow. */
NO_LOOP_CALLS static void pad_copy(const seqrt_conv2d_shape *c, const float *x, float *xp)
{
    const int hp = c->oh + c->kh - 1, wp = implicit_width(c);
    const size_t cin = (size_t)c->cin;
    for (int r = 0; r < hp; r++) {
        const int iy = r - c->pad_top;
        float *row = xp + (size_t)r * wp * cin;
        if (iy < 0 || iy >= c->h) {
            zero(row, (size_t)wp * cin);
            continue;
        }
        for (int s = 0; s < wp; s++) {
            const int ix = s - c->pad_left;
            if (ix < 0 || ix >= c->w)
                zero(row + (size_t)s * cin, cin);
            else
                copy(row + (size_t)s * cin, x + ((size_t)iy * c->w + ix) * cin, cin);
        }
    }
}

/* the sample as the implicit products read it: x itself, or its padded
 * copy made in buf; *width: its row length in pixels */
static const float *implicit_input(const seqrt_conv2d_shape *c, const float *x, float *buf,
                                   size_t *width)
{
    if (!implicit_pads(c)) {
        *width = (size_t)c->w;
        return x;
    }
    pad_copy(c, x, buf);
    *width = (size_t)implicit_width(c);
    return buf;
}

/* y[P, cout] = one sample's col W + b, reading x in place (or its padded
 * copy, made in buf): output (oy, ox)'s row of col is kh runs of kw*cin
 * floats from ((oy + ky) * width + ox) * cin (gemm.h xw_runs) */
static void implicit_forward_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                                    const float *x, const float *w, const float *b, float *y,
                                    float *buf)
{
    size_t width;
    x = implicit_input(c, x, buf, &width);
    const size_t cin = (size_t)c->cin;
    g->xw_runs(c->oh * c->ow, c->cout, x, c->ow, c->cin, width * cin, (int)conv_k(c),
               c->kw * c->cin, width * cin, w, b, y, 0);
}

/* dw[K, cout] = (add ? dw : 0) + one sample's col^T dy, reading x in
 * place (or its padded copy, made in buf) */
static void implicit_dw_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                               const float *x, const float *dy, float *dw, float *buf,
                               int add)
{
    const size_t cin = (size_t)c->cin, cout = (size_t)c->cout, run = (size_t)c->kw * cin;
    size_t width;
    x = implicit_input(c, x, buf, &width);
    for (int ky = 0; ky < c->kh; ky++)
        g->xtdy_runs(c->oh * c->ow, c->ow, c->cin, width * cin, c->cout,
                     x + (size_t)ky * width * cin, dy, dw + (size_t)ky * run * cout, 0,
                     (int)run, add);
}


/* ------------------------------------- direct 3x3 on one input channel */

/* The first layer of an image model (cin = 1, 3x3, stride 1, no
 * dilation) on the AVX-512 path: its im2col rows are K = 9 floats, too
 * short for the GEMM tiles (49-88 GFLOP/s, and the im2col written and
 * read again). The direct kernels below read a zero-padded copy of the
 * sample, [oh + 2, ow + 2], and keep the 9 weight rows (forward) or the
 * 9 rows of dW (backward) in registers. They do exactly the GEMM
 * kernels' arithmetic: forward each output from the bias (or 0), k =
 * (ky, kx) ascending, one fused multiply-add per term, a padded zero
 * included; dW each element from 0, the output position ascending. So
 * the results are the im2col path's bits (tests/runtime/test_conv.c
 * checks that every path agrees). */
static int direct3x3(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c)
{
    return HAVE_DIRECT && g && g->path == SEQRT_GEMM_AVX512 && c->cin == 1 && c->kh == 3 &&
           c->kw == 3 && c->sh == 1 && c->sw == 1 && c->dh == 1 && c->dw == 1;
}

/* xp[oh + 2, ow + 2]: output (oy, ox)'s window starts at xp[oy][ox]. It
 * fits in a sample's im2col rows: (oh + 2)(ow + 2) <= 9 oh ow. */
static void pad_sample(const seqrt_conv2d_shape *c, const float *x, float *xp)
{
    const int hp = c->oh + 2, wp = c->ow + 2;
    /* the input's columns [lo, hi) land in the row at lo + pad_left */
    int lo = c->pad_left > 0 ? 0 : -c->pad_left, hi = wp - c->pad_left;
    if (hi > c->w)
        hi = c->w;
    for (int r = 0; r < hp; r++) {
        const int iy = r - c->pad_top;
        float *row = xp + (size_t)r * wp;
        if (iy < 0 || iy >= c->h || lo >= hi) {
            memset(row, 0, (size_t)wp * sizeof *row);
            continue;
        }
        const int s0 = lo + c->pad_left, s1 = hi + c->pad_left;
        memset(row, 0, (size_t)s0 * sizeof *row);
        memcpy(row + s0, x + (size_t)iy * c->w + lo, (size_t)(s1 - s0) * sizeof *row);
        memset(row + s1, 0, (size_t)(wp - s1) * sizeof *row);
    }
}

#if HAVE_DIRECT

DIRECT_FN static inline __mmask16 lanes(int width)
{
    return width >= 16 ? (__mmask16)0xFFFF : width <= 0 ? 0 : (__mmask16)((1u << width) - 1);
}

/* y[P, cout] of one sample from its padded copy; 32 columns and 4
 * positions at a time (18 weight vectors, 8 accumulators) */
DIRECT_FN static void direct_forward(const seqrt_conv2d_shape *c, const float *xp,
                                     const float *w, const float *b, float *y)
{
    const int cout = c->cout, ow = c->ow, wp = c->ow + 2;
    const int off[9] = {0, 1, 2, wp, wp + 1, wp + 2, 2 * wp, 2 * wp + 1, 2 * wp + 2};
    for (int j = 0; j < cout; j += 32) {
        const __mmask16 m0 = lanes(cout - j), m1 = lanes(cout - j - 16);
        __m512 w0[9], w1[9];
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++) {
            w0[k] = _mm512_maskz_loadu_ps(m0, w + (size_t)k * cout + j);
            w1[k] = _mm512_maskz_loadu_ps(m1, w + (size_t)k * cout + j + 16);
        }
        const __m512 b0 = b ? _mm512_maskz_loadu_ps(m0, b + j) : _mm512_setzero_ps();
        const __m512 b1 = b ? _mm512_maskz_loadu_ps(m1, b + j + 16) : _mm512_setzero_ps();
        for (int oy = 0; oy < c->oh; oy++) {
            const float *xr = xp + (size_t)oy * wp;
            float *yr = y + (size_t)oy * ow * cout + j;
            int ox = 0;
            for (; ox + 4 <= ow; ox += 4) {
                __m512 a0[4], a1[4];
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    a0[i] = b0;
                    a1[i] = b1;
                }
#pragma GCC unroll 9
                for (int k = 0; k < 9; k++)
#pragma GCC unroll 4
                    for (int i = 0; i < 4; i++) {
                        const __m512 xb = _mm512_set1_ps(xr[ox + i + off[k]]);
                        a0[i] = _mm512_fmadd_ps(xb, w0[k], a0[i]);
                        a1[i] = _mm512_fmadd_ps(xb, w1[k], a1[i]);
                    }
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    _mm512_mask_storeu_ps(yr + (size_t)(ox + i) * cout, m0, a0[i]);
                    _mm512_mask_storeu_ps(yr + (size_t)(ox + i) * cout + 16, m1, a1[i]);
                }
            }
            for (; ox < ow; ox++) {
                __m512 a0 = b0, a1 = b1;
#pragma GCC unroll 9
                for (int k = 0; k < 9; k++) {
                    const __m512 xb = _mm512_set1_ps(xr[ox + off[k]]);
                    a0 = _mm512_fmadd_ps(xb, w0[k], a0);
                    a1 = _mm512_fmadd_ps(xb, w1[k], a1);
                }
                _mm512_mask_storeu_ps(yr + (size_t)ox * cout, m0, a0);
                _mm512_mask_storeu_ps(yr + (size_t)ox * cout + 16, m1, a1);
            }
        }
    }
}

/* dw[9, cout] = one sample's col^T dy from its padded copy; 32 columns
 * at a time (18 accumulators), the positions ascending */
DIRECT_FN static void direct_dw(const seqrt_conv2d_shape *c, const float *xp, const float *dy,
                                float *dw, float *db, int add)
{
    const int cout = c->cout, ow = c->ow, wp = c->ow + 2;
    const int off[9] = {0, 1, 2, wp, wp + 1, wp + 2, 2 * wp, 2 * wp + 1, 2 * wp + 2};
    for (int j = 0; j < cout; j += 32) {
        const __mmask16 m0 = lanes(cout - j), m1 = lanes(cout - j - 16);
        __m512 a0[9], a1[9], s0 = _mm512_setzero_ps(), s1 = s0;
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++)
            a0[k] = a1[k] = _mm512_setzero_ps();
        for (int oy = 0; oy < c->oh; oy++) {
            const float *xr = xp + (size_t)oy * wp;
            const float *dr = dy + (size_t)oy * ow * cout + j;
            for (int ox = 0; ox < ow; ox++) {
                const __m512 d0 = _mm512_maskz_loadu_ps(m0, dr + (size_t)ox * cout);
                const __m512 d1 = _mm512_maskz_loadu_ps(m1, dr + (size_t)ox * cout + 16);
                s0 = _mm512_add_ps(s0, d0); /* db: as db_sample, in passing */
                s1 = _mm512_add_ps(s1, d1);
#pragma GCC unroll 9
                for (int k = 0; k < 9; k++) {
                    const __m512 xb = _mm512_set1_ps(xr[ox + off[k]]);
                    a0[k] = _mm512_fmadd_ps(xb, d0, a0[k]);
                    a1[k] = _mm512_fmadd_ps(xb, d1, a1[k]);
                }
            }
        }
#pragma GCC unroll 9
        for (int k = 0; k < 9; k++) {
            float *d0 = dw + (size_t)k * cout + j, *d1 = d0 + 16;
            if (add) { /* the sample's sum, then added: as xtdy_runs */
                a0[k] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, d0), a0[k]);
                a1[k] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, d1), a1[k]);
            }
            _mm512_mask_storeu_ps(d0, m0, a0[k]);
            _mm512_mask_storeu_ps(d1, m1, a1[k]);
        }
        if (db) {
            if (add) {
                s0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, db + j), s0);
                s1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, db + j + 16), s1);
            }
            _mm512_mask_storeu_ps(db + j, m0, s0);
            _mm512_mask_storeu_ps(db + j + 16, m1, s1);
        }
    }
}
#else
static void direct_forward(const seqrt_conv2d_shape *c, const float *xp, const float *w,
                           const float *b, float *y)
{
    (void)c, (void)xp, (void)w, (void)b, (void)y;
}
static void direct_dw(const seqrt_conv2d_shape *c, const float *xp, const float *dy, float *dw,
                      float *db, int add)
{
    (void)c, (void)xp, (void)dy, (void)dw, (void)db, (void)add;
}
#endif

/* ------------------------------------------------------------ the jobs */

typedef struct conv_job {
    const seqrt_gemm_ops     *g;
    const seqrt_conv2d_shape *c;
    int                       batch, groups, per_group, pointwise, direct, implicit;
    const float              *x, *w, *b, *dy, *wt;
    float                    *y, *dx, *dw, *db, *scratch, *slots;
    /* Winograd (conv_winograd.c), forward or dx: the weights' 16 blocks,
     * and where the buffers of sample (forward) or group (backward) i
     * begin: wino_base + i * wino_stride (backward: the padded copy for
     * dW, then the buffer) */
    size_t                    wino; /* the chunk of tiles, or 0: no Winograd */
    float                    *u[16], *wino_base;
    size_t                    wino_stride, wino_pad;
    int                       wino_dw; /* backward: dW through Winograd too */
    int                       wino_own_u; /* forward: U per part, in its first sample's room */
} conv_job;

/* ----------------------------------------------- Winograd's scratch */

/* Winograd's layout in the call's scratch, a function of the shape and
 * the batch only (so is the choice: it must not depend on the threads).
 * Forward: when a sample's room holds U [16][cin][cout] and a buffer of
 * the chunk the shared layout would have, each sample's room is U then
 * the buffer, and a thread part transforms the weights into its first
 * sample's U and uses that buffer; else U at the start, then one buffer
 * per sample (a thread part uses its first sample's, as the im2col
 * rows).
 * Backward: U' blocks 0-8 in dw, which the groups' sums overwrite only
 * at the end (it held w^T for the GEMM dx before) and blocks 9-15 at the
 * start of the scratch (kept free when dx is not wanted), then per group
 * of samples either Winograd's dU [16][cin][cout] and the dW + dx
 * buffer (seqrt_winograd_dw_buffer_floats) or, when those do not fit,
 * the padded copy the in-place dW reads (when the layer pads) and the dx
 * buffer; the groups' slots of dW sums stay where they were, after the
 * batch's P*K floats. Whether dW goes through Winograd does not depend
 * on dx (so dW has the same bits with and without dx). */
static int dw_groups(int batch, int groups, int *per)
{
    /* one sample per group, or at most batch / 2 groups: a group of
     * several samples needs a spare slot besides its own */
    if (groups < batch)
        groups = groups < batch / 2 ? groups : batch / 2;
    if (groups < 1)
        groups = 1;
    if (groups > batch)
        groups = batch;
    *per = (batch + groups - 1) / groups;
    return (batch + *per - 1) / *per;
}

static size_t pad_floats(const seqrt_conv2d_shape *c)
{
    return implicit_pads(c) ? (size_t)(c->oh + 2) * (size_t)(c->ow + 2) * (size_t)c->cin : 0;
}

/* The chunk of tiles (conv_winograd.c) is the largest up to WINO_CHUNK
 * (and the sample's tiles) whose buffers fit; 0 when not even one tile's
 * does: no Winograd. */
enum { WINO_CHUNK = 12 };

/* With Winograd's dW the chunk is up to 36 tiles (conv2's sample): each
 * chunk's 16 products add into the whole dU, so longer sums per add.
 * conv2's backward (conv_paths --layers, fastest of 200, five rounds
 * alternated): 1.10-1.28 ms with 36, 1.14-1.33 with 12; 2 threads
 * 0.58-0.66 against 0.61-0.74. The chunk changes dW's bits (not dx's):
 * it is a function of the shape and batch, never of the threads. */
enum { WINO_DW_CHUNK = 36 };

/* the tiles whose buffers of `per` floats a tile fit in room, at most
 * cap and the sample's tiles */
static size_t fit_chunk(size_t room, size_t per, size_t tiles, size_t cap)
{
    size_t fit = room / per;
    if (fit > cap)
        fit = cap;
    return fit < tiles ? fit : tiles;
}

static size_t wino_chunk(const seqrt_conv2d_shape *wc, size_t room)
{
    return fit_chunk(room, seqrt_winograd_buffer_floats(wc, 1), seqrt_winograd_tiles(wc),
                     WINO_CHUNK);
}

/* forward: room per sample for its buffer after U */
static size_t wino_forward_chunk(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                                 int batch)
{
    const size_t n = (size_t)batch, all = n * seqrt_conv2d_scratch_per_sample(c);
    const size_t u = seqrt_winograd_weights_floats(c);
    if (!seqrt_winograd_shape_ok(g, c) || u > all)
        return 0;
    return wino_chunk(c, (all - u) / n);
}

/* forward: each thread part transforms the weights itself, into its
 * first sample's room, when U and a buffer of the same chunk fit there:
 * then no core reads U from the other's cache */
static int wino_forward_own_u(const seqrt_conv2d_shape *c, size_t chunk)
{
    const size_t per = seqrt_conv2d_scratch_per_sample(c), u = seqrt_winograd_weights_floats(c);
    return per > u && wino_chunk(c, per - u) == chunk;
}

/* backward: room per group after U's blocks 9-15, in the batch's P*K
 * floats before the slots (0 without Winograd) */
static size_t group_room(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c, int batch,
                         int groups)
{
    const size_t all = (size_t)batch * conv_p(c) * conv_k(c);
    const size_t u = 7 * (size_t)c->cin * (size_t)c->cout;
    if (!seqrt_winograd_shape_ok(g, c) || u > all)
        return 0;
    return (all - u) / (size_t)groups;
}

/* backward, GEMM dW: the group's padded copy (when the layer pads), then
 * the dx buffer */
static size_t wino_dx_chunk(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c, int batch,
                            int groups)
{
    const size_t room = group_room(g, c, batch, groups);
    return room > pad_floats(c) ? wino_chunk(c, room - pad_floats(c)) : 0;
}

/* Winograd's dW (with its dx): per group dU [16][cin][cout], then the
 * buffer of seqrt_winograd_dw_buffer_floats; the chunk, or 0 when not
 * even one tile's buffer fits beside dU (then the GEMM dW) */
static size_t wino_dw_chunk(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c, int batch,
                            int groups)
{
    const size_t room = group_room(g, c, batch, groups), du = seqrt_winograd_weights_floats(c);
    return room > du ? fit_chunk(room - du, seqrt_winograd_dw_buffer_floats(c, 1),
                                 seqrt_winograd_tiles(c), WINO_DW_CHUNK)
                     : 0;
}

int seqrt_conv2d_winograd(const seqrt_conv2d_shape *c, int batch, int dx)
{
    const seqrt_gemm_ops *g = seqrt_gemm_kernels();
    int per;
    if (batch <= 0)
        return 0;
    if (!dx)
        return wino_forward_chunk(g, c, batch) > 0;
    const int groups = dw_groups(batch, DW_GROUPS, &per);
    const int dw = wino_dw_chunk(g, c, batch, groups) > 0;
    return dx == 2 ? dw : dw || wino_dx_chunk(g, c, batch, groups) > 0;
}

/* split over the threads? our kernels only (CBLAS has its own threads),
 * more than one sample, and enough work */
static int split(const seqrt_gemm_ops *g, int batch, const seqrt_conv2d_shape *c)
{
    size_t macs = (size_t)batch * conv_p(c) * conv_k(c) * (size_t)c->cout;
    return g && batch > 1 && macs >= SPLIT_MIN_MACS && seqrt_parallel_parts() > 1;
}

static void run(int parallel, seqrt_part_fn fn, conv_job *j)
{
    if (parallel)
        seqrt_parallel(fn, j);
    else
        fn(j, 0, 1);
}

static void forward_part(void *arg, int part, int parts)
{
    const conv_job *j = arg;
    const seqrt_conv2d_shape *c = j->c;
    const size_t K = conv_k(c), P = conv_p(c), in_size = (size_t)c->h * c->w * c->cin;
    size_t lo, hi;
    seqrt_parallel_range((size_t)j->batch, 1, part, parts, &lo, &hi);
    /* one im2col buffer per part, the slot of its first sample: reused
     * for each sample it stays in L2 (see the header) */
    float *cn = j->scratch + lo * P * K;
    float *u[16], *wbuf = j->wino ? j->wino_base + lo * j->wino_stride : NULL;
    for (int e = 0; e < 16; e++)
        u[e] = j->u[e];
    if (j->wino_own_u && lo < hi) { /* this part's U, then its buffer */
        const size_t block = (size_t)c->cin * (size_t)c->cout;
        for (int e = 0; e < 16; e++)
            u[e] = wbuf + (size_t)e * block;
        seqrt_winograd_weights(c, j->w, 0, u);
        wbuf += 16 * block;
    }
    for (size_t n = lo; n < hi; n++) {
        const float *col = j->x + n * in_size;
        if (j->wino) {
            seqrt_winograd_sample(j->g, c, col, (const float *const *)u, j->b,
                                  j->y + n * P * (size_t)c->cout, wbuf, j->wino);
            continue;
        }
        if (j->direct) {
            pad_sample(c, col, cn);
            direct_forward(c, cn, j->w, j->b, j->y + n * P * (size_t)c->cout);
            continue;
        }
        if (j->implicit) {
            implicit_forward_sample(j->g, c, col, j->w, j->b, j->y + n * P * (size_t)c->cout,
                                    cn);
            continue;
        }
        if (!j->pointwise) {
            seqrt_conv2d_im2col(c, col, cn);
            col = cn;
        }
        mm_xw(j->g, (int)P, c->cout, (int)K, col, j->w, (int)K, j->b,
              j->y + n * P * (size_t)c->cout);
    }
}

void seqrt_conv2d_forward(int batch, const seqrt_conv2d_shape *c, const float *x,
                          const float *w, const float *b, float *y, float *scratch)
{
    if (batch <= 0)
        return;
    conv_job j = {.g = seqrt_gemm_kernels(), .c = c, .batch = batch,
                  .pointwise = seqrt_conv2d_is_pointwise(c), .x = x, .w = w, .b = b,
                  .y = y, .scratch = scratch};
    j.direct = direct3x3(j.g, c);
    j.implicit = !j.pointwise && !j.direct && implicit_ok(j.g, c);
    j.wino = wino_forward_chunk(j.g, c, batch);
    j.wino_own_u = j.wino && wino_forward_own_u(c, j.wino);
    if (j.wino_own_u) { /* see "Winograd's scratch" */
        j.wino_base = scratch;
        j.wino_stride = seqrt_winograd_weights_floats(c) + seqrt_winograd_buffer_floats(c, j.wino);
    } else if (j.wino) {
        const size_t block = (size_t)c->cin * (size_t)c->cout;
        for (int e = 0; e < 16; e++)
            j.u[e] = scratch + (size_t)e * block;
        seqrt_winograd_weights(c, w, 0, j.u);
        j.wino_base = scratch + 16 * block;
        j.wino_stride = seqrt_winograd_buffer_floats(c, j.wino);
    }
    run(split(j.g, batch, c), forward_part, &j);
}

/* db += (or =) one sample's column sums of dy[P, cout]: each from 0,
 * the rows ascending, in sb, then added to db. In C the sums went through
 * memory row by row (perf: 4 % of conv_paths --layers, more than conv1's
 * whole dW); on AVX-512 they stay in registers, 64 columns at a time. */
static void db_sample_c(size_t P, size_t cout, const float *dy, float *s)
{
    for (size_t o = 0; o < cout; o++)
        s[o] = 0.0f;
    for (size_t r = 0; r < P; r++)
        for (size_t o = 0; o < cout; o++)
            s[o] += dy[r * cout + o];
}

#if HAVE_DIRECT
DIRECT_FN static void db_sample_avx512(size_t P, size_t cout, const float *dy, float *s)
{
    for (size_t o = 0; o < cout; o += 64) {
        const int left = (int)(cout - o);
        const __mmask16 m0 = lanes(left), m1 = lanes(left - 16), m2 = lanes(left - 32),
                        m3 = lanes(left - 48);
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const float *d = dy + o;
        for (size_t r = 0; r < P; r++, d += cout) {
            a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m0, d));
            a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m1, d + 16));
            a2 = _mm512_add_ps(a2, _mm512_maskz_loadu_ps(m2, d + 32));
            a3 = _mm512_add_ps(a3, _mm512_maskz_loadu_ps(m3, d + 48));
        }
        _mm512_mask_storeu_ps(s + o, m0, a0);
        _mm512_mask_storeu_ps(s + o + 16, m1, a1);
        _mm512_mask_storeu_ps(s + o + 32, m2, a2);
        _mm512_mask_storeu_ps(s + o + 48, m3, a3);
    }
}
#endif

static void db_sample(const seqrt_gemm_ops *g, size_t P, size_t cout, const float *dy,
                      float *db, float *sb, int add)
{
    float *s = add ? sb : db;
#if HAVE_DIRECT
    if (g && g->path == SEQRT_GEMM_AVX512)
        db_sample_avx512(P, cout, dy, s);
    else
#endif
        db_sample_c(P, cout, dy, s);
    if (add)
        for (size_t o = 0; o < cout; o++)
            db[o] += s[o];
}

/* Group gi, samples [n0, n1): for each sample, its im2col, its dW and db
 * (one GEMM over its P rows) into the group's slot (the first sample) or
 * the group's spare slot, then added to the group's slot (so the group
 * sums ((s_n0 + s_n0+1) + ...) + s_n1-1, always in that order), then its
 * dx: dcol over the sample's im2col rows, which dW no longer needs, while
 * they are still in cache. */
static void backward_part(void *arg, int part, int parts)
{
    const conv_job *j = arg;
    const seqrt_conv2d_shape *c = j->c;
    const size_t K = conv_k(c), P = conv_p(c), cout = (size_t)c->cout, S = slot_size(c);
    const size_t in_size = (size_t)c->h * c->w * c->cin;
    size_t g0, g1;
    seqrt_parallel_range((size_t)j->groups, 1, part, parts, &g0, &g1);
    for (size_t gi = g0; gi < g1; gi++) {
        size_t n0 = gi * (size_t)j->per_group, n1 = n0 + (size_t)j->per_group;
        if (n1 > (size_t)j->batch)
            n1 = (size_t)j->batch;
        float *slot = j->slots + gi * S, *spare = j->slots + ((size_t)j->groups + gi) * S;
        /* one im2col / dcol buffer per group, its first sample's; with
         * Winograd's dx the group's padded copy, then its buffer */
        float *coln = j->wino ? j->wino_base + gi * j->wino_stride : j->scratch + n0 * P * K;
        /* Winograd's dW: the group's dU, then the buffer (see "Winograd's
         * scratch"); dU goes to the slot after the group's samples */
        float *du = coln, *du_buf = j->wino_dw ? coln + seqrt_winograd_weights_floats(c) : NULL;
        for (size_t n = n0; n < n1; n++) {
            const float *xn = j->x + n * in_size, *dyn = j->dy + n * P * cout;
            const float *col = xn; /* pointwise: x is its own im2col */
            const int add = n > n0;
            if (j->wino_dw) { /* dx too, from the same transforms of dy */
                seqrt_winograd_dw_sample(j->g, c, xn, dyn, (const float *const *)j->u,
                                         j->dx ? j->dx + n * in_size : NULL, du, add, du_buf,
                                         j->wino);
            } else if (j->direct) {
                pad_sample(c, xn, coln);
                direct_dw(c, coln, dyn, slot, j->db ? slot + K * cout : NULL, add);
            } else if (j->implicit) {
                implicit_dw_sample(j->g, c, xn, dyn, slot, coln, add);
            } else {
                if (!j->pointwise) {
                    seqrt_conv2d_im2col(c, xn, coln);
                    col = coln;
                }
                mm_xtdy(j->g, (int)P, (int)K, c->cout, col, dyn, slot, add);
            }
            if (j->db && !j->direct) /* the sample's sum (in the spare slot), then added */
                db_sample(j->g, P, cout, dyn, slot + K * cout, spare + K * cout, add);
            if (!j->dx || j->wino_dw)
                continue;
            float *dxn = j->dx + n * in_size;
            if (j->wino) { /* dx: Winograd's transforms transposed */
                seqrt_winograd_dx_sample(j->g, c, dyn, (const float *const *)j->u, dxn,
                                         coln + j->wino_pad, j->wino);
                continue;
            }
            if (j->pointwise) { /* dx is dcol */
                mm_xw(j->g, (int)P, (int)K, c->cout, dyn, j->wt, c->cout, NULL, dxn);
                continue;
            }
            mm_xw(j->g, (int)P, (int)K, c->cout, dyn, j->wt, c->cout, NULL, coln);
            seqrt_conv2d_col2im(c, coln, dxn);
        }
        if (j->wino_dw)
            seqrt_winograd_dw_finish(c, du, slot);
    }
}

/* dw, db = the groups' partial sums added in group order; elements split */
static void sum_part(void *arg, int part, int parts)
{
    const conv_job *j = arg;
    const size_t nw = conv_k(j->c) * (size_t)j->c->cout, size = slot_size(j->c);
    const size_t n = j->db ? size : nw;
    size_t lo, hi;
    seqrt_parallel_range(n, 16, part, parts, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        float *d = i < nw ? j->dw + i : j->db + (i - nw);
        *d = j->slots[i];
    }
    for (int gi = 1; gi < j->groups; gi++) {
        const float *s = j->slots + (size_t)gi * size;
        size_t mid = hi < nw ? hi : nw;
        for (size_t i = lo; i < mid; i++)
            j->dw[i] += s[i];
        for (size_t i = mid > lo ? mid : lo; i < hi; i++)
            j->db[i - nw] += s[i];
    }
}

void seqrt_conv2d_backward_groups(int batch, const seqrt_conv2d_shape *c, const float *x,
                                  const float *w, const float *dy, float *dx, float *dw,
                                  float *db, float *scratch, int groups)
{
    if (batch <= 0)
        return;
    const size_t K = conv_k(c), cout = (size_t)c->cout;
    int per;
    groups = dw_groups(batch, groups, &per);
    conv_job j = {.g = seqrt_gemm_kernels(), .c = c, .batch = batch, .per_group = per,
                  .groups = groups,
                  .pointwise = seqrt_conv2d_is_pointwise(c), .x = x, .w = w, .dy = dy,
                  .dx = dx, .dw = dw, .db = db, .scratch = scratch,
                  .slots = scratch + (size_t)batch * conv_p(c) * K};
    j.direct = direct3x3(j.g, c);
    j.implicit = !j.pointwise && !j.direct && implicit_ok(j.g, c);
    /* dW through Winograd whether or not dx is wanted (the same chunk:
     * the same bits of dW); dx alone through it when dU does not fit */
    j.wino = wino_dw_chunk(j.g, c, batch, groups);
    j.wino_dw = j.wino > 0;
    if (!j.wino)
        j.wino = dx ? wino_dx_chunk(j.g, c, batch, groups) : 0;
    if (j.wino) { /* see "Winograd's scratch" */
        const size_t block = (size_t)c->cin * cout;
        for (int e = 0; e < 16; e++)
            j.u[e] = e < 9 ? dw + (size_t)e * block : scratch + (size_t)(e - 9) * block;
        if (dx)
            seqrt_winograd_weights(c, w, 1, j.u);
        j.wino_base = scratch + 7 * block;
        if (j.wino_dw) {
            j.wino_stride = 16 * block + seqrt_winograd_dw_buffer_floats(c, j.wino);
        } else {
            j.wino_pad = pad_floats(c);
            j.wino_stride = j.wino_pad + seqrt_winograd_buffer_floats(c, j.wino);
        }
    } else if (dx) {
        /* dcol = dy w^T needs w^T [cout, K]; dw is overwritten only after
         * the groups are done, so it holds w^T until then */
        for (size_t k = 0; k < K; k++)
            for (size_t o = 0; o < cout; o++)
                dw[o * K + k] = w[k * cout + o];
        j.wt = dw;
    }
    int parallel = split(j.g, batch, c);
    run(parallel, backward_part, &j);
    run(parallel, sum_part, &j);
}

/* dw must not alias w, x or dy: it holds w^T until the end (above) */
void seqrt_conv2d_backward(int batch, const seqrt_conv2d_shape *c, const float *x,
                           const float *w, const float *dy, float *dx, float *dw,
                           float *db, float *scratch)
{
    seqrt_conv2d_backward_groups(batch, c, x, w, dy, dx, dw, db, scratch, DW_GROUPS);
}
