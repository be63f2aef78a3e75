/*
 * conv_block.c: batchnorm (per channel, batch statistics) + relu +
 * maxpool2d after a convolution, as one kernel forward and one backward.
 * The compiler's fusion pass (compiler/ir/pass_fuse.c) puts these calls
 * where a model says `batchnorm; relu; maxpool2d P` on an image, with a
 * batchnorm of default behaviour and a pool whose windows do not overlap
 * (stride = pool size, no padding).
 *
 * Why. In the CNN at batch 32 the first convolution's output is
 * [32, 28, 28, 32] floats, 3.2 MB, larger than the 1 MB L2 of a core.
 * The three layers apart stream it (or a tensor of its size) about 10
 * times forward and 9 times backward: batchnorm's mean, deviation and
 * normalize passes (reading x, writing xhat and y), relu (reading y,
 * writing its output), the pool (reading it); backward the pool's zeroed
 * and scattered dx, relu's dx, batchnorm's two passes over xhat and dy.
 * Fused, forward reads the convolution's output once from memory and
 * writes the pooled output and its argmax (a quarter of its size each);
 * backward reads it twice and writes dx once.
 *
 *   forward   1. per sample, while its 100 KB stay in L2: the channel
 *                sums S_n, the squared deviations about the sample's own
 *                mean M2_n, and each window's chosen cell: z = gamma xhat
 *                + beta rises with x (inv_std > 0) where gamma >= 0 and
 *                falls where gamma < 0, so z's first maximum is x's first
 *                maximum, or its first minimum, found before the batch
 *                statistics are known (y holds that x for now, argmax its
 *                cell);
 *             2. the batch's mean and variance from the samples' (S_n,
 *                M2_n) in sample order (Chan et al.'s pairwise formula,
 *                in double): the two-pass variance batchnorm.c computes,
 *                without a second pass over x;
 *             3. over the pooled outputs only: y = z of the chosen cell
 *                (batchnorm.c's arithmetic, so the values are its values)
 *                if positive, else 0 (relu then max is max then relu),
 *                and argmax -1 where y is 0 (relu passes no gradient;
 *                that is all backward needs of relu). With gamma = 0 every
 *                z of a window is beta and the cell chosen is x's maximum
 *                where the unfused pool takes the first cell; dx is 0
 *                there either way (k = 0 below).
 *   backward  dz = dy at each argmax cell, 0 elsewhere; then batchnorm's
 *                dgamma = sum dz xhat, dbeta = sum dz (per sample over
 *                the outputs, then added in sample order), and
 *                dx = k (dz - (dbeta + xhat dgamma) / N), k = gamma
 *                inv_std, batchnorm.c's formula. Both passes walk the
 *                windows cell by cell: a vector compare of each channel's
 *                argmax with the cell gives dz without a gather or a
 *                scatter. xhat is recomputed from x and the saved mean
 *                and inv_std: nothing of x's size is saved.
 *
 * Threads: every pass splits the batch by samples; the per-sample
 * partial sums are added in sample order by the calling thread, so the
 * results have the same bits for every thread count. They are not the
 * unfused layers' bits: those sum the batch statistics row by row; the
 * tests compare the two within float rounding.
 *
 * Synchronized batchnorm over several ranks (batchnorm_sync.c) runs the
 * same passes, through conv_block.h, with the statistics of every rank's
 * samples put between them instead of this batch's own.
 *
 * Saved for backward: stats[2c] (mean, then inv_std) and argmax[batch,
 * oh, ow, c] as int32 (the input cell's index within the sample, or -1).
 * Scratch: 2c floats per sample (the partial sums), forward and backward.
 *
 * Measured (bench/conv_paths.c --blocks: the fastest of 200 calls, batch
 * 32, on the Zen 5 machine of docs/performance.md while other engineers'
 * builds kept the load average at 7-10 on its 2 cores, so read the ratios
 * within one run; 1 and 2 threads):
 *
 *                         unfused (3 calls)     fused
 *   [N,28,28,32] forward    0.73 / 0.81 ms    0.48 / 0.48 ms
 *   [N,28,28,32] backward   1.02 / 0.92 ms    0.44 / 0.17 ms
 *   [N,12,12,64] forward    0.19 / 0.18 ms    0.15 / 0.15 ms
 *   [N,12,12,64] backward   0.21 / 0.20 ms    0.11 / 0.11 ms
 *
 * The first version read x twice forward (stats, then normalize and pool:
 * 0.52-0.57 ms), and its backward loops over 32 channels per cell were
 * each wrapped in GCC's run-time overlap checks and tail code: callgrind
 * (which runs the AVX2 clones) counted 4.5 M instructions per call of the
 * dx pass on the first block and 3.8 M for the sums (800,000 elements);
 * with GCC ivdep, int32 index lanes and the channel counts 16/32/64 as
 * constants, 2.1 M and 1.8 M. The forward's per-sample pass is now the
 * heavier one (5.9 M; making its channel count a constant made it worse,
 * 12.8 M, and was not kept).
 *
 * AVX-512. Where the CPU has AVX-512F and c is a multiple of 16 (the
 * CNN's 32 and 64), every pass runs as AVX-512F intrinsics instead (the
 * section "the AVX-512 passes" below says how; the plain C passes above
 * stay for other CPUs and channel counts, and for clang/GCC off x86-64).
 * perf of the CNN's trainer (models/mnist_cnn_bn.seq, batch 32, one
 * thread) had found the plain passes a quarter of an epoch: the window
 * pass stored the running max and argmax to memory on every cell behind a
 * data-dependent branch, the backward sums kept their accumulators in
 * memory, dx recomputed its per-channel factors per element. Now the
 * running max, argmax and sums live in registers, dx is 4 operations per
 * element, and the forward reads a sample twice instead of three times.
 * In the trainer (3 epochs, `perf record`) the five passes went from 26 %
 * of the samples to 16 % (stats 9.6 -> 5.2 %, dx 7.7 -> 5.0, sums 5.2 ->
 * 3.3, finish 1.7 -> 1.9, inference 1.6 -> 0.5). Same machine,
 * bench/conv_paths.c --blocks, fastest of 200 calls,
 * OPENBLAS_NUM_THREADS=1, before / after, the ranges of three alternating
 * runs:
 *
 *                         1 thread                  2 threads (best run)
 *   [N,28,28,32] forward  0.316-0.318 / 0.156-0.157 ms   0.164 / 0.082 ms
 *   [N,28,28,32] backward 0.283-0.293 / 0.141-0.143 ms   0.149 / 0.075 ms
 *   [N,12,12,64] forward  0.098-0.099 / 0.055-0.056 ms   0.052 / 0.033 ms
 *   [N,12,12,64] backward 0.108-0.110 / 0.052-0.059 ms   0.056 / 0.030 ms
 *
 * (2 threads: another engineer's jobs held the second core in most runs;
 * the best run of each is quoted.) The trainer, `seqc build
 * models/mnist_cnn_bn.seq`, --epochs 3 --threads 1: 0.99-1.12 s an epoch
 * before, 0.84-1.02 s after (three alternating runs each; validation
 * accuracy after 2 epochs 0.9635 before, 0.964 after: dx's bits changed).
 *
 * The bits: on the AVX-512 path y, argmax, the statistics, the moving
 * statistics, dgamma and dbeta are the plain passes' bits (the same
 * operations in the same order per element and per sum; no FMA); dx is
 * not, as k (dz - inv_n (dbeta + xhat dgamma)) is computed as
 * fma(c1, x - mean, c0) + k dz with the per-channel c0 = -k inv_n dbeta
 * and c1 = -k inv_n dgamma inv_std: within float rounding of the plain
 * formula (test_conv_block: 1e-6 relative between the two paths, and both
 * against the unfused layers and finite differences). So a trainer on a
 * CPU without AVX-512F follows a slightly different trajectory, as with
 * the GEMM paths. The thread count still changes no bit on either path.
 */
#include "seqrt.h"

#include "kernels/conv_block.h"
#include "kernels/parts.h"
#include "kernels/simd.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_FAST 1 /* the AVX-512 passes below, chosen at run time */
#else
#define HAVE_FAST 0
#endif

/* Before a loop over the channels: its iterations are independent. GCC
 * takes `restrict` on block-scope pointers only partly, and checked the
 * buffers for overlap around every such loop, a few dozen instructions
 * per window cell for 2 vectors of work (callgrind; see the header). */
#if defined(__GNUC__) && !defined(__clang__)
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP /* clang (the sanitizer builds): warns where it cannot follow */
#endif

size_t seqrt_bn_relu_maxpool_scratch_per_sample(int c)
{
    return 2 * (size_t)c;
}

typedef struct block_job {
    const seqrt_pool2d_shape *p;
    int                       batch;
    const float              *x, *gamma, *beta, *mean, *inv_std, *dy;
    const float              *dbeta, *dgamma; /* backward's totals, pass B */
    float                    *y, *dx, *scratch;
    int32_t                  *argmax;
    const int32_t            *argmax_in;
    float                     inv_rows;       /* 1 / (batch * h * w) */
    void (*range)(const struct block_job *j, int n0, int n1);
} block_job;

/* samples are split over the threads as the pools do
 * (seqrt_parallel_samples) */
static void block_samples(const void *job, int n0, int n1)
{
    const block_job *j = job;
    j->range(j, n0, n1);
}

static void block_run(block_job *j)
{
    size_t floats = (size_t)j->batch * j->p->h * j->p->w * j->p->c;
    seqrt_parallel_samples(j->batch, floats, block_samples, j);
}

/* window (oy, ox)'s rows [*y0, *y1) and columns [*x0, *x1): disjoint
 * windows from (0, 0), the last ones cut at the image's edge */
static void window(const seqrt_pool2d_shape *p, int oy, int ox, int *y0, int *y1, int *x0,
                   int *x1)
{
    *y0 = oy * p->sh;
    *x0 = ox * p->sw;
    *y1 = *y0 + p->ph > p->h ? p->h : *y0 + p->ph;
    *x1 = *x0 + p->pw > p->w ? p->w : *x0 + p->pw;
}

/* ------------------------------------------------------------ forward */

/* pass 1, per sample while it is in L2: scratch[n] = (S_n[c], M2_n[c]),
 * then each window's maximum of z = gamma xhat + beta found before the
 * statistics are known: xhat increases with x (inv_std > 0), so z's
 * first maximum is x's first maximum where gamma >= 0 and x's first
 * minimum where gamma < 0. y holds that x, argmax its cell, until
 * finish_range turns them into z. */
/*
 * out[C] = per channel the sum over P positions of x[P, C], or with sum
 * given, of (x - sum * inv_p)^2 (the squared deviations about the mean).
 * Sixteen channels at a time as one GCC vector (one AVX-512 register; two
 * AVX2 ones in that clone), four positions at a time in four accumulators
 * added at the end: written as one running sum per channel, GCC kept the
 * sums in memory and every add waited for the previous one through store
 * forwarding (perf annotate: the add and its store were a third of this
 * pass), and with the accumulators as arrays it did not vectorize the
 * squared deviations at all. Positions q = 0, 4, 8... go to the first
 * accumulator, 1, 5, 9... to the second, and so on; the sums are
 * (a0 + a1) + (a2 + a3): an order of its own, the same for every thread
 * count.
 */
typedef float v16f __attribute__((vector_size(64), aligned(4))); /* unaligned loads */

#define ld16(p) (*(const v16f *)(p))

static inline __attribute__((always_inline)) void channel_sums(const float *restrict x, size_t P,
                                                           size_t C, const float *restrict sum,
                                                           float inv_p, float *restrict out)
{
    enum { L = 16 };
    size_t ch0 = 0;
    for (; ch0 + L <= C; ch0 += L) {
        v16f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, m = {0};
        if (sum)
            m = ld16(sum + ch0) * inv_p;
        size_t q = 0;
        const float *r = x + ch0;
        if (sum) {
            for (; q + 4 <= P; q += 4, r += 4 * C) {
                v16f v0 = ld16(r) - m, v1 = ld16(r + C) - m;
                v16f v2 = ld16(r + 2 * C) - m, v3 = ld16(r + 3 * C) - m;
                a0 += v0 * v0;
                a1 += v1 * v1;
                a2 += v2 * v2;
                a3 += v3 * v3;
            }
            for (; q < P; q++, r += C) {
                v16f v = ld16(r) - m;
                a0 += v * v;
            }
        } else {
            for (; q + 4 <= P; q += 4, r += 4 * C) {
                a0 += ld16(r);
                a1 += ld16(r + C);
                a2 += ld16(r + 2 * C);
                a3 += ld16(r + 3 * C);
            }
            for (; q < P; q++, r += C)
                a0 += ld16(r);
        }
        v16f t = (a0 + a1) + (a2 + a3);
        __builtin_memcpy(out + ch0, &t, sizeof t);
    }
    for (size_t ch = ch0; ch < C; ch++) { /* channels past the last 16 */
        float a = 0.0f, mc = sum ? sum[ch] * inv_p : 0.0f;
        for (size_t q = 0; q < P; q++) {
            float v = x[q * C + ch] - mc;
            a += sum ? v * v : v;
        }
        out[ch] = a;
    }
}

SEQRT_CLONES static void stats_range(const block_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, P = (size_t)p->h * p->w;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const int32_t Ci = p->c; /* int32 lanes, as the argmax's */
    const float *restrict gamma = j->gamma;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * P * C;
        float *restrict s = j->scratch + (size_t)n * 2 * C, *restrict m2 = s + C;
        channel_sums(xn, P, C, NULL, 0.0f, s);
        /* the deviations about the sample's own mean */
        channel_sums(xn, P, C, s, 1.0f / (float)P, m2);
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                float *restrict yo = j->y + o;
                int32_t *restrict ao = j->argmax + o;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                size_t first = ((size_t)y0 * p->w + x0) * C;
                IVDEP
                for (size_t ch = 0; ch < C; ch++) {
                    yo[ch] = xn[first + ch];
                    ao[ch] = (int32_t)(first + ch);
                }
                /* the first cell is there already: from the next one on */
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = iy == y0 ? x0 + 1 : x0; ix < x1; ix++) {
                        size_t cell = ((size_t)iy * p->w + ix) * C;
                        const float *restrict xc = xn + cell;
                        const int32_t base = (int32_t)cell;
                        IVDEP
                        for (int32_t ch = 0; ch < Ci; ch++) {
                            int up = gamma[ch] < 0.0f ? xc[ch] < yo[ch] : xc[ch] > yo[ch];
                            ao[ch] = up ? base + ch : ao[ch];
                            yo[ch] = up ? xc[ch] : yo[ch];
                        }
                    }
            }
    }
}

/* pass 2, over the pooled outputs only: y = relu(z) of the chosen cell
 * (batchnorm.c's arithmetic), argmax -1 where relu passes nothing */
SEQRT_CLONES static void finish_range(const block_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, cells = (size_t)p->oh * p->ow;
    const float *restrict mu = j->mean, *restrict inv = j->inv_std;
    const float *restrict gamma = j->gamma, *restrict beta = j->beta;
    for (int n = n0; n < n1; n++)
        for (size_t q = 0; q < cells; q++) {
            size_t o = ((size_t)n * cells + q) * C;
            float *restrict yo = j->y + o;
            int32_t *restrict ao = j->argmax + o;
            IVDEP
            for (size_t ch = 0; ch < C; ch++) {
                float h = (yo[ch] - mu[ch]) * inv[ch];
                float z = gamma[ch] * h + beta[ch];
                ao[ch] = z > 0.0f ? ao[ch] : -1;
                yo[ch] = z > 0.0f ? z : 0.0f;
            }
        }
}

/* inference, one pass: normalize, relu and max over each window */
SEQRT_CLONES static void pool_range(const block_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *restrict mu = j->mean, *restrict inv = j->inv_std;
    const float *restrict gamma = j->gamma, *restrict beta = j->beta;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_size;
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                float *restrict yo = j->y + (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                IVDEP
                for (size_t ch = 0; ch < C; ch++)
                    yo[ch] = 0.0f; /* relu: the max of z and 0 */
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *restrict xc = xn + ((size_t)iy * p->w + ix) * C;
                        IVDEP
                        for (size_t ch = 0; ch < C; ch++) {
                            float z = gamma[ch] * ((xc[ch] - mu[ch]) * inv[ch]) + beta[ch];
                            yo[ch] = z > yo[ch] ? z : yo[ch];
                        }
                    }
            }
    }
}

/* ----------------------------------------------------------- backward */

/* Backward walks the windows like the forward: within a window, cell by
 * cell, a vector compare of each channel's argmax with the cell gives dz
 * (dy or 0) without a gather or a scatter. */

/* pass A: scratch[n] = (dbeta_n[c], dgamma_n[c]), outputs ascending (the
 * zeros of the other cells add nothing) */
static inline __attribute__((always_inline)) void sums_range_c(const block_job *j, int n0, int n1,
                                                    const int32_t Ci)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)Ci, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *restrict mu = j->mean, *restrict inv = j->inv_std;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_size;
        float *restrict db = j->scratch + (size_t)n * 2 * C, *restrict dg = db + C;
        IVDEP
        for (size_t ch = 0; ch < C; ch++)
            db[ch] = dg[ch] = 0.0f;
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                const float *restrict dyo = j->dy + o;
                const int32_t *restrict ao = j->argmax_in + o;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        size_t cell = ((size_t)iy * p->w + ix) * C;
                        const float *restrict xc = xn + cell;
                        const int32_t base = (int32_t)cell;
                        IVDEP
                        for (int32_t ch = 0; ch < Ci; ch++) {
                            float g = ao[ch] == base + ch ? dyo[ch] : 0.0f;
                            float h = (xc[ch] - mu[ch]) * inv[ch];
                            db[ch] += g;
                            dg[ch] += g * h;
                        }
                    }
            }
    }
}

/* The common channel counts as constants: a loop of Ci = 32 channels
 * with Ci unknown compiles to vector code wrapped in alias checks and
 * tail handling on every window cell; with Ci known, to straight vector
 * code (see the header for the counts). */
SEQRT_CLONES static void sums_range(const block_job *j, int n0, int n1)
{
    switch (j->p->c) {
    case 16: sums_range_c(j, n0, n1, 16); break;
    case 32: sums_range_c(j, n0, n1, 32); break;
    case 64: sums_range_c(j, n0, n1, 64); break;
    default: sums_range_c(j, n0, n1, j->p->c); break;
    }
}

/* dx of cells in no window (a dropped last row or column): dz = 0 */
SEQRT_CLONES static void dx_cells(const block_job *j, const float *xc, float *dxc,
                                  size_t cells)
{
    const size_t C = (size_t)j->p->c;
    const float *restrict mu = j->mean, *restrict inv = j->inv_std;
    const float *restrict gamma = j->gamma, *restrict dbeta = j->dbeta;
    const float *restrict dgamma = j->dgamma;
    const float inv_n = j->inv_rows;
    for (size_t q = 0; q < cells; q++)
        IVDEP
        for (size_t ch = 0; ch < C; ch++) {
            float h = (xc[q * C + ch] - mu[ch]) * inv[ch];
            float k = gamma[ch] * inv[ch];
            dxc[q * C + ch] = k * (0.0f - inv_n * (dbeta[ch] + h * dgamma[ch]));
        }
}

/* pass B: dx = k (dz - (dbeta + xhat dgamma) / N), batchnorm.c's formula */
static inline __attribute__((always_inline)) void dx_range_c(const block_job *j, int n0, int n1,
                                                    const int32_t Ci)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)Ci, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *restrict mu = j->mean, *restrict inv = j->inv_std;
    const float *restrict gamma = j->gamma, *restrict dbeta = j->dbeta;
    const float *restrict dgamma = j->dgamma;
    const float inv_n = j->inv_rows;
    const int rows = p->oh * p->sh < p->h ? p->oh * p->sh : p->h;
    const int cols = p->ow * p->sw < p->w ? p->ow * p->sw : p->w;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_size;
        float *dxn = j->dx + (size_t)n * in_size;
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                const float *restrict dyo = j->dy + o;
                const int32_t *restrict ao = j->argmax_in + o;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        size_t cell = ((size_t)iy * p->w + ix) * C;
                        const float *restrict xc = xn + cell;
                        float *restrict dxc = dxn + cell;
                        const int32_t base = (int32_t)cell;
                        IVDEP
                        for (int32_t ch = 0; ch < Ci; ch++) {
                            float g = ao[ch] == base + ch ? dyo[ch] : 0.0f;
                            float h = (xc[ch] - mu[ch]) * inv[ch];
                            float k = gamma[ch] * inv[ch];
                            dxc[ch] = k * (g - inv_n * (dbeta[ch] + h * dgamma[ch]));
                        }
                    }
            }
        /* the cells right of the last window column, then below the last
         * window row */
        for (int iy = 0; iy < rows && cols < p->w; iy++) {
            size_t cell = ((size_t)iy * p->w + cols) * C;
            dx_cells(j, xn + cell, dxn + cell, (size_t)(p->w - cols));
        }
        if (rows < p->h) {
            size_t cell = (size_t)rows * p->w * C;
            dx_cells(j, xn + cell, dxn + cell, (size_t)(p->h - rows) * p->w);
        }
    }
}

/* as sums_range */
SEQRT_CLONES static void dx_range(const block_job *j, int n0, int n1)
{
    switch (j->p->c) {
    case 16: dx_range_c(j, n0, n1, 16); break;
    case 32: dx_range_c(j, n0, n1, 32); break;
    case 64: dx_range_c(j, n0, n1, 64); break;
    default: dx_range_c(j, n0, n1, j->p->c); break;
    }
}

/* ------------------------------------------------- the AVX-512 passes */

/*
 * The passes above with AVX-512F intrinsics, taken when the CPU has
 * AVX-512F and c is a multiple of 16 (seqrt_bn_relu_maxpool_fast). The
 * channels go in groups of up to 64, four zmm of 16 (c = 32: one group of
 * two); a group's count of vectors is a constant in each copy of a pass
 * (always_inline with nb = 1..4), so its per-channel constants, running
 * maxima and sums stay in registers:
 *   windows  per window and vector the running max and its argmax in two
 *            registers, a compare and two masked moves per cell, no
 *            branch; y and argmax stored once per window. The channels
 *            where gamma < 0 have x's sign bit flipped while compared
 *            (x < m is -x > -m, NaN false both ways): one compare for
 *            both kinds of channel, the same cell chosen as above.
 *   sums     dbeta_n and dgamma_n in registers over the whole sample,
 *            stored once; the argmax and dy of a window loaded once for
 *            its cells. The same operations per element in the same
 *            order as sums_range (no FMA): the same bits.
 *   dx       per channel k = gamma inv_std, c1 = -(k inv_n dgamma
 *            inv_std), c0 = -(k inv_n dbeta) in registers, and
 *            dx = fma(c1, x - mean, c0), plus k dy (k dy computed once
 *            per window) at the argmax cell: 4 operations per element
 *            where dx_range has 8. Not dx_range's bits (the products are
 *            grouped otherwise, one FMA), within float rounding of them.
 *   S_n, M2_n  each channel's sums in channel_sums's order (the same
 *            bits), with the positions outermost: S_n reads the sample in
 *            memory order, all of a position's channels at once
 *            (channel_sums reads it once per 16 channels, every C floats;
 *            this is the pass that brings the sample from memory, a third
 *            of the forward's time before), and the windows are found in
 *            M2_n's sweep, band by band (the rows of one row of windows),
 *            each band's windows right after its deviations, while it is
 *            in L1: two passes over the sample instead of three.
 *   finish, inference: batchnorm.c's arithmetic, no FMA: the same bits.
 * So on a CPU with AVX-512F every output has the portable passes' bits but
 * dx (test_conv_block compares the two paths on the same data). Intrinsics
 * are not contracted into FMAs by clang either (the sanitizer builds): in
 * plain C, clang's default -ffp-contract=on would turn channel_sums's
 * a += v * v into an FMA inside an avx512f function.
 */
#if HAVE_FAST
enum { FAST_GROUP = 4 }; /* vectors of 16 channels in registers at once */
/* The backward passes read x in window order, ph rows at a time: in a
 * trainer x comes from far (the forward wrote it a whole model ago) and
 * the hardware prefetcher did not keep up with the ph interleaved rows
 * (perf annotate: two thirds of sums_fast on the loads' first use). Each
 * line is asked for PF_AHEAD cells ahead in its row; 32 measured better
 * than 8 and 16 (perf's samples of the two passes in the trainer, against
 * the GEMM's: 0.18-0.21 without, 0.12-0.16 with). */
enum { PF_AHEAD = 32 };

static int cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

#define FAST_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* fn(args..., ch0, nb) for each group of up to FAST_GROUP vectors of
 * channels of C, nb a constant (1-4) in each call, so that each group's
 * loops are compiled for its count of vectors */
#define FAST_GROUPS(C, fn, ...)                                                             \
    for (int ch0 = 0; ch0 < (C); ch0 += 16 * FAST_GROUP)                                   \
        switch (((C) - ch0) / 16) {                                                         \
        case 1: fn(__VA_ARGS__, ch0, 1); break;                                             \
        case 2: fn(__VA_ARGS__, ch0, 2); break;                                             \
        case 3: fn(__VA_ARGS__, ch0, 3); break;                                             \
        default: fn(__VA_ARGS__, ch0, 4); break;                                            \
        }

/* lanes (0, 1, ..., 15) + ch0 */
FAST_INLINE __m512i lanes_from(int ch0)
{
    return _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                              14, 15),
                            _mm512_set1_epi32(ch0));
}

/* forward pass 1's windows of sample n in output row oy, channels [ch0,
 * ch0 + 16 nb); flip: the sign bits of the channels where gamma < 0,
 * lane: the channels' indices */
FAST_INLINE void windows_row(const block_job *j, int n, int ch0, const int nb, int oy,
                             const __m512i *flip, const __m512i *lane)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, P = (size_t)p->h * p->w;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *xn = j->x + (size_t)n * P * C + ch0;
    for (int ox = 0; ox < p->ow; ox++) {
        size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C + ch0;
        int y0, y1, x0, x1;
        window(p, oy, ox, &y0, &y1, &x0, &x1);
        const int32_t first = (int32_t)(((size_t)y0 * p->w + x0) * C);
        __m512 best[FAST_GROUP];
        __m512i arg[FAST_GROUP];
        for (int b = 0; b < nb; b++) {
            __m512i v = _mm512_castps_si512(_mm512_loadu_ps(xn + first + 16 * b));
            best[b] = _mm512_castsi512_ps(_mm512_xor_si512(v, flip[b]));
            arg[b] = _mm512_add_epi32(lane[b], _mm512_set1_epi32(first));
        }
        for (int iy = y0; iy < y1; iy++)
            for (int ix = iy == y0 ? x0 + 1 : x0; ix < x1; ix++) {
                const int32_t cell = (int32_t)(((size_t)iy * p->w + ix) * C);
                const __m512i at = _mm512_set1_epi32(cell);
                for (int b = 0; b < nb; b++) {
                    __m512i v = _mm512_castps_si512(_mm512_loadu_ps(xn + cell + 16 * b));
                    __m512 s = _mm512_castsi512_ps(_mm512_xor_si512(v, flip[b]));
                    __mmask16 up = _mm512_cmp_ps_mask(s, best[b], _CMP_GT_OQ);
                    best[b] = _mm512_mask_mov_ps(best[b], up, s);
                    arg[b] = _mm512_mask_mov_epi32(arg[b], up, _mm512_add_epi32(lane[b], at));
                }
            }
        for (int b = 0; b < nb; b++) {
            __m512i v = _mm512_xor_si512(_mm512_castps_si512(best[b]), flip[b]);
            _mm512_storeu_ps(j->y + o + 16 * b, _mm512_castsi512_ps(v));
            _mm512_storeu_si512(j->argmax + o + 16 * b, arg[b]);
        }
    }
}

/* M2_n of sample n, channels [ch0, ch0 + 16 nb), into m2, with S_n in s
 * given, and the windows of those channels in the same sweep: M2 band by
 * band (the rows of one output row of windows, then the rows in no
 * window), each band's windows while it is in L1. Each channel's squared
 * deviations are added as channel_sums adds them (position q into the
 * accumulator q mod 4, the last P mod 4 positions into the first): the
 * same bits. */
FAST_INLINE void m2_windows_group(const block_job *j, int n, const float *s, float *m2,
                                  int ch0, const int nb)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, P = (size_t)p->h * p->w, P4 = P & ~(size_t)3;
    const float *x = j->x + (size_t)n * P * C + ch0;
    const __m512 inv_p = _mm512_set1_ps(1.0f / (float)P);
    __m512 a0[FAST_GROUP], a1[FAST_GROUP], a2[FAST_GROUP], a3[FAST_GROUP], m[FAST_GROUP];
    __m512i flip[FAST_GROUP], lane[FAST_GROUP];
    for (int b = 0; b < nb; b++) {
        a0[b] = a1[b] = a2[b] = a3[b] = _mm512_setzero_ps();
        m[b] = _mm512_mul_ps(_mm512_loadu_ps(s + ch0 + 16 * b), inv_p);
        __mmask16 neg = _mm512_cmp_ps_mask(_mm512_loadu_ps(j->gamma + ch0 + 16 * b),
                                           _mm512_setzero_ps(), _CMP_LT_OQ);
        flip[b] = _mm512_maskz_mov_epi32(neg, _mm512_set1_epi32(INT32_MIN));
        lane[b] = lanes_from(ch0 + 16 * b);
    }
#define M2_ADD(A, r)                                                                   \
    for (int b = 0; b < nb; b++) {                                                     \
        __m512 v_ = _mm512_sub_ps(_mm512_loadu_ps((r) + 16 * b), m[b]);                \
        A[b] = _mm512_add_ps(A[b], _mm512_mul_ps(v_, v_));                             \
    }
#define M2_AT(q)                                                                       \
    switch ((q) < P4 ? (q) & 3 : 0) {                                                  \
    case 0: M2_ADD(a0, x + (q) * C) break;                                             \
    case 1: M2_ADD(a1, x + (q) * C) break;                                             \
    case 2: M2_ADD(a2, x + (q) * C) break;                                             \
    default: M2_ADD(a3, x + (q) * C) break;                                            \
    }
#define M2_RANGE(q0, q1)                                                               \
    {                                                                                  \
        size_t q_ = (q0);                                                              \
        for (; q_ < (q1) && (q_ & 3) != 0; q_++)                                       \
            M2_AT(q_)                                                                  \
        for (; q_ + 4 <= (q1) && q_ + 4 <= P4; q_ += 4) {                              \
            M2_ADD(a0, x + q_ * C)                                                     \
            M2_ADD(a1, x + (q_ + 1) * C)                                               \
            M2_ADD(a2, x + (q_ + 2) * C)                                               \
            M2_ADD(a3, x + (q_ + 3) * C)                                               \
        }                                                                              \
        for (; q_ < (q1); q_++)                                                        \
            M2_AT(q_)                                                                  \
    }
    size_t q = 0;
    for (int oy = 0; oy < p->oh; oy++) {
        int y1 = oy * p->sh + p->ph > p->h ? p->h : oy * p->sh + p->ph;
        size_t q1 = (size_t)y1 * p->w;
        M2_RANGE(q, q1)
        q = q1;
        windows_row(j, n, ch0, nb, oy, flip, lane);
    }
    M2_RANGE(q, P) /* the rows in no window */
#undef M2_RANGE
#undef M2_AT
#undef M2_ADD
    for (int b = 0; b < nb; b++)
        _mm512_storeu_ps(m2 + ch0 + 16 * b, _mm512_add_ps(_mm512_add_ps(a0[b], a1[b]),
                                                          _mm512_add_ps(a2[b], a3[b])));
}

/* S_n of channels [ch0, ch0 + 16 nb) as channel_sums sums it (position q
 * into the accumulator q mod 4, the last P mod 4 positions into the
 * first; the same bits), with the positions outermost: the sample is read
 * in memory order, all of a position's channels at once, where
 * channel_sums reads it once per 16 channels, every C floats (this is the
 * pass that brings the sample from memory) */
FAST_INLINE void s_group(const float *x, size_t P, size_t C, float *out, int ch0,
                         const int nb)
{
    __m512 a0[FAST_GROUP], a1[FAST_GROUP], a2[FAST_GROUP], a3[FAST_GROUP];
    for (int b = 0; b < nb; b++)
        a0[b] = a1[b] = a2[b] = a3[b] = _mm512_setzero_ps();
    const float *r = x + ch0;
    size_t q = 0;
    for (; q + 4 <= P; q += 4, r += 4 * C)
        for (int b = 0; b < nb; b++) {
            a0[b] = _mm512_add_ps(a0[b], _mm512_loadu_ps(r + 16 * b));
            a1[b] = _mm512_add_ps(a1[b], _mm512_loadu_ps(r + C + 16 * b));
            a2[b] = _mm512_add_ps(a2[b], _mm512_loadu_ps(r + 2 * C + 16 * b));
            a3[b] = _mm512_add_ps(a3[b], _mm512_loadu_ps(r + 3 * C + 16 * b));
        }
    for (; q < P; q++, r += C)
        for (int b = 0; b < nb; b++)
            a0[b] = _mm512_add_ps(a0[b], _mm512_loadu_ps(r + 16 * b));
    for (int b = 0; b < nb; b++)
        _mm512_storeu_ps(out + ch0 + 16 * b, _mm512_add_ps(_mm512_add_ps(a0[b], a1[b]),
                                                           _mm512_add_ps(a2[b], a3[b])));
}

__attribute__((target("avx512f"))) static void stats_fast(const block_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, P = (size_t)p->h * p->w;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * P * C;
        float *s = j->scratch + (size_t)n * 2 * C, *m2 = s + C;
        FAST_GROUPS(p->c, s_group, xn, P, C, s);
        FAST_GROUPS(p->c, m2_windows_group, j, n, s, m2);
    }
}

/* forward pass 2 (as finish_range) */
__attribute__((target("avx512f"))) static void finish_fast(const block_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, cells = (size_t)p->oh * p->ow;
    for (size_t ch = 0; ch < C; ch += 16) {
        const __m512 mu = _mm512_loadu_ps(j->mean + ch), inv = _mm512_loadu_ps(j->inv_std + ch);
        const __m512 g = _mm512_loadu_ps(j->gamma + ch), be = _mm512_loadu_ps(j->beta + ch);
        for (size_t q = (size_t)n0 * cells; q < (size_t)n1 * cells; q++) {
            float *yo = j->y + q * C + ch;
            int32_t *ao = j->argmax + q * C + ch;
            __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(yo), mu), inv);
            __m512 z = _mm512_add_ps(_mm512_mul_ps(g, h), be);
            __mmask16 pos = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ);
            _mm512_storeu_ps(yo, _mm512_maskz_mov_ps(pos, z));
            _mm512_storeu_si512(ao, _mm512_mask_mov_epi32(_mm512_set1_epi32(-1), pos,
                                                          _mm512_loadu_si512(ao)));
        }
    }
}

/* inference (as pool_range), channels [ch0, ch0 + 16 nb) of sample n */
FAST_INLINE void pool_group(const block_job *j, int n, int ch0, const int nb)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *xn = j->x + (size_t)n * in_size + ch0;
    __m512 mu[FAST_GROUP], inv[FAST_GROUP], g[FAST_GROUP], be[FAST_GROUP];
    for (int b = 0; b < nb; b++) {
        mu[b] = _mm512_loadu_ps(j->mean + ch0 + 16 * b);
        inv[b] = _mm512_loadu_ps(j->inv_std + ch0 + 16 * b);
        g[b] = _mm512_loadu_ps(j->gamma + ch0 + 16 * b);
        be[b] = _mm512_loadu_ps(j->beta + ch0 + 16 * b);
    }
    for (int oy = 0; oy < p->oh; oy++)
        for (int ox = 0; ox < p->ow; ox++) {
            float *yo = j->y + (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C + ch0;
            int y0, y1, x0, x1;
            window(p, oy, ox, &y0, &y1, &x0, &x1);
            __m512 m[FAST_GROUP];
            for (int b = 0; b < nb; b++)
                m[b] = _mm512_setzero_ps(); /* relu */
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const float *xc = xn + ((size_t)iy * p->w + ix) * C;
                    for (int b = 0; b < nb; b++) {
                        __m512 h = _mm512_mul_ps(
                            _mm512_sub_ps(_mm512_loadu_ps(xc + 16 * b), mu[b]), inv[b]);
                        __m512 z = _mm512_add_ps(_mm512_mul_ps(g[b], h), be[b]);
                        m[b] = _mm512_max_ps(z, m[b]); /* z > m ? z : m */
                    }
                }
            for (int b = 0; b < nb; b++)
                _mm512_storeu_ps(yo + 16 * b, m[b]);
        }
}

__attribute__((target("avx512f"))) static void pool_fast(const block_job *j, int n0, int n1)
{
    for (int n = n0; n < n1; n++)
        FAST_GROUPS(j->p->c, pool_group, j, n);
}

/* the backward's view of output o's window, channels [ch0, ch0 + 16 nb)
 * (o includes ch0): a = the argmax cell minus the lane's channel (so a
 * compare with the cell's offset finds the chosen lanes), d = dy */
FAST_INLINE void window_grads(const block_job *j, size_t o, const __m512i *lane, __m512i *a,
                              __m512 *d, const int nb)
{
    for (int b = 0; b < nb; b++) {
        a[b] = _mm512_sub_epi32(_mm512_loadu_si512(j->argmax_in + o + 16 * b), lane[b]);
        d[b] = _mm512_loadu_ps(j->dy + o + 16 * b);
    }
}

/* backward pass A of sample n, channels [ch0, ch0 + 16 nb): db and dg
 * of these channels into scratch[n] */
FAST_INLINE void sums_group(const block_job *j, int n, int ch0, const int nb)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *xn = j->x + (size_t)n * in_size + ch0;
    __m512 mu[FAST_GROUP], inv[FAST_GROUP], db[FAST_GROUP], dg[FAST_GROUP];
    __m512i lane[FAST_GROUP];
    for (int b = 0; b < nb; b++) {
        mu[b] = _mm512_loadu_ps(j->mean + ch0 + 16 * b);
        inv[b] = _mm512_loadu_ps(j->inv_std + ch0 + 16 * b);
        db[b] = dg[b] = _mm512_setzero_ps();
        lane[b] = lanes_from(ch0 + 16 * b);
    }
    for (int oy = 0; oy < p->oh; oy++)
        for (int ox = 0; ox < p->ow; ox++) {
            size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C + ch0;
            int y0, y1, x0, x1;
            window(p, oy, ox, &y0, &y1, &x0, &x1);
            __m512i a[FAST_GROUP];
            __m512 d[FAST_GROUP];
            window_grads(j, o, lane, a, d, nb);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const int32_t cell = (int32_t)(((size_t)iy * p->w + ix) * C);
                    const __m512i at = _mm512_set1_epi32(cell);
                    const float *xc = xn + cell;
                    for (int b = 0; b < nb; b++) {
                        __builtin_prefetch(xc + PF_AHEAD * C + 16 * b);
                        __mmask16 here = _mm512_cmpeq_epi32_mask(a[b], at);
                        __m512 g = _mm512_maskz_mov_ps(here, d[b]);
                        __m512 h = _mm512_mul_ps(
                            _mm512_sub_ps(_mm512_loadu_ps(xc + 16 * b), mu[b]), inv[b]);
                        db[b] = _mm512_add_ps(db[b], g);
                        dg[b] = _mm512_add_ps(dg[b], _mm512_mul_ps(g, h));
                    }
                }
        }
    float *s = j->scratch + (size_t)n * 2 * C + ch0;
    for (int b = 0; b < nb; b++) {
        _mm512_storeu_ps(s + 16 * b, db[b]);
        _mm512_storeu_ps(s + C + 16 * b, dg[b]);
    }
}

__attribute__((target("avx512f"))) static void sums_fast(const block_job *j, int n0, int n1)
{
    for (int n = n0; n < n1; n++)
        FAST_GROUPS(j->p->c, sums_group, j, n);
}

/* dx of `cells` cells from xc in no window: dz = 0 */
FAST_INLINE void dx_cells_fast(const float *xc, float *dxc, size_t cells, size_t C,
                               const __m512 *mu, const __m512 *c0, const __m512 *c1,
                               const int nb)
{
    for (size_t q = 0; q < cells; q++)
        for (int b = 0; b < nb; b++) {
            __m512 t = _mm512_sub_ps(_mm512_loadu_ps(xc + q * C + 16 * b), mu[b]);
            _mm512_storeu_ps(dxc + q * C + 16 * b, _mm512_fmadd_ps(c1[b], t, c0[b]));
        }
}

/* backward pass B of sample n, channels [ch0, ch0 + 16 nb) */
FAST_INLINE void dx_group(const block_job *j, int n, int ch0, const int nb)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    const float *xn = j->x + (size_t)n * in_size + ch0;
    float *dxn = j->dx + (size_t)n * in_size + ch0;
    __m512 mu[FAST_GROUP], k[FAST_GROUP], c0[FAST_GROUP], c1[FAST_GROUP];
    __m512i lane[FAST_GROUP];
    const __m512 inv_n = _mm512_set1_ps(j->inv_rows);
    for (int b = 0; b < nb; b++) {
        const int ch = ch0 + 16 * b;
        const __m512 inv = _mm512_loadu_ps(j->inv_std + ch);
        mu[b] = _mm512_loadu_ps(j->mean + ch);
        k[b] = _mm512_mul_ps(_mm512_loadu_ps(j->gamma + ch), inv);
        const __m512 kn = _mm512_mul_ps(k[b], inv_n), zero = _mm512_setzero_ps();
        c0[b] = _mm512_sub_ps(zero, _mm512_mul_ps(kn, _mm512_loadu_ps(j->dbeta + ch)));
        c1[b] = _mm512_sub_ps(
            zero, _mm512_mul_ps(_mm512_mul_ps(kn, _mm512_loadu_ps(j->dgamma + ch)), inv));
        lane[b] = lanes_from(ch);
    }
    for (int oy = 0; oy < p->oh; oy++)
        for (int ox = 0; ox < p->ow; ox++) {
            size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C + ch0;
            int y0, y1, x0, x1;
            window(p, oy, ox, &y0, &y1, &x0, &x1);
            __m512i a[FAST_GROUP];
            __m512 kd[FAST_GROUP];
            window_grads(j, o, lane, a, kd, nb);
            for (int b = 0; b < nb; b++)
                kd[b] = _mm512_mul_ps(k[b], kd[b]);
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    const int32_t cell = (int32_t)(((size_t)iy * p->w + ix) * C);
                    const __m512i at = _mm512_set1_epi32(cell);
                    for (int b = 0; b < nb; b++) {
                        __builtin_prefetch(xn + cell + PF_AHEAD * C + 16 * b);
                        __m512 t = _mm512_sub_ps(_mm512_loadu_ps(xn + cell + 16 * b), mu[b]);
                        __m512 r = _mm512_fmadd_ps(c1[b], t, c0[b]);
                        __mmask16 here = _mm512_cmpeq_epi32_mask(a[b], at);
                        _mm512_storeu_ps(dxn + cell + 16 * b,
                                         _mm512_mask_add_ps(r, here, r, kd[b]));
                    }
                }
        }
    /* the cells right of the last window column, then below the last
     * window row */
    const int rows = p->oh * p->sh < p->h ? p->oh * p->sh : p->h;
    const int cols = p->ow * p->sw < p->w ? p->ow * p->sw : p->w;
    for (int iy = 0; iy < rows && cols < p->w; iy++) {
        size_t cell = ((size_t)iy * p->w + cols) * C;
        dx_cells_fast(xn + cell, dxn + cell, (size_t)(p->w - cols), C, mu, c0, c1, nb);
    }
    if (rows < p->h) {
        size_t cell = (size_t)rows * p->w * C;
        dx_cells_fast(xn + cell, dxn + cell, (size_t)(p->h - rows) * p->w, C, mu, c0, c1, nb);
    }
}

__attribute__((target("avx512f"))) static void dx_fast(const block_job *j, int n0, int n1)
{
    for (int n = n0; n < n1; n++)
        FAST_GROUPS(j->p->c, dx_group, j, n);
}
#endif /* HAVE_FAST */

static int fast_allowed = 1;

void seqrt_bn_relu_maxpool_fast_allow(int allow)
{
    fast_allowed = allow != 0;
}

int seqrt_bn_relu_maxpool_fast(int c)
{
#if HAVE_FAST
    return fast_allowed && c > 0 && c % 16 == 0 && cpu_avx512();
#else
    (void)c;
    return 0;
#endif
}

/* the pass to run: the AVX-512 one where seqrt_bn_relu_maxpool_fast */
#if HAVE_FAST
#define PASS(c, fast, plain) (seqrt_bn_relu_maxpool_fast(c) ? (fast) : (plain))
#else
#define PASS(c, fast, plain) (plain)
#endif

/* ------------------------------------------------------- the calls */

/* The forward's two passes apart, for the synchronized kernel
 * (conv_block.h), which puts the statistics of every rank between them */
void seqrt_bn_relu_maxpool_partials(int batch, const seqrt_pool2d_shape *p, const float *x,
                                    const float *gamma, float *y, int32_t *argmax,
                                    float *scratch)
{
    block_job j = {.p = p, .batch = batch, .x = x, .gamma = gamma, .y = y, .argmax = argmax,
                   .scratch = scratch,
                   .range = PASS(p->c, stats_fast, stats_range)};
    block_run(&j);
}

void seqrt_bn_relu_maxpool_finish(int batch, const seqrt_pool2d_shape *p, const float *gamma,
                                  const float *beta, const float *stats, float *y,
                                  int32_t *argmax)
{
    block_job j = {.p = p, .batch = batch, .gamma = gamma, .beta = beta, .mean = stats,
                   .inv_std = stats + p->c, .y = y, .argmax = argmax,
                   .range = PASS(p->c, finish_fast, finish_range)};
    block_run(&j);
}

void seqrt_bn_relu_maxpool_forward_train(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *gamma,
                                         const float *beta, float *moving_mean,
                                         float *moving_var, float momentum, float eps,
                                         float *y, int32_t *argmax, float *stats,
                                         float *scratch)
{
    if (batch <= 0)
        return;
    const size_t C = (size_t)p->c, P = (size_t)p->h * p->w;
    seqrt_bn_relu_maxpool_partials(batch, p, x, gamma, y, argmax, scratch);

    /* the batch's mean and biased variance from the samples' sums, in
     * sample order: M2 = sum_n (M2_n + P (mean_n - mean)^2) */
    float *mu = stats, *inv_std = stats + C;
    const double rows = (double)batch * (double)P;
    IVDEP
    for (size_t ch = 0; ch < C; ch++) {
        double s = 0.0;
        for (int n = 0; n < batch; n++)
            s += scratch[(size_t)n * 2 * C + ch];
        double mean = s / rows, m2 = 0.0;
        for (int n = 0; n < batch; n++) {
            const float *sn = scratch + (size_t)n * 2 * C;
            double d = (double)sn[ch] / (double)P - mean;
            m2 += (double)sn[C + ch] + (double)P * d * d;
        }
        float m = (float)mean, var = (float)(m2 / rows);
        mu[ch] = m;
        moving_mean[ch] = moving_mean[ch] * momentum + m * (1.0f - momentum);
        moving_var[ch] = moving_var[ch] * momentum + var * (1.0f - momentum);
        inv_std[ch] = 1.0f / sqrtf(var + eps);
    }
    seqrt_bn_relu_maxpool_finish(batch, p, gamma, beta, stats, y, argmax);
}

void seqrt_bn_relu_maxpool_forward_infer(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *gamma,
                                         const float *beta, const float *moving_mean,
                                         const float *moving_var, float eps, float *y,
                                         float *scratch)
{
    if (batch <= 0)
        return;
    /* inv_std of the moving variance in the scratch's first 2c floats
     * (the mean is the moving mean itself) */
    const size_t C = (size_t)p->c;
    float *inv_std = scratch;
    IVDEP
    for (size_t ch = 0; ch < C; ch++)
        inv_std[ch] = 1.0f / sqrtf(moving_var[ch] + eps);
    block_job j = {.p = p, .batch = batch, .x = x, .gamma = gamma, .beta = beta,
                   .mean = moving_mean, .inv_std = inv_std, .y = y,
                   .range = PASS(p->c, pool_fast, pool_range)};
    block_run(&j);
}

/* The backward's two passes apart, for the synchronized kernel
 * (conv_block.h): this rank's sums, then dx from the totals it is given */
void seqrt_bn_relu_maxpool_backward_sums(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *stats,
                                         const int32_t *argmax, const float *dy,
                                         float *dgamma, float *dbeta, float *scratch)
{
    const size_t C = (size_t)p->c;
    if (batch <= 0) {
        memset(dgamma, 0, C * sizeof *dgamma);
        memset(dbeta, 0, C * sizeof *dbeta);
        return;
    }
    const float *mu = stats, *inv_std = stats + C;
    block_job j = {.p = p, .batch = batch, .x = x, .mean = mu, .inv_std = inv_std, .dy = dy,
                   .argmax_in = argmax, .scratch = scratch,
                   .range = PASS(p->c, sums_fast, sums_range)};
    block_run(&j);
    IVDEP
    for (size_t ch = 0; ch < C; ch++) {
        float b = 0.0f, g = 0.0f;
        for (int n = 0; n < batch; n++) {
            b += scratch[(size_t)n * 2 * C + ch];
            g += scratch[(size_t)n * 2 * C + C + ch];
        }
        dbeta[ch] = b;
        dgamma[ch] = g;
    }
}

void seqrt_bn_relu_maxpool_backward_dx(int batch, const seqrt_pool2d_shape *p, const float *x,
                                       const float *gamma, const float *stats,
                                       const int32_t *argmax, const float *dy,
                                       const float *dgamma, const float *dbeta, float inv_rows,
                                       float *dx)
{
    block_job j = {.p = p, .batch = batch, .x = x, .gamma = gamma, .mean = stats,
                   .inv_std = stats + p->c, .dy = dy, .argmax_in = argmax, .dbeta = dbeta,
                   .dgamma = dgamma, .dx = dx, .inv_rows = inv_rows,
                   .range = PASS(p->c, dx_fast, dx_range)};
    block_run(&j);
}

void seqrt_bn_relu_maxpool_backward(int batch, const seqrt_pool2d_shape *p, const float *x,
                                    const float *gamma, const float *stats,
                                    const int32_t *argmax, const float *dy, float *dx,
                                    float *dgamma, float *dbeta, float *scratch)
{
    seqrt_bn_relu_maxpool_backward_sums(batch, p, x, stats, argmax, dy, dgamma, dbeta, scratch);
    if (batch <= 0 || !dx)
        return;
    seqrt_bn_relu_maxpool_backward_dx(
        batch, p, x, gamma, stats, argmax, dy, dgamma, dbeta,
        1.0f / (float)((size_t)batch * (size_t)p->h * (size_t)p->w), dx);
}
