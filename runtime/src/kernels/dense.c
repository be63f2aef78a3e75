/* dense.c: the fully connected layer, y = x W + b, forward and backward.
 * All matrices row-major.
 *
 * y = x W and dW = x^T dy go through libseqrt's own kernels (gemm.c) on
 * CPUs that have them, split over the runtime's threads (parallel.c) when
 * the product is large enough to pay for the hand-off. Both split W's
 * rows (the input features) into the same ranges, multiples of 16 rows,
 * so each core reads and writes the same part of W, dW (and, mostly, of
 * the Adam state) step after step and it stays in that core's L2.
 * Splitting y = x W by output columns instead made every step move half
 * of W between the cores: with 2 threads the step was slower than with
 * one. The row split makes each part a partial sum of y; part 0 writes y
 * (bias included), the others a scratch buffer, and y gets the partial
 * sums added in part order, so the result depends on the thread count
 * but on nothing else.
 *
 * dx = dy W^T (skipped for the first layer, the large one) is small: W is
 * transposed into scratch and the same y = x W kernel runs on it. It used
 * to be a CBLAS call; with none left in a step on these CPUs, OpenBLAS's
 * own threads stay asleep (they spun in sched_yield on the other core,
 * right where the runtime's worker runs). Without the kernels, CBLAS
 * (OpenBLAS) sgemm does all three products. dx = dy W^T, small in the models seen so far (it is
 * skipped for the first layer, the large one), is always CBLAS. */
#include "seqrt.h"

#include "kernels/gemm.h"
#include "loop/parallel.h"

#include <cblas.h>

/* Multiply-adds below which a product runs on the calling thread alone:
 * handing a job to a worker and joining it costs about a microsecond;
 * the tutorial's second layer (32x128x64, 262k) gains nothing measurable
 * from the split, the first (32x784x128, 3.2M) halves. */
#define SPLIT_MIN_MACS ((size_t)1 << 19)

static int split(int batch, int in, int out)
{
    return seqrt_parallel_parts() > 1 &&
           (size_t)batch * (size_t)in * (size_t)out >= SPLIT_MIN_MACS;
}

typedef struct dense_job {
    int          batch, in, out;
    const float *x, *w, *b, *dy;
    float       *y, *dw;
    float       *partial; /* [parts - 1][batch, out]: the parts after the first */
} dense_job;

/* y (part 0) or partial[part - 1] = (b) + x[:, lo:hi) w[lo:hi, :] */
static void forward_part(void *arg, int part, int parts)
{
    const dense_job *j = arg;
    size_t lo, hi;
    seqrt_parallel_range((size_t)j->in, 16, part, parts, &lo, &hi);
    float *out = part == 0 ? j->y : j->partial + (size_t)(part - 1) * j->batch * j->out;
    const float *b = part == 0 ? j->b : NULL;
    if (lo < hi)
        seqrt_gemm_xw_k(j->batch, j->out, j->in, j->x + lo, j->w + lo * (size_t)j->out,
                        (int)(hi - lo), b, out);
    else
        seqrt_gemm_xw_k(j->batch, j->out, j->in, j->x, j->w, 0, b, out);
}

static void dw_part(void *arg, int part, int parts)
{
    const dense_job *j = arg;
    size_t lo, hi;
    /* rows of dW: 16 rows are a multiple of 16 floats whatever `out` is */
    seqrt_parallel_range((size_t)j->in, 16, part, parts, &lo, &hi);
    if (lo < hi)
        seqrt_gemm_xtdy(j->batch, j->in, j->out, j->x, j->dy, j->dw, (int)lo, (int)hi);
}

/* x[batch,in], w[in,out], b[out] or NULL, y[batch,out].
 * On the CBLAS path with a bias, y is first filled with b row by row and
 * sgemm accumulates into it (beta = 1). */
void seqrt_dense_forward(int batch, int in, int out, const float *x,
                         const float *w, const float *b, float *y)
{
    if (seqrt_gemm_available()) {
        dense_job j = {.batch = batch, .in = in, .out = out, .x = x, .w = w, .b = b, .y = y};
        if (!split(batch, in, out)) {
            forward_part(&j, 0, 1);
            return;
        }
        int parts = seqrt_parallel_parts();
        size_t size = (size_t)batch * (size_t)out;
        j.partial = seqrt_parallel_scratch((size_t)(parts - 1) * size);
        seqrt_parallel(forward_part, &j);
        for (int p = 1; p < parts; p++) {
            const float *q = j.partial + (size_t)(p - 1) * size;
            for (size_t i = 0; i < size; i++)
                y[i] += q[i];
        }
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
    /* dw = x^T dy */
    if (seqrt_gemm_available()) {
        dense_job j = {.batch = batch, .in = in, .out = out, .x = x, .dy = dy, .dw = dw};
        if (split(batch, in, out))
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
    if (seqrt_gemm_available()) {
        float *wt = seqrt_parallel_scratch((size_t)in * (size_t)out); /* [out,in] */
        for (int i = 0; i < in; i++)
            for (int j = 0; j < out; j++)
                wt[(size_t)j * in + i] = w[(size_t)i * out + j];
        seqrt_gemm_xw_k(batch, in, out, dy, wt, out, NULL, dx);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out,
                    1.0f, dy, out, w, out, 0.0f, dx, in);
    }
}
