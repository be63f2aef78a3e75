/* dense.c: the fully connected layer, y = x W + b, forward and backward.
 * All matrices row-major.
 *
 * y = x W, dW = x^T dy and dx = dy W^T go through libseqrt's own kernels
 * (gemm.c) unless SEQRT_KERNELS=blas asks for CBLAS (OpenBLAS) sgemm.
 *
 * Threads. A product large enough to pay for the hand-off is split over
 * the runtime's threads (kernels/parts.h). Both large products split W's rows
 * (the input features), in multiples of 16 rows, so each core reads and
 * writes the same part of W, dW (and, mostly, of the Adam state) step
 * after step and it stays in that core's L2. Splitting y = x W by output
 * columns instead made every step move half of W between the cores: with
 * 2 threads the step was slower than with one.
 *
 * Splitting W's rows makes y = x W a sum of partial products, and the
 * result must not depend on the thread count (a run on another machine
 * must give the same weights). So the inner dimension is cut into
 * K_CHUNKS fixed chunks, by the shape alone, whatever the thread count:
 * each chunk's partial product is summed from 0 (chunk 0 from the bias)
 * and y = ((p0 + p1) + p2) + p3, always in that order. The threads take
 * contiguous runs of chunks; the run that starts at chunk 0 adds its
 * chunks into y as it goes (the kernel's `add`), every other chunk goes to
 * its own scratch slot, added to y after the join in chunk order. One
 * thread does all four into y, with no scratch. dW needs no such care:
 * each element is one sum over the batch, whichever thread computes it.
 *
 * dx = dy W^T (skipped for the first layer, the large one) is small: W is
 * transposed into scratch and the same y = x W kernel runs on it. It used
 * to be a CBLAS call; with none left in a step, OpenBLAS's own threads
 * stay asleep (they spun in sched_yield on the other core, right where the
 * runtime's worker runs). */
#include "seqrt.h"

#include "kernels/gemm.h"
#include "kernels/parts.h"

#include <cblas.h>

/* Multiply-adds from which y = x W is cut into chunks and a product is
 * split over the threads: handing a job to a worker and joining it costs
 * about a microsecond; the tutorial's second layer (32x128x64, 262k)
 * gains nothing measurable from the split, the first (32x784x128, 3.2M)
 * halves. A function of the shape alone, so the sums' order is too. */
#define SPLIT_MIN_MACS ((size_t)1 << 19)

static int large(int batch, int in, int out)
{
    return (size_t)batch * (size_t)in * (size_t)out >= SPLIT_MIN_MACS;
}

/* Chunks of y = x W's inner dimension: K_CHUNKS (gemm.h) for a large
 * product, fewer when k has fewer 16-row units, 1 for a small product. */
static int k_chunks(int batch, int in, int out)
{
    int units = (in + 15) / 16;
    if (!large(batch, in, out))
        return 1;
    return units < SEQRT_DENSE_K_CHUNKS ? units : SEQRT_DENSE_K_CHUNKS;
}

/* Rows [*lo, *hi) of chunk c of `chunks`: multiples of 16, in order. */
static void chunk_rows(int in, int chunks, int c, size_t *lo, size_t *hi)
{
    size_t units = ((size_t)in + 15) / 16;
    size_t per = (units + (size_t)chunks - 1) / (size_t)chunks;
    size_t a = (size_t)c * per * 16, b = a + per * 16;
    *lo = a < (size_t)in ? a : (size_t)in;
    *hi = b < (size_t)in ? b : (size_t)in;
}

typedef struct dense_job {
    const seqrt_gemm_ops *g;
    int          batch, in, out, chunks;
    const float *x, *w, *b, *dy;
    float       *y, *dw;
    float       *partial; /* [chunks - 1][batch, out]: chunk c >= 1 in slot c - 1 */
} dense_job;

/* The chunks [*c0, *c1) that part `part` of `parts` computes. */
static void part_chunks(int chunks, int part, int parts, size_t *c0, size_t *c1)
{
    seqrt_parallel_range((size_t)chunks, 1, part, parts, c0, c1);
}

static void forward_part(void *arg, int part, int parts)
{
    const dense_job *j = arg;
    size_t c0, c1;
    part_chunks(j->chunks, part, parts, &c0, &c1);
    for (size_t c = c0; c < c1; c++) {
        size_t lo, hi;
        chunk_rows(j->in, j->chunks, (int)c, &lo, &hi);
        /* the run from chunk 0 continues y's sum; any other chunk starts
         * its own in its slot */
        float *out = c0 == 0 ? j->y : j->partial + (c - 1) * (size_t)j->batch * j->out;
        j->g->xw(j->batch, j->out, j->in, j->x + lo, j->w + lo * (size_t)j->out,
                 (int)(hi - lo), c == 0 ? j->b : NULL, out, c0 == 0 && c > 0);
    }
}

static void dw_part(void *arg, int part, int parts)
{
    const dense_job *j = arg;
    size_t lo, hi;
    /* rows of dW: 16 rows are a multiple of 16 floats whatever `out` is */
    seqrt_parallel_range((size_t)j->in, 16, part, parts, &lo, &hi);
    if (lo < hi)
        j->g->xtdy(j->batch, j->in, j->out, j->x, j->dy, j->dw, (int)lo, (int)hi);
}

/* y = x W + b on our kernels; the same bits for every thread count. */
static void forward_own(const seqrt_gemm_ops *g, int batch, int in, int out,
                        const float *x, const float *w, const float *b, float *y)
{
    dense_job j = {.g = g, .batch = batch, .in = in, .out = out, .x = x, .w = w, .b = b,
                   .y = y, .chunks = k_chunks(batch, in, out)};
    int parts = seqrt_parallel_parts();
    if (j.chunks == 1 || parts == 1) {
        forward_part(&j, 0, 1);
        return;
    }
    size_t size = (size_t)batch * (size_t)out;
    j.partial = seqrt_parallel_scratch((size_t)(j.chunks - 1) * size);
    seqrt_parallel(forward_part, &j);
    /* chunks after the run from chunk 0 (that of the last part) */
    size_t c0, c1;
    part_chunks(j.chunks, parts - 1, parts, &c0, &c1);
    for (size_t c = c1; c < (size_t)j.chunks; c++) {
        const float *q = j.partial + (c - 1) * size;
        for (size_t i = 0; i < size; i++)
            y[i] += q[i];
    }
}

/* x[batch,in], w[in,out], b[out] or NULL, y[batch,out].
 * On the CBLAS path with a bias, y is first filled with b row by row and
 * sgemm accumulates into it (beta = 1). */
void seqrt_dense_forward(int batch, int in, int out, const float *x,
                         const float *w, const float *b, float *y)
{
    const seqrt_gemm_ops *g = seqrt_gemm_kernels();
    if (g) {
        forward_own(g, batch, in, out, x, w, b, y);
        return;
    }
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < batch; i++) {
            float *row = y + (size_t)i * out;
            for (int j = 0; j < out; j++)
                row[j] = b[j];
        }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in,
                1.0f, x, in, w, out, beta, y, out);
}

/* x[batch,in], w[in,out], dy[batch,out];
 * dx[batch,in] or NULL, dw[in,out], db[out] or NULL. */
void seqrt_dense_backward(int batch, int in, int out, const float *x,
                          const float *w, const float *dy, float *dx,
                          float *dw, float *db)
{
    const seqrt_gemm_ops *g = seqrt_gemm_kernels();

    /* dw = x^T dy */
    if (g) {
        dense_job j = {.g = g, .batch = batch, .in = in, .out = out, .x = x, .dy = dy, .dw = dw};
        if (large(batch, in, out) && seqrt_parallel_parts() > 1)
            seqrt_parallel(dw_part, &j);
        else
            dw_part(&j, 0, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch,
                    1.0f, x, in, dy, out, 0.0f, dw, out);
    }

    /* db = column sums of dy, read row by row (contiguous) */
    if (db) {
        for (int j = 0; j < out; j++)
            db[j] = 0.0f;
        for (int i = 0; i < batch; i++) {
            const float *row = dy + (size_t)i * out;
            for (int j = 0; j < out; j++)
                db[j] += row[j];
        }
    }

    /* dx = dy w^T */
    if (!dx)
        return;
    if (g) {
        float *wt = seqrt_parallel_scratch((size_t)in * (size_t)out); /* [out,in] */
        for (int i = 0; i < in; i++)
            for (int j = 0; j < out; j++)
                wt[(size_t)j * in + i] = w[(size_t)i * out + j];
        g->xw(batch, in, out, dy, wt, out, NULL, dx, 0);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out,
                    1.0f, dy, out, w, out, 0.0f, dx, in);
    }
}
