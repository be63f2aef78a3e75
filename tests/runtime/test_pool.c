/* test_pool.c: max and average pooling and the global pools
 * (runtime/src/kernels/pool.c), NHWC with Keras's `same` padding (padded
 * cells never win a max and are not counted in an average): the forward
 * against a reference written here in double and against values PyTorch
 * computed; argmax and its first-maximum rule; dx against double-precision
 * finite differences at odd shapes (odd sizes that drop a row, `same`
 * padding on one side and on both, overlapping windows, non-square pools,
 * 1 and 3 channels, batches 1 and 3). */
#include "kernel_test.h"

#include "kernels/parts.h"
#include "seqrt.h"

#include <string.h>

typedef struct pool_case {
    int batch, h, w, c, ph, pw, sh, sw, same;
} pool_case;

/* Keras's rule, written here apart from the compiler's (see test_conv.c) */
static void keras_dim(int in, int k, int s, int same, int *out, int *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

static seqrt_pool2d_shape shape_of(const pool_case *k)
{
    seqrt_pool2d_shape p = {.h = k->h, .w = k->w, .c = k->c, .ph = k->ph, .pw = k->pw,
                            .sh = k->sh, .sw = k->sw};
    keras_dim(k->h, k->ph, k->sh, k->same, &p.oh, &p.pad_top);
    keras_dim(k->w, k->pw, k->sw, k->same, &p.ow, &p.pad_left);
    return p;
}

static const pool_case cases[] = {
    /*  N  h  w  c ph pw sh sw same */
    {3, 6, 5, 2, 2, 2, 2, 2, 0}, /* valid: the odd last column is dropped */
    {1, 5, 5, 3, 2, 2, 2, 2, 1}, /* same: one padded row/column, bottom/right */
    {3, 7, 6, 1, 3, 3, 2, 2, 1}, /* overlapping windows, same */
    {1, 4, 7, 3, 2, 3, 1, 2, 0}, /* non-square pool and strides */
    {3, 5, 4, 2, 3, 3, 1, 1, 1}, /* same, stride 1: padded on both sides */
};
#define N_CASES (sizeof cases / sizeof cases[0])

static size_t n_in(const pool_case *k)
{
    return (size_t)k->batch * k->h * k->w * k->c;
}

static size_t n_out(const pool_case *k, const seqrt_pool2d_shape *p)
{
    return (size_t)k->batch * p->oh * p->ow * p->c;
}

/* the pool of output (n, oy, ox, ch) by the definition: max (or mean)
 * over the window's cells that lie inside the image */
static double ref_at(const seqrt_pool2d_shape *p, const double *x, int n, int oy, int ox,
                     int ch, int is_max)
{
    double best = -INFINITY, sum = 0.0;
    int count = 0;
    for (int ky = 0; ky < p->ph; ky++)
        for (int kx = 0; kx < p->pw; kx++) {
            int iy = oy * p->sh - p->pad_top + ky, ix = ox * p->sw - p->pad_left + kx;
            if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                continue;
            double v = x[(((size_t)n * p->h + iy) * p->w + ix) * p->c + ch];
            best = v > best ? v : best;
            sum += v;
            count++;
        }
    assert_true(count > 0);
    return is_max ? best : sum / count;
}

typedef struct pool_ctx {
    seqrt_pool2d_shape p;
    int batch, is_max;
    double *x, *r;
} pool_ctx;

static double pool_loss(void *arg)
{
    const pool_ctx *k = arg;
    double total = 0.0;
    size_t i = 0;
    for (int n = 0; n < k->batch; n++)
        for (int oy = 0; oy < k->p.oh; oy++)
            for (int ox = 0; ox < k->p.ow; ox++)
                for (int ch = 0; ch < k->p.c; ch++)
                    total += ref_at(&k->p, k->x, n, oy, ox, ch, k->is_max) * k->r[i++];
    return total;
}

static void pool_forward_reference(void **state)
{
    (void)state;
    trand r = {61};
    for (size_t s = 0; s < N_CASES; s++) {
        const pool_case *k = &cases[s];
        seqrt_pool2d_shape p = shape_of(k);
        size_t nin = n_in(k), nout = n_out(k, &p), per = (size_t)k->h * k->w * k->c;
        float *x = frand(&r, nin, -1, 1), *ym = falloc(nout), *ya = falloc(nout);
        int32_t *arg = malloc(nout * sizeof *arg);
        assert_non_null(arg);
        double *xd = widen(x, nin);
        seqrt_maxpool2d_forward(k->batch, &p, x, ym, arg);
        seqrt_avgpool2d_forward(k->batch, &p, x, ya);
        size_t i = 0;
        for (int n = 0; n < k->batch; n++)
            for (int oy = 0; oy < p.oh; oy++)
                for (int ox = 0; ox < p.ow; ox++)
                    for (int ch = 0; ch < p.c; ch++, i++) {
                        assert_close(ym[i], ref_at(&p, xd, n, oy, ox, ch, 1), 0);
                        assert_close(ya[i], ref_at(&p, xd, n, oy, ox, ch, 0), 1e-6);
                        /* argmax: an index within the sample, of this
                         * channel, holding the max */
                        assert_true(arg[i] >= 0 && (size_t)arg[i] < per);
                        assert_int_equal(arg[i] % k->c, ch);
                        assert_true(x[(size_t)n * per + (size_t)arg[i]] == ym[i]);
                    }
        free(x); free(ym); free(ya); free(arg); free(xd);
    }
}

/* ties: the first maximum in the window (rows, then columns) wins, and
 * only it receives the gradient */
static void maxpool_ties_first(void **state)
{
    (void)state;
    /* one sample, 2x3x1, pool 2x3 valid: one window, 5 at (0,1) and (1,0) */
    const float x[6] = {1, 5, 2, 5, 0, 3};
    seqrt_pool2d_shape p = {.h = 2, .w = 3, .c = 1, .ph = 2, .pw = 3, .sh = 2, .sw = 3,
                            .oh = 1, .ow = 1};
    float y, dx[6];
    int32_t arg;
    seqrt_maxpool2d_forward(1, &p, x, &y, &arg);
    assert_close(y, 5.0, 0);
    assert_int_equal(arg, 1);
    const float dy = 2.5f;
    seqrt_maxpool2d_backward(1, &p, &arg, &dy, dx);
    const float want[6] = {0, 2.5f, 0, 0, 0, 0};
    assert_memory_equal(dx, want, sizeof want);
    /* the global max has the same rule: channel 1 ties at positions 0 and 2 */
    const float g[6] = {1, 4, 3, 2, 2, 4}; /* hw 3, c 2 */
    float gy[2];
    int32_t ga[2];
    seqrt_global_maxpool2d_forward(1, 3, 2, g, gy, ga);
    assert_close(gy[0], 3.0, 0);
    assert_close(gy[1], 4.0, 0);
    assert_int_equal(ga[0], 2); /* channel 0: 1, 3, 2 */
    assert_int_equal(ga[1], 1);
}

/* PyTorch 1.13's max_pool2d and avg_pool2d on NCHW permutes, the `same`
 * padding as an explicit F.pad (-inf for max; for the average, a sum over
 * the zero-padded input divided by the count of real cells, which is
 * avg_pool2d(count_include_pad=False) for asymmetric pads); inputs value
 * i = ((7 i) mod 11 - 5) / 5; from tests/runtime/conv_pool_torch.py */
static void pool_forward_torch(void **state)
{
    (void)state;
    static const pool_case tc[] = {
        {2, 5, 5, 2, 2, 2, 2, 2, 1},
        {1, 7, 6, 3, 3, 3, 2, 2, 1},
        {2, 6, 5, 2, 2, 2, 2, 2, 0},
    };
    static const struct {
        int    index;
        double max, avg;
    } want[3][5] = {
        {{0, 0.4, -0.3}, {1, 1.0, 0.0}, {12, 0.6, 0.3}, {18, 0.8, -0.15}, {35, -1.0, -1.0}},
        {{0, 1.0, 0.033333333}, {1, 1.0, -0.033333333}, {12, 0.6, -0.333333333},
         {18, 0.8, -0.133333333}, {35, 0.4, -0.2}},
        {{0, NAN, -0.3}, {1, NAN, 0.0}, {8, NAN, 0.15}, {12, NAN, 0.1}, {23, NAN, -0.15}},
    };
    static const size_t want_n[3] = {36, 36, 24};
    for (int s = 0; s < 3; s++) {
        const pool_case *k = &tc[s];
        seqrt_pool2d_shape p = shape_of(k);
        size_t nin = n_in(k), nout = n_out(k, &p);
        assert_int_equal(nout, want_n[s]);
        float *x = falloc(nin), *ym = falloc(nout), *ya = falloc(nout);
        int32_t *arg = malloc(nout * sizeof *arg);
        assert_non_null(arg);
        for (size_t i = 0; i < nin; i++)
            x[i] = (float)((double)((long)(i * 7 % 11) - 5) / 5);
        seqrt_maxpool2d_forward(k->batch, &p, x, ym, arg);
        seqrt_avgpool2d_forward(k->batch, &p, x, ya);
        for (int i = 0; i < 5; i++) {
            if (!isnan(want[s][i].max))
                assert_close(ym[want[s][i].index], want[s][i].max, 1e-6);
            assert_close(ya[want[s][i].index], want[s][i].avg, 1e-6);
        }
        free(x); free(ym); free(ya); free(arg);
    }
    /* padding 1 on both sides: torch's own avg_pool2d(3, 1, padding=1,
     * count_include_pad=False) gives -0.05 at the first output */
    {
        const pool_case k = {1, 7, 6, 3, 3, 3, 1, 1, 1};
        seqrt_pool2d_shape p = shape_of(&k);
        assert_int_equal(p.pad_top, 1);
        float *x = falloc(n_in(&k)), *y = falloc(n_out(&k, &p));
        for (size_t i = 0; i < n_in(&k); i++)
            x[i] = (float)((double)((long)(i * 7 % 11) - 5) / 5);
        seqrt_avgpool2d_forward(1, &p, x, y);
        assert_close(y[0], -0.05, 1e-6);
        free(x); free(y);
    }
}

static void pool_gradcheck(void **state)
{
    (void)state;
    trand r = {67};
    double worst_max = 0, worst_avg = 0;
    for (size_t s = 0; s < N_CASES; s++) {
        const pool_case *k = &cases[s];
        seqrt_pool2d_shape p = shape_of(k);
        size_t nin = n_in(k), nout = n_out(k, &p);
        float *x = frand(&r, nin, -1, 1), *dy = frand(&r, nout, -1, 1), *y = falloc(nout);
        float *dx = falloc(nin);
        int32_t *arg = malloc(nout * sizeof *arg);
        assert_non_null(arg);
        double *num = dalloc(nin);
        pool_ctx ctx = {p, k->batch, 1, widen(x, nin), widen(dy, nout)};
        for (int is_max = 0; is_max <= 1; is_max++) {
            for (size_t i = 0; i < nin; i++)
                dx[i] = 7.0f; /* written, not accumulated */
            if (is_max) {
                seqrt_maxpool2d_forward(k->batch, &p, x, y, arg);
                seqrt_maxpool2d_backward(k->batch, &p, arg, dy, dx);
            } else {
                seqrt_avgpool2d_backward(k->batch, &p, dy, dx);
            }
            ctx.is_max = is_max;
            gc_numeric(pool_loss, &ctx, ctx.x, nin, num);
            double e = gc_rel_err(dx, num, nin);
            if (is_max)
                worst_max = e > worst_max ? e : worst_max;
            else
                worst_avg = e > worst_avg ? e : worst_avg;
        }
        free(ctx.x); free(ctx.r); free(num);
        free(x); free(dy); free(y); free(dx); free(arg);
    }
    gc_report("maxpool2d.dx", worst_max);
    gc_report("avgpool2d.dx", worst_avg);
}

typedef struct global_ctx {
    int batch, hw, c, is_max;
    double *x, *r;
} global_ctx;

static double global_loss(void *arg)
{
    const global_ctx *k = arg;
    double total = 0.0;
    for (int n = 0; n < k->batch; n++)
        for (int ch = 0; ch < k->c; ch++) {
            double best = -INFINITY, sum = 0.0;
            for (int q = 0; q < k->hw; q++) {
                double v = k->x[((size_t)n * k->hw + q) * k->c + ch];
                best = v > best ? v : best;
                sum += v;
            }
            total += (k->is_max ? best : sum / k->hw) * k->r[(size_t)n * k->c + ch];
        }
    return total;
}

/* the global pools: forward against the double reference, dx against
 * finite differences; hw 1 (a 1x1 map) included */
static void global_pools(void **state)
{
    (void)state;
    static const int shapes[][3] = {{1, 1, 3}, {3, 7, 1}, {3, 12, 5}, {1, 35, 3}};
    trand r = {71};
    double worst_max = 0, worst_avg = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int batch = shapes[s][0], hw = shapes[s][1], c = shapes[s][2];
        size_t nin = (size_t)batch * hw * c, nout = (size_t)batch * c;
        float *x = frand(&r, nin, -1, 1), *dy = frand(&r, nout, -1, 1);
        float *y = falloc(nout), *dx = falloc(nin);
        int32_t *arg = malloc(nout * sizeof *arg);
        assert_non_null(arg);
        double *num = dalloc(nin);
        global_ctx ctx = {batch, hw, c, 0, widen(x, nin), widen(dy, nout)};
        for (int is_max = 0; is_max <= 1; is_max++) {
            ctx.is_max = is_max;
            for (size_t i = 0; i < nin; i++)
                dx[i] = 7.0f;
            if (is_max) {
                seqrt_global_maxpool2d_forward(batch, hw, c, x, y, arg);
                seqrt_global_maxpool2d_backward(batch, hw, c, arg, dy, dx);
            } else {
                seqrt_global_avgpool2d_forward(batch, hw, c, x, y);
                seqrt_global_avgpool2d_backward(batch, hw, c, dy, dx);
            }
            /* forward: L's derivative by r[n,ch] is y[n,ch] (L is linear in r) */
            for (size_t o = 0; o < nout; o++) {
                double save = ctx.r[o];
                ctx.r[o] = 1.0;
                double l1 = global_loss(&ctx);
                ctx.r[o] = 0.0;
                double l0 = global_loss(&ctx);
                ctx.r[o] = save;
                assert_close(y[o], l1 - l0, 1e-6);
            }
            gc_numeric(global_loss, &ctx, ctx.x, nin, num);
            double e = gc_rel_err(dx, num, nin);
            if (is_max)
                worst_max = e > worst_max ? e : worst_max;
            else
                worst_avg = e > worst_avg ? e : worst_avg;
        }
        free(ctx.x); free(ctx.r); free(num);
        free(x); free(dy); free(y); free(dx); free(arg);
    }
    gc_report("global_maxpool2d.dx", worst_max);
    gc_report("global_avgpool2d.dx", worst_avg);
}

typedef struct pool_out {
    float   *ym, *ya, *dxm, *dxa;
    int32_t *arg;
} pool_out;

static pool_out pool_all(const pool_case *k, const seqrt_pool2d_shape *p, const float *x,
                         const float *dy)
{
    size_t nin = n_in(k), nout = n_out(k, p);
    pool_out o = {falloc(nout), falloc(nout), falloc(nin), falloc(nin), malloc(nout * sizeof(int32_t))};
    assert_non_null(o.arg);
    seqrt_maxpool2d_forward(k->batch, p, x, o.ym, o.arg);
    seqrt_maxpool2d_backward(k->batch, p, o.arg, dy, o.dxm);
    seqrt_avgpool2d_forward(k->batch, p, x, o.ya);
    seqrt_avgpool2d_backward(k->batch, p, dy, o.dxa);
    return o;
}

static void pool_out_free(pool_out o)
{
    free(o.ym); free(o.ya); free(o.dxm); free(o.dxa); free(o.arg);
}

static int reverse_calls;

static void run_reversed(seqrt_part_fn fn, void *arg, int parts)
{
    reverse_calls++;
    for (int part = parts - 1; part >= 0; part--)
        fn(arg, part, parts);
}

/* The CNN's first pool (large enough to be split over the threads) and an
 * overlapping `same` one: the same bits for 1, 2 and 3 threads and for
 * 2 and 7 parts run last first. */
static void pool_threads(void **state)
{
    (void)state;
    static const pool_case tc[] = {
        {32, 28, 28, 32, 2, 2, 2, 2, 0},
        {9, 13, 11, 64, 3, 3, 2, 2, 1},
    };
    trand r = {73};
    for (size_t s = 0; s < sizeof tc / sizeof tc[0]; s++) {
        const pool_case *k = &tc[s];
        seqrt_pool2d_shape p = shape_of(k);
        size_t nin = n_in(k), nout = n_out(k, &p);
        float *x = frand(&r, nin, -1, 1), *dy = frand(&r, nout, -1, 1);
        seqrt_set_threads(1);
        pool_out one = pool_all(k, &p, x, dy);
        for (int t = 2; t <= 9; t++) {
            if (t <= 3) {
                seqrt_set_threads(t);
            } else if (t == 4 || t == 9) {
                seqrt_parallel_install(t == 4 ? 2 : 7, run_reversed);
            } else {
                continue;
            }
            reverse_calls = 0;
            pool_out many = pool_all(k, &p, x, dy);
            if (t > 3)
                assert_int_equal(reverse_calls, 4); /* all four were split */
            assert_memory_equal(one.ym, many.ym, nout * sizeof(float));
            assert_memory_equal(one.ya, many.ya, nout * sizeof(float));
            assert_memory_equal(one.arg, many.arg, nout * sizeof(int32_t));
            assert_memory_equal(one.dxm, many.dxm, nin * sizeof(float));
            assert_memory_equal(one.dxa, many.dxa, nin * sizeof(float));
            pool_out_free(many);
        }
        seqrt_set_threads(1);
        pool_out_free(one);
        free(x); free(dy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_forward_reference),
        cmocka_unit_test(maxpool_ties_first),
        cmocka_unit_test(pool_forward_torch),
        cmocka_unit_test(pool_gradcheck),
        cmocka_unit_test(global_pools),
        cmocka_unit_test(pool_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
