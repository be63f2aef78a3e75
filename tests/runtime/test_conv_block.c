/* test_conv_block.c: batchnorm + relu + maxpool2d fused
 * (runtime/src/kernels/conv_block.c): the forward against a reference
 * written here in double; dx, dgamma and dbeta against double-precision
 * finite differences of that reference at odd shapes (a dropped last row
 * or column, 1 and 3 channels, batch 1, a non-square pool, a pool of 3);
 * the fused calls against the three unfused layers' calls (batchnorm.c,
 * activation.c, pool.c); the inference call; the same bits for every
 * thread count. Cases of 16, 32, 48, 64 and 80 channels take the AVX-512
 * passes on a CPU with AVX-512F (block_fast_path checks that they do, and
 * compares them with the portable passes on the same data); a third of
 * the channels have gamma < 0 (the window's minimum of x wins), and some
 * cases have x on a grid of 0.5, so windows hold ties. */
#include "kernel_test.h"

#include "kernels/conv_block.h"
#include "kernels/parts.h"
#include "seqrt.h"

#include <string.h>

typedef struct block_case {
    int batch, h, w, c, ph, pw;
    int same; /* Keras's `same` where it pads after the last row and column
                 only: the last windows cut at the edge */
    int ties; /* x on a grid of 0.5: equal values in a window (not for the
                 finite differences, which a tie makes one-sided) */
} block_case;

static const block_case cases[] = {
    /* N  h  w  c ph pw same ties */
    {3, 6, 5, 2, 2, 2, 0, 0}, /* the odd last column is in no window */
    {1, 4, 4, 3, 2, 2, 0, 0}, /* one sample */
    {2, 7, 7, 1, 3, 3, 0, 0}, /* one channel, pool 3, the last row dropped */
    {2, 6, 6, 3, 2, 3, 0, 0}, /* non-square pool */
    {4, 4, 6, 5, 2, 2, 0, 0},
    {2, 7, 5, 3, 2, 2, 1, 0}, /* `same`: the last row and column windows are cut */
    /* the AVX-512 passes: 1, 2, 3, 4 and 4 + 1 vectors of 16 channels */
    {2, 5, 5, 32, 2, 2, 0, 0}, /* the last row and column dropped */
    {1, 4, 6, 16, 2, 3, 0, 0}, /* one sample, non-square pool */
    {2, 5, 7, 48, 2, 2, 1, 0}, /* `same` */
    {2, 7, 6, 64, 3, 3, 0, 0}, /* pool 3, the last row dropped */
    {2, 6, 5, 80, 2, 2, 0, 0},
    {3, 6, 6, 32, 2, 2, 0, 1}, /* ties */
    {2, 7, 5, 16, 2, 2, 1, 1}, /* ties, `same` */
};
#define N_CASES (sizeof cases / sizeof cases[0])

static int out_h(const block_case *k)
{
    return k->same ? (k->h + k->ph - 1) / k->ph : k->h / k->ph;
}

static int out_w(const block_case *k)
{
    return k->same ? (k->w + k->pw - 1) / k->pw : k->w / k->pw;
}

static seqrt_pool2d_shape shape_of(const block_case *k)
{
    return (seqrt_pool2d_shape){.h = k->h, .w = k->w, .c = k->c, .ph = k->ph, .pw = k->pw,
                                .sh = k->ph, .sw = k->pw, .oh = out_h(k), .ow = out_w(k)};
}

static size_t n_in(const block_case *k)
{
    return (size_t)k->batch * k->h * k->w * k->c;
}

static size_t n_out(const block_case *k)
{
    return (size_t)k->batch * out_h(k) * out_w(k) * k->c;
}

static const float EPS = 1e-3f, MOMENTUM = 0.9f;

enum { MAXC = 80 };

/* gamma in [0.5, 1.5], negated for every third channel from the second:
 * z falls with x there */
static float *gammas(trand *r, size_t C)
{
    float *g = frand(r, C, 0.5, 1.5);
    for (size_t ch = 1; ch < C; ch += 3)
        g[ch] = -g[ch];
    return g;
}

/* the case's input: uniform in [-2, 2], on a grid of 0.5 for `ties` */
static float *inputs(trand *r, const block_case *k)
{
    float *x = frand(r, n_in(k), -2, 2);
    if (k->ties)
        for (size_t i = 0; i < n_in(k); i++)
            x[i] = 0.5f * roundf(2.0f * x[i]);
    return x;
}

/* the reference: y = maxpool(relu(batchnorm(x))) in double, by the
 * definitions (biased batch variance over batch*h*w rows per channel) */
typedef struct ref {
    const block_case *k;
    double *x, *gamma, *beta, *r; /* r: the loss's weights, L = sum r y */
} ref;

static void ref_forward(const ref *f, double *y, double *mean, double *var)
{
    const block_case *k = f->k;
    const size_t C = (size_t)k->c, rows = (size_t)k->batch * k->h * k->w;
    for (size_t ch = 0; ch < C; ch++) {
        double s = 0.0, q = 0.0;
        for (size_t i = 0; i < rows; i++)
            s += f->x[i * C + ch];
        s /= (double)rows;
        for (size_t i = 0; i < rows; i++)
            q += (f->x[i * C + ch] - s) * (f->x[i * C + ch] - s);
        mean[ch] = s;
        var[ch] = q / (double)rows;
    }
    int oh = out_h(k), ow = out_w(k);
    size_t o = 0;
    for (int n = 0; n < k->batch; n++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (size_t ch = 0; ch < C; ch++, o++) {
                    double best = -INFINITY;
                    for (int a = 0; a < k->ph && oy * k->ph + a < k->h; a++)
                        for (int b = 0; b < k->pw && ox * k->pw + b < k->w; b++) {
                            size_t i = (((size_t)n * k->h + oy * k->ph + a) * k->w +
                                        ox * k->pw + b) * C + ch;
                            double z = f->gamma[ch] * (f->x[i] - mean[ch]) /
                                           sqrt(var[ch] + (double)EPS) + f->beta[ch];
                            best = z > best ? z : best;
                        }
                    y[o] = best > 0.0 ? best : 0.0;
                }
}

static double ref_loss(void *ctx)
{
    const ref *f = ctx;
    size_t no = n_out(f->k);
    double *y = dalloc(no), mean[MAXC], var[MAXC], l = 0.0;
    ref_forward(f, y, mean, var);
    for (size_t i = 0; i < no; i++)
        l += f->r[i] * y[i];
    free(y);
    return l;
}

typedef struct fused_out {
    float *y, *dx, *dgamma, *dbeta, *mm, *mv, *stats;
    int32_t *argmax;
} fused_out;

static fused_out run_fused(const block_case *k, const float *x, const float *gamma,
                           const float *beta, const float *dy)
{
    seqrt_pool2d_shape p = shape_of(k);
    size_t C = (size_t)k->c;
    fused_out o = {falloc(n_out(k)), falloc(n_in(k)), falloc(C), falloc(C), falloc(C),
                   falloc(C), falloc(2 * C), malloc(n_out(k) * sizeof(int32_t))};
    assert_non_null(o.argmax);
    float *scratch = falloc(seqrt_bn_relu_maxpool_scratch_per_sample(k->c) * (size_t)k->batch);
    for (size_t ch = 0; ch < C; ch++) {
        o.mm[ch] = 0.1f * (float)ch;
        o.mv[ch] = 1.0f + 0.2f * (float)ch;
    }
    seqrt_bn_relu_maxpool_forward_train(k->batch, &p, x, gamma, beta, o.mm, o.mv, MOMENTUM,
                                        EPS, o.y, o.argmax, o.stats, scratch);
    seqrt_bn_relu_maxpool_backward(k->batch, &p, x, gamma, o.stats, o.argmax, dy, o.dx,
                                   o.dgamma, o.dbeta, scratch);
    free(scratch);
    return o;
}

static void fused_free(fused_out o)
{
    free(o.y); free(o.dx); free(o.dgamma); free(o.dbeta); free(o.mm); free(o.mv);
    free(o.stats); free(o.argmax);
}

/* forward values and moving statistics against the double reference;
 * dx, dgamma, dbeta against finite differences of L = sum r y */
static void block_gradcheck(void **state)
{
    (void)state;
    trand r = {11};
    for (size_t s = 0; s < N_CASES; s++) {
        const block_case *k = &cases[s];
        if (k->ties)
            continue;
        size_t nx = n_in(k), ny = n_out(k), C = (size_t)k->c;
        assert_true(C <= MAXC);
        float *x = inputs(&r, k), *gamma = gammas(&r, C);
        float *beta = frand(&r, C, -0.3, 0.3), *dy = frand(&r, ny, -1, 1);
        fused_out o = run_fused(k, x, gamma, beta, dy);

        ref f = {k, widen(x, nx), widen(gamma, C), widen(beta, C), widen(dy, ny)};
        double *yr = dalloc(ny), mean[MAXC], var[MAXC];
        ref_forward(&f, yr, mean, var);
        for (size_t i = 0; i < ny; i++)
            assert_close(o.y[i], yr[i], 1e-5);
        for (size_t ch = 0; ch < C; ch++) {
            assert_close(o.mm[ch], 0.9 * 0.1 * (double)ch + 0.1 * mean[ch], 1e-6);
            assert_close(o.mv[ch], 0.9 * (1.0 + 0.2 * (double)ch) + 0.1 * var[ch], 1e-5);
        }

        double *gx = dalloc(nx), *gg = dalloc(C), *gb = dalloc(C);
        gc_numeric(ref_loss, &f, f.x, nx, gx);
        gc_numeric(ref_loss, &f, f.gamma, C, gg);
        gc_numeric(ref_loss, &f, f.beta, C, gb);
        char name[64];
        snprintf(name, sizeof name, "bn_relu_maxpool dx case %zu", s);
        gc_report(name, gc_rel_err(o.dx, gx, nx));
        snprintf(name, sizeof name, "bn_relu_maxpool dgamma case %zu", s);
        gc_report(name, gc_rel_err(o.dgamma, gg, C));
        snprintf(name, sizeof name, "bn_relu_maxpool dbeta case %zu", s);
        gc_report(name, gc_rel_err(o.dbeta, gb, C));

        free(gx); free(gg); free(gb); free(yr);
        free(f.x); free(f.gamma); free(f.beta); free(f.r);
        free(x); free(gamma); free(beta); free(dy);
        fused_free(o);
    }
}

/* the fused calls against seqrt_batchnorm_forward_train on [batch*h*w,
 * c], seqrt_relu_forward and seqrt_maxpool2d_forward, and their backward
 * calls in reverse: the same values within float rounding (the batch
 * statistics are summed in another order) */
static void block_matches_unfused(void **state)
{
    (void)state;
    trand r = {12};
    const block_case big = {32, 28, 28, 32, 2, 2, 0, 0}; /* the CNN's first block */
    for (size_t s = 0; s <= N_CASES; s++) {
        const block_case *k = s < N_CASES ? &cases[s] : &big;
        seqrt_pool2d_shape p = shape_of(k);
        size_t nx = n_in(k), ny = n_out(k), C = (size_t)k->c;
        int rows = k->batch * k->h * k->w;
        float *x = inputs(&r, k), *gamma = gammas(&r, C);
        float *beta = frand(&r, C, -0.3, 0.3), *dy = frand(&r, ny, -1, 1);
        fused_out o = run_fused(k, x, gamma, beta, dy);

        float *bn = falloc(nx), *xhat = falloc(nx), *inv = falloc(C), *act = falloc(nx);
        float *y = falloc(ny), *mm = falloc(C), *mv = falloc(C), *dact = falloc(nx);
        float *dbn = falloc(nx), *dx = falloc(nx), *dg = falloc(C), *db = falloc(C);
        int32_t *am = malloc(ny * sizeof *am);
        assert_non_null(am);
        for (size_t ch = 0; ch < C; ch++) {
            mm[ch] = 0.1f * (float)ch;
            mv[ch] = 1.0f + 0.2f * (float)ch;
        }
        seqrt_batchnorm_forward_train(rows, k->c, x, gamma, beta, mm, mv, MOMENTUM, EPS, bn,
                                      xhat, inv);
        seqrt_relu_forward(nx, bn, act);
        seqrt_maxpool2d_forward(k->batch, &p, act, y, am);
        seqrt_maxpool2d_backward(k->batch, &p, am, dy, dact);
        seqrt_relu_backward(nx, bn, act, dact, dbn);
        seqrt_batchnorm_backward(rows, k->c, xhat, gamma, inv, dbn, dx, dg, db);

        for (size_t i = 0; i < ny; i++) {
            assert_close(o.y[i], y[i], 1e-5);
            /* the same cell, or none where relu passes nothing: with ties
             * the first one (pool.c's rule) */
            if (o.argmax[i] >= 0)
                assert_int_equal(o.argmax[i], am[i]);
        }
        for (size_t i = 0; i < nx; i++)
            assert_close(o.dx[i], dx[i], 1e-5);
        for (size_t ch = 0; ch < C; ch++) {
            /* sums over up to 25,088 rows, in another order: relative to their size */
            assert_close(o.dgamma[ch], dg[ch], 1e-4 * (1.0 + fabs(dg[ch])));
            assert_close(o.dbeta[ch], db[ch], 1e-4 * (1.0 + fabs(db[ch])));
            assert_close(o.mm[ch], mm[ch], 1e-6);
            assert_close(o.mv[ch], mv[ch], 1e-5);
            assert_close(o.stats[C + ch], inv[ch], 1e-5);
        }
        free(bn); free(xhat); free(inv); free(act); free(y); free(mm); free(mv);
        free(dact); free(dbn); free(dx); free(dg); free(db); free(am);
        free(x); free(gamma); free(beta); free(dy);
        fused_free(o);
    }
}

/* inference: y from the moving statistics, against the double formula */
static void block_infer(void **state)
{
    (void)state;
    trand r = {13};
    for (size_t s = 0; s < N_CASES; s++) {
        const block_case *k = &cases[s];
        seqrt_pool2d_shape p = shape_of(k);
        size_t ny = n_out(k), C = (size_t)k->c;
        float *x = inputs(&r, k), *gamma = gammas(&r, C);
        float *beta = frand(&r, C, -0.3, 0.3), *mm = frand(&r, C, -0.5, 0.5);
        float *mv = frand(&r, C, 0.5, 2.0), *y = falloc(ny), *scratch = falloc(2 * C);
        seqrt_bn_relu_maxpool_forward_infer(k->batch, &p, x, gamma, beta, mm, mv, EPS, y,
                                            scratch);
        int oh = out_h(k), ow = out_w(k);
        size_t o = 0;
        for (int n = 0; n < k->batch; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (size_t ch = 0; ch < C; ch++, o++) {
                        double best = -INFINITY;
                        for (int a = 0; a < k->ph && oy * k->ph + a < k->h; a++)
                            for (int b = 0; b < k->pw && ox * k->pw + b < k->w; b++) {
                                size_t i = (((size_t)n * k->h + oy * k->ph + a) * k->w +
                                            ox * k->pw + b) * C + ch;
                                double z = gamma[ch] * ((double)x[i] - mm[ch]) /
                                               sqrt((double)mv[ch] + (double)EPS) + beta[ch];
                                best = z > best ? z : best;
                            }
                        assert_close(y[o], best > 0 ? best : 0, 1e-5);
                    }
        free(x); free(gamma); free(beta); free(mm); free(mv); free(y); free(scratch);
    }
}

static int reverse_calls;

static void run_reversed(seqrt_part_fn fn, void *arg, int parts)
{
    reverse_calls++;
    for (int part = parts - 1; part >= 0; part--)
        fn(arg, part, parts);
}

static void assert_same(const fused_out *a, const fused_out *b, const block_case *k)
{
    size_t C = (size_t)k->c;
    assert_memory_equal(a->y, b->y, n_out(k) * sizeof(float));
    assert_memory_equal(a->argmax, b->argmax, n_out(k) * sizeof(int32_t));
    assert_memory_equal(a->dx, b->dx, n_in(k) * sizeof(float));
    assert_memory_equal(a->dgamma, b->dgamma, C * sizeof(float));
    assert_memory_equal(a->dbeta, b->dbeta, C * sizeof(float));
    assert_memory_equal(a->mm, b->mm, C * sizeof(float));
    assert_memory_equal(a->mv, b->mv, C * sizeof(float));
}

/* the same bits with 1, 2 and 3 threads, and with 2 and 7 parts run last
 * first, on the CNN's two blocks at batch 32 (split) and an odd batch */
static void block_threads(void **state)
{
    (void)state;
    static const block_case tc[] = {{32, 28, 28, 32, 2, 2, 0, 0}, {32, 12, 12, 64, 2, 2, 0, 0},
                                    {7, 9, 11, 16, 2, 2, 1, 0}};
    trand r = {14};
    for (size_t s = 0; s < sizeof tc / sizeof tc[0]; s++) {
        const block_case *k = &tc[s];
        size_t C = (size_t)k->c;
        float *x = inputs(&r, k), *gamma = gammas(&r, C);
        float *beta = frand(&r, C, -0.3, 0.3), *dy = frand(&r, n_out(k), -1, 1);
        seqrt_set_threads(1);
        fused_out one = run_fused(k, x, gamma, beta, dy);
        for (int t = 2; t <= 3; t++) {
            seqrt_set_threads(t);
            fused_out many = run_fused(k, x, gamma, beta, dy);
            assert_same(&one, &many, k);
            fused_free(many);
        }
        for (int parts = 2; parts <= 7; parts += 5) {
            seqrt_parallel_install(parts, run_reversed);
            reverse_calls = 0;
            fused_out many = run_fused(k, x, gamma, beta, dy);
            if (s < 2) /* the CNN's blocks are split, each pass */
                assert_true(reverse_calls >= 4);
            assert_same(&one, &many, k);
            fused_free(many);
        }
        seqrt_set_threads(1);
        free(x); free(gamma); free(beta); free(dy);
        fused_free(one);
    }
}

/* The AVX-512 passes: taken on this machine when it has AVX-512F (so the
 * cases of 16 to 80 channels above checked them), never for other channel
 * counts; and against the portable passes on the same data: the same bits
 * of y, argmax, the statistics, dgamma and dbeta (the same operations in
 * the same order), dx within float rounding (its products grouped
 * otherwise, with an FMA) */
static void block_fast_path(void **state)
{
    (void)state;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const int avx512 = __builtin_cpu_supports("avx512f") != 0;
#else
    const int avx512 = 0;
#endif
    if (!avx512)
        printf("no AVX-512F here: the portable passes only\n");
    for (int c = 16; c <= 80; c += 16)
        assert_int_equal(seqrt_bn_relu_maxpool_fast(c), avx512);
    assert_int_equal(seqrt_bn_relu_maxpool_fast(1), 0);
    assert_int_equal(seqrt_bn_relu_maxpool_fast(24), 0);
    seqrt_bn_relu_maxpool_fast_allow(0);
    assert_int_equal(seqrt_bn_relu_maxpool_fast(32), 0);
    seqrt_bn_relu_maxpool_fast_allow(1);

    const block_case big = {32, 28, 28, 32, 2, 2, 0, 0}; /* the CNN's first block */
    trand r = {15};
    for (size_t s = 0; s <= N_CASES; s++) {
        const block_case *k = s < N_CASES ? &cases[s] : &big;
        if (k->c % 16 != 0)
            continue;
        size_t nx = n_in(k), ny = n_out(k), C = (size_t)k->c;
        float *x = inputs(&r, k), *gamma = gammas(&r, C);
        float *beta = frand(&r, C, -0.3, 0.3), *dy = frand(&r, ny, -1, 1);
        float *mm = frand(&r, C, -0.5, 0.5), *mv = frand(&r, C, 0.5, 2.0);
        float *yi[2], scratch[2 * MAXC];
        fused_out o[2];
        seqrt_pool2d_shape p = shape_of(k);
        for (int fast = 0; fast < 2; fast++) {
            seqrt_bn_relu_maxpool_fast_allow(fast);
            o[fast] = run_fused(k, x, gamma, beta, dy);
            yi[fast] = falloc(ny);
            seqrt_bn_relu_maxpool_forward_infer(k->batch, &p, x, gamma, beta, mm, mv, EPS,
                                                yi[fast], scratch);
        }
        seqrt_bn_relu_maxpool_fast_allow(1);
        assert_memory_equal(o[0].y, o[1].y, ny * sizeof(float));
        assert_memory_equal(o[0].argmax, o[1].argmax, ny * sizeof(int32_t));
        assert_memory_equal(o[0].stats, o[1].stats, 2 * C * sizeof(float));
        assert_memory_equal(o[0].mm, o[1].mm, C * sizeof(float));
        assert_memory_equal(o[0].mv, o[1].mv, C * sizeof(float));
        assert_memory_equal(o[0].dgamma, o[1].dgamma, C * sizeof(float));
        assert_memory_equal(o[0].dbeta, o[1].dbeta, C * sizeof(float));
        assert_memory_equal(yi[0], yi[1], ny * sizeof(float));
        for (size_t i = 0; i < nx; i++)
            assert_close(o[1].dx[i], o[0].dx[i], 1e-6 * (1.0 + fabs(o[0].dx[i])));
        for (int fast = 0; fast < 2; fast++) {
            fused_free(o[fast]);
            free(yi[fast]);
        }
        free(x); free(gamma); free(beta); free(dy); free(mm); free(mv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_gradcheck),
        cmocka_unit_test(block_matches_unfused),
        cmocka_unit_test(block_infer),
        cmocka_unit_test(block_threads),
        cmocka_unit_test(block_fast_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
