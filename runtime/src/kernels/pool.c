/*
 * pool.c: max and average pooling over NHWC images, and the global pools.
 *
 * Windows follow Keras: output cell (oy, ox) covers input rows
 * oy*sh - pad_top + [0, ph) and columns ox*sw - pad_left + [0, pw);
 * cells outside the input (the `same` padding) never win a max and are
 * not counted in an average. With the pads Keras's rule gives every
 * window holds at least one input cell; a window that holds none (a shape
 * no compiler should produce) gives 0 and argmax -1, and passes no
 * gradient.
 *
 * The loops keep the channel innermost, so every read and write is a
 * contiguous run of c floats and vectorizes. The backward passes add into
 * dx in the forward's order (output cells ascending), so overlapping
 * windows (stride < pool size) sum in a fixed order.
 *
 * Speed, one Zen 5 core, the CNN's first pool (maxpool2d 2 on
 * [32, 28, 28, 32]): the forward took 0.44 ms while the max's two
 * conditional stores (value and argmax) kept GCC from vectorizing; with
 * both stores unconditional (compare and blend) and AVX-512 clones
 * (simd.h), 0.19 ms; the backward 0.13-0.16 ms. That is as much as the
 * first convolution's forward, so the windowed pools split the batch over
 * the threads too.
 */
#include "seqrt.h"

#include "kernels/parts.h"
#include "kernels/simd.h"

#include <string.h>

/* the window's valid rows [*y0, *y1) and columns [*x0, *x1) */
static void window(const seqrt_pool2d_shape *p, int oy, int ox, int *y0, int *y1, int *x0,
                   int *x1)
{
    int a = oy * p->sh - p->pad_top, b = ox * p->sw - p->pad_left;
    *y0 = a < 0 ? 0 : a;
    *y1 = a + p->ph > p->h ? p->h : a + p->ph;
    *x0 = b < 0 ? 0 : b;
    *x1 = b + p->pw > p->w ? p->w : b + p->pw;
}

/* The windowed pools split the batch over the threads by samples
 * (seqrt_parallel_samples): each sample's outputs depend on that sample
 * alone, so the bits are the same for any split. */
typedef struct pool_job {
    const seqrt_pool2d_shape *p;
    int                       batch;
    const float              *x, *dy;
    const int32_t            *argmax_in;
    float                    *y, *dx;
    int32_t                  *argmax;
    void (*range)(const struct pool_job *j, int n0, int n1);
} pool_job;

static void pool_samples(const void *job, int n0, int n1)
{
    const pool_job *j = job;
    j->range(j, n0, n1);
}

static void pool_run(pool_job *j)
{
    size_t floats = (size_t)j->batch * j->p->h * j->p->w * j->p->c;
    seqrt_parallel_samples(j->batch, floats, pool_samples, j);
}

SEQRT_CLONES static void maxpool_forward_range(const pool_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_size;
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                size_t o = (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                float *yo = j->y + o;
                int32_t *ao = j->argmax + o;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                if (y0 >= y1 || x0 >= x1) {
                    for (size_t ch = 0; ch < C; ch++) {
                        yo[ch] = 0.0f;
                        ao[ch] = -1;
                    }
                    continue;
                }
                /* the first cell seeds the max; later cells replace it
                 * only when strictly larger: the first maximum wins */
                size_t first = ((size_t)y0 * p->w + x0) * C;
                for (size_t ch = 0; ch < C; ch++) {
                    yo[ch] = xn[first + ch];
                    ao[ch] = (int32_t)(first + ch);
                }
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        size_t cell = ((size_t)iy * p->w + ix) * C;
                        const float *xc = xn + cell;
                        /* both stores unconditional: the loop becomes
                         * vector compares and blends */
                        for (size_t ch = 0; ch < C; ch++) {
                            int gt = xc[ch] > yo[ch];
                            ao[ch] = gt ? (int32_t)(cell + ch) : ao[ch];
                            yo[ch] = gt ? xc[ch] : yo[ch];
                        }
                    }
            }
    }
}

void seqrt_maxpool2d_forward(int batch, const seqrt_pool2d_shape *p, const float *x,
                             float *y, int32_t *argmax)
{
    pool_job j = {.p = p, .batch = batch, .x = x, .y = y, .argmax = argmax,
                  .range = maxpool_forward_range};
    pool_run(&j);
}

static void maxpool_backward_range(const pool_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t in_size = (size_t)p->h * p->w * p->c;
    const size_t out_size = (size_t)p->oh * p->ow * p->c;
    for (int n = n0; n < n1; n++) {
        float *dxn = j->dx + (size_t)n * in_size;
        const int32_t *an = j->argmax_in + (size_t)n * out_size;
        const float *dyn = j->dy + (size_t)n * out_size;
        memset(dxn, 0, in_size * sizeof *dxn);
        for (size_t i = 0; i < out_size; i++)
            if (an[i] >= 0)
                dxn[an[i]] += dyn[i];
    }
}

void seqrt_maxpool2d_backward(int batch, const seqrt_pool2d_shape *p,
                              const int32_t *argmax, const float *dy, float *dx)
{
    pool_job j = {.p = p, .batch = batch, .argmax_in = argmax, .dy = dy, .dx = dx,
                  .range = maxpool_backward_range};
    pool_run(&j);
}

SEQRT_CLONES static void avgpool_forward_range(const pool_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    for (int n = n0; n < n1; n++) {
        const float *xn = j->x + (size_t)n * in_size;
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                float *yo = j->y + (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                for (size_t ch = 0; ch < C; ch++)
                    yo[ch] = 0.0f;
                if (y0 >= y1 || x0 >= x1)
                    continue;
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        const float *xc = xn + ((size_t)iy * p->w + ix) * C;
                        for (size_t ch = 0; ch < C; ch++)
                            yo[ch] += xc[ch];
                    }
                const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (size_t ch = 0; ch < C; ch++)
                    yo[ch] *= inv;
            }
    }
}

void seqrt_avgpool2d_forward(int batch, const seqrt_pool2d_shape *p, const float *x,
                             float *y)
{
    pool_job j = {.p = p, .batch = batch, .x = x, .y = y, .range = avgpool_forward_range};
    pool_run(&j);
}

SEQRT_CLONES static void avgpool_backward_range(const pool_job *j, int n0, int n1)
{
    const seqrt_pool2d_shape *p = j->p;
    const size_t C = (size_t)p->c, in_size = (size_t)p->h * p->w * C;
    const size_t out_size = (size_t)p->oh * p->ow * C;
    for (int n = n0; n < n1; n++) {
        float *dxn = j->dx + (size_t)n * in_size;
        memset(dxn, 0, in_size * sizeof *dxn);
        for (int oy = 0; oy < p->oh; oy++)
            for (int ox = 0; ox < p->ow; ox++) {
                const float *dyo = j->dy + (size_t)n * out_size + ((size_t)oy * p->ow + ox) * C;
                int y0, y1, x0, x1;
                window(p, oy, ox, &y0, &y1, &x0, &x1);
                if (y0 >= y1 || x0 >= x1)
                    continue;
                const float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float *dc = dxn + ((size_t)iy * p->w + ix) * C;
                        for (size_t ch = 0; ch < C; ch++)
                            dc[ch] += dyo[ch] * inv;
                    }
            }
    }
}

void seqrt_avgpool2d_backward(int batch, const seqrt_pool2d_shape *p, const float *dy,
                              float *dx)
{
    pool_job j = {.p = p, .batch = batch, .dy = dy, .dx = dx, .range = avgpool_backward_range};
    pool_run(&j);
}

SEQRT_CLONES void seqrt_global_avgpool2d_forward(int batch, int hw, int c, const float *x, float *y)
{
    const size_t C = (size_t)c;
    const float inv = 1.0f / (float)hw;
    for (int n = 0; n < batch; n++) {
        const float *xn = x + (size_t)n * hw * C;
        float *yn = y + (size_t)n * C;
        for (size_t ch = 0; ch < C; ch++)
            yn[ch] = 0.0f;
        for (int q = 0; q < hw; q++)
            for (size_t ch = 0; ch < C; ch++)
                yn[ch] += xn[(size_t)q * C + ch];
        for (size_t ch = 0; ch < C; ch++)
            yn[ch] *= inv;
    }
}

SEQRT_CLONES void seqrt_global_avgpool2d_backward(int batch, int hw, int c, const float *dy, float *dx)
{
    const size_t C = (size_t)c;
    const float inv = 1.0f / (float)hw;
    for (int n = 0; n < batch; n++) {
        const float *dyn = dy + (size_t)n * C;
        float *dxn = dx + (size_t)n * hw * C;
        for (int q = 0; q < hw; q++)
            for (size_t ch = 0; ch < C; ch++)
                dxn[(size_t)q * C + ch] = dyn[ch] * inv;
    }
}

SEQRT_CLONES void seqrt_global_maxpool2d_forward(int batch, int hw, int c, const float *x, float *y,
                                    int32_t *argmax)
{
    const size_t C = (size_t)c;
    for (int n = 0; n < batch; n++) {
        const float *xn = x + (size_t)n * hw * C;
        float *yn = y + (size_t)n * C;
        int32_t *an = argmax + (size_t)n * C;
        for (size_t ch = 0; ch < C; ch++) {
            yn[ch] = xn[ch];
            an[ch] = (int32_t)ch;
        }
        for (int q = 1; q < hw; q++)
            for (size_t ch = 0; ch < C; ch++) {
                size_t i = (size_t)q * C + ch;
                if (xn[i] > yn[ch]) {
                    yn[ch] = xn[i];
                    an[ch] = (int32_t)i;
                }
            }
    }
}

void seqrt_global_maxpool2d_backward(int batch, int hw, int c, const int32_t *argmax,
                                     const float *dy, float *dx)
{
    const size_t C = (size_t)c;
    memset(dx, 0, (size_t)batch * hw * C * sizeof *dx);
    for (int n = 0; n < batch; n++) {
        float *dxn = dx + (size_t)n * hw * C;
        for (size_t ch = 0; ch < C; ch++)
            dxn[argmax[(size_t)n * C + ch]] = dy[(size_t)n * C + ch];
    }
}
