/* test_conv.c: conv2d (runtime/src/kernels/conv.c), NHWC with Keras's
 * weight layout and `same` padding: the forward against a direct 7-loop
 * convolution in double and against values PyTorch computed; dx, dW and
 * db against double-precision finite differences at odd shapes (1x1
 * kernels, strides 2, even kernels with `same`, dilation 2, 1 and 3
 * channels, non-square images, batches 1 and 3); the NULL skips; the
 * same bits for every thread count and GEMM split; y and dW read in
 * place (stride 1) against im2col's bits; Winograd F(2x2, 3x3) (16
 * channels and more, AVX-512) against the definition in double. */
#include "kernel_test.h"

#include "kernels/conv.h"
#include "kernels/gemm.h"
#include "kernels/parts.h"
#include "seqrt.h"

#include <string.h>

/* The shape by Keras's rule, written here apart from the compiler's:
 * valid: out = (in - ek) / s + 1; same: out = ceil(in / s), padding
 * total = max((out - 1) s + ek - in, 0), half (rounded down) before. */
static void keras_dim(int in, int k, int s, int d, int same, int *out, int *pad)
{
    int ek = (k - 1) * d + 1;
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + ek - in;
        *pad = total > 0 ? total / 2 : 0;
    } else {
        *out = (in - ek) / s + 1;
        *pad = 0;
    }
}

typedef struct conv_case {
    int batch, h, w, cin, kh, kw, cout, sh, sw, dh, dw, same;
} conv_case;

static seqrt_conv2d_shape shape_of(const conv_case *k)
{
    seqrt_conv2d_shape c = {.h = k->h, .w = k->w, .cin = k->cin, .kh = k->kh, .kw = k->kw,
                            .cout = k->cout, .sh = k->sh, .sw = k->sw, .dh = k->dh,
                            .dw = k->dw};
    keras_dim(k->h, k->kh, k->sh, k->dh, k->same, &c.oh, &c.pad_top);
    keras_dim(k->w, k->kw, k->sw, k->dw, k->same, &c.ow, &c.pad_left);
    return c;
}

/* the odd shapes every check runs on */
static const conv_case cases[] = {
    /*  N  h  w cin kh kw cout sh sw dh dw same */
    {3, 5, 7, 1, 1, 1, 3, 1, 1, 1, 1, 0},  /* 1x1, pointwise, 1 channel */
    {3, 5, 6, 3, 1, 1, 2, 2, 2, 1, 1, 1},  /* 1x1, stride 2, same */
    {1, 6, 5, 3, 3, 3, 4, 2, 2, 1, 1, 1},  /* stride 2, same, batch 1 */
    {3, 7, 6, 3, 2, 2, 2, 1, 1, 1, 1, 1},  /* even kernel, same */
    {3, 9, 8, 1, 4, 4, 3, 2, 2, 1, 1, 1},  /* 4x4 kernel, stride 2, same */
    {1, 9, 7, 3, 3, 3, 5, 1, 1, 2, 2, 1},  /* dilation 2, same */
    {3, 8, 9, 2, 3, 2, 3, 2, 1, 2, 1, 0},  /* non-square everything, valid */
    {3, 6, 6, 3, 3, 3, 4, 1, 1, 1, 1, 0},  /* plain 3x3 valid */
    {3, 7, 9, 1, 3, 3, 20, 1, 1, 1, 1, 1}, /* 3x3 on 1 channel, same (direct) */
    {2, 6, 5, 1, 3, 3, 37, 1, 1, 1, 1, 0}, /* 3x3 on 1 channel, valid, 37 filters */
    {2, 4, 5, 16, 3, 3, 16, 1, 1, 1, 1, 1}, /* 3x3 same, 16 channels (Winograd) */
    {2, 7, 7, 16, 3, 3, 16, 1, 1, 1, 1, 1}, /* the same, room for Winograd's dW (last) */
};
#define N_CASES (sizeof cases / sizeof cases[0])

static size_t n_x(const conv_case *k)
{
    return (size_t)k->batch * k->h * k->w * k->cin;
}

static size_t n_w(const conv_case *k)
{
    return (size_t)k->kh * k->kw * k->cin * k->cout;
}

static size_t n_y(const seqrt_conv2d_shape *c, int batch)
{
    return (size_t)batch * c->oh * c->ow * c->cout;
}

/* y[n, oy, ox, o] by the definition, in double */
static double ref_at(const seqrt_conv2d_shape *c, const double *x, const double *w,
                     const double *b, int n, int oy, int ox, int o)
{
    double s = b ? b[o] : 0.0;
    for (int ky = 0; ky < c->kh; ky++)
        for (int kx = 0; kx < c->kw; kx++)
            for (int ci = 0; ci < c->cin; ci++) {
                int iy = oy * c->sh - c->pad_top + ky * c->dh;
                int ix = ox * c->sw - c->pad_left + kx * c->dw;
                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                    continue;
                s += x[(((size_t)n * c->h + iy) * c->w + ix) * c->cin + ci] *
                     w[(((size_t)ky * c->kw + kx) * c->cin + ci) * c->cout + o];
            }
    return s;
}

typedef struct conv_ctx {
    seqrt_conv2d_shape c;
    int batch;
    double *x, *w, *b, *r; /* r: the upstream gradient dL/dy */
} conv_ctx;

/* L = sum y r */
static double conv_loss(void *p)
{
    const conv_ctx *k = p;
    const seqrt_conv2d_shape *c = &k->c;
    double total = 0.0;
    size_t i = 0;
    for (int n = 0; n < k->batch; n++)
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++)
                for (int o = 0; o < c->cout; o++)
                    total += ref_at(c, k->x, k->w, k->b, n, oy, ox, o) * k->r[i++];
    return total;
}

static float *scratch_for(const seqrt_conv2d_shape *c, int batch)
{
    /* filled with garbage: no kernel may read scratch it did not write */
    size_t n = seqrt_conv2d_scratch_per_sample(c) * (size_t)batch;
    float *s = falloc(n);
    for (size_t i = 0; i < n; i++)
        s[i] = 1e30f;
    return s;
}

static void conv_forward_reference(void **state)
{
    (void)state;
    trand r = {31};
    for (size_t s = 0; s < N_CASES; s++) {
        const conv_case *k = &cases[s];
        seqrt_conv2d_shape c = shape_of(k);
        size_t ny = n_y(&c, k->batch);
        float *x = frand(&r, n_x(k), -1, 1), *w = frand(&r, n_w(k), -1, 1);
        float *b = frand(&r, (size_t)k->cout, -1, 1), *y = falloc(ny), *y0 = falloc(ny);
        float *scratch = scratch_for(&c, k->batch);
        double *xd = widen(x, n_x(k)), *wd = widen(w, n_w(k)), *bd = widen(b, (size_t)k->cout);
        seqrt_conv2d_forward(k->batch, &c, x, w, b, y, scratch);
        seqrt_conv2d_forward(k->batch, &c, x, w, NULL, y0, scratch);
        size_t i = 0;
        for (int n = 0; n < k->batch; n++)
            for (int oy = 0; oy < c.oh; oy++)
                for (int ox = 0; ox < c.ow; ox++)
                    for (int o = 0; o < c.cout; o++, i++) {
                        assert_close(y[i], ref_at(&c, xd, wd, bd, n, oy, ox, o), 1e-5);
                        assert_close(y0[i], ref_at(&c, xd, wd, NULL, n, oy, ox, o), 1e-5);
                    }
        free(x); free(w); free(b); free(y); free(y0); free(scratch);
        free(xd); free(wd); free(bd);
    }
}

/* The inputs conv_pool_torch.py builds: value i = ((i a) mod m - s) / s */
static float *gen(size_t n, int a, int m, int s)
{
    float *p = falloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((double)((long)(i * (size_t)a % (size_t)m) - s) / s);
    return p;
}

/* y[index] of PyTorch 1.13's F.conv2d (NCHW permutes, the `same` padding
 * as an explicit F.pad, extra row/column at the bottom/right), in double,
 * from tests/runtime/conv_pool_torch.py */
typedef struct torch_value {
    int    index;
    double y;
} torch_value;

static void conv_forward_torch(void **state)
{
    (void)state;
    static const conv_case tc[] = {
        {2, 5, 6, 3, 4, 4, 2, 2, 2, 1, 1, 1}, /* 4x4 kernel, stride 2, same */
        {1, 7, 5, 1, 3, 3, 2, 1, 1, 2, 2, 1}, /* dilation 2, same */
        {3, 6, 7, 2, 3, 2, 3, 2, 1, 1, 2, 0}, /* 3x2, stride 2x1, dilation 1x2 */
    };
    static const torch_value want[3][5] = {
        {{0, -3.166666667}, {1, -2.666666667}, {12, 0.833333333}, {18, 1.366666667}, {35, 4.100000000}},
        {{0, -0.733333333}, {1, 0.133333333}, {23, 0.866666667}, {35, -0.200000000}, {69, 0.333333333}},
        {{0, -0.133333333}, {1, -0.400000000}, {30, 0.133333333}, {45, -0.266666667}, {89, 2.766666667}},
    };
    static const size_t want_n[3] = {36, 70, 90};
    for (int s = 0; s < 3; s++) {
        const conv_case *k = &tc[s];
        seqrt_conv2d_shape c = shape_of(k);
        assert_int_equal(n_y(&c, k->batch), want_n[s]);
        float *x = gen(n_x(k), 7, 11, 5), *w = gen(n_w(k), 5, 13, 6), *b = gen((size_t)k->cout, 3, 7, 3);
        float *y = falloc(want_n[s]), *scratch = scratch_for(&c, k->batch);
        seqrt_conv2d_forward(k->batch, &c, x, w, b, y, scratch);
        for (int i = 0; i < 5; i++)
            assert_close(y[want[s][i].index], want[s][i].y, 2e-6);
        free(x); free(w); free(b); free(y); free(scratch);
    }
}

static int avx512_in_use(void);

static void conv_gradcheck(void **state)
{
    (void)state;
    trand r = {37};
    double worst_dx = 0, worst_dw = 0, worst_db = 0;
    for (size_t s = 0; s < N_CASES; s++) {
        const conv_case *k = &cases[s];
        seqrt_conv2d_shape c = shape_of(k);
        size_t nx = n_x(k), nw = n_w(k), ny = n_y(&c, k->batch), nb = (size_t)k->cout;
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -1, 1);
        float *b = frand(&r, nb, -1, 1), *dy = frand(&r, ny, -1, 1);
        float *dx = falloc(nx), *dw = falloc(nw), *db = falloc(nb);
        float *scratch = scratch_for(&c, k->batch);
        if (avx512_in_use() && s == N_CASES - 1)
            assert_true(seqrt_conv2d_winograd(&c, k->batch, 2));
        /* dirty: gradients are written, not accumulated */
        for (size_t i = 0; i < nx; i++)
            dx[i] = 7.0f;
        for (size_t i = 0; i < nw; i++)
            dw[i] = 7.0f;
        for (size_t i = 0; i < nb; i++)
            db[i] = 7.0f;
        seqrt_conv2d_backward(k->batch, &c, x, w, dy, dx, dw, db, scratch);

        conv_ctx ctx = {c, k->batch, widen(x, nx), widen(w, nw), widen(b, nb), widen(dy, ny)};
        double *num = dalloc(nx > nw ? nx : nw);
        gc_numeric(conv_loss, &ctx, ctx.x, nx, num);
        double e = gc_rel_err(dx, num, nx);
        worst_dx = e > worst_dx ? e : worst_dx;
        gc_numeric(conv_loss, &ctx, ctx.w, nw, num);
        e = gc_rel_err(dw, num, nw);
        worst_dw = e > worst_dw ? e : worst_dw;
        gc_numeric(conv_loss, &ctx, ctx.b, nb, num);
        e = gc_rel_err(db, num, nb);
        worst_db = e > worst_db ? e : worst_db;

        free(num);
        free(ctx.x); free(ctx.w); free(ctx.b); free(ctx.r);
        free(x); free(w); free(b); free(dy); free(dx); free(dw); free(db); free(scratch);
    }
    gc_report("conv2d.dx", worst_dx);
    gc_report("conv2d.dw", worst_dw);
    gc_report("conv2d.db", worst_db);
}

/* dx NULL (a first layer) and db NULL (bias=false): dw is the same bits,
 * nothing is dereferenced */
static void conv_backward_skips_null(void **state)
{
    (void)state;
    trand r = {41};
    for (size_t s = 0; s < N_CASES; s++) {
        const conv_case *k = &cases[s];
        seqrt_conv2d_shape c = shape_of(k);
        size_t nx = n_x(k), nw = n_w(k), ny = n_y(&c, k->batch), nb = (size_t)k->cout;
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -1, 1), *dy = frand(&r, ny, -1, 1);
        float *dx = falloc(nx), *dw = falloc(nw), *db = falloc(nb), *dw2 = falloc(nw);
        float *scratch = scratch_for(&c, k->batch);
        seqrt_conv2d_backward(k->batch, &c, x, w, dy, dx, dw, db, scratch);
        seqrt_conv2d_backward(k->batch, &c, x, w, dy, NULL, dw2, NULL, scratch);
        assert_memory_equal(dw, dw2, nw * sizeof *dw);
        free(x); free(w); free(dy); free(dx); free(dw); free(db); free(dw2); free(scratch);
    }
}

/* ------------------------------------------------ threads and GEMM paths */

typedef struct conv_out {
    float *y, *dx, *dw, *db;
} conv_out;

static conv_out conv_run(int batch, const seqrt_conv2d_shape *c, const float *x,
                         const float *w, const float *b, const float *dy)
{
    size_t nx = (size_t)batch * c->h * c->w * c->cin, nw = (size_t)c->kh * c->kw * c->cin * c->cout;
    conv_out o = {falloc(n_y(c, batch)), falloc(nx), falloc(nw), falloc((size_t)c->cout)};
    float *scratch = scratch_for(c, batch);
    seqrt_conv2d_forward(batch, c, x, w, b, o.y, scratch);
    seqrt_conv2d_backward(batch, c, x, w, dy, o.dx, o.dw, o.db, scratch);
    free(scratch);
    return o;
}

static void conv_out_free(conv_out o)
{
    free(o.y); free(o.dx); free(o.dw); free(o.db);
}

static void assert_same_bits(const conv_out *a, const conv_out *b, int batch,
                             const seqrt_conv2d_shape *c)
{
    size_t nx = (size_t)batch * c->h * c->w * c->cin, nw = (size_t)c->kh * c->kw * c->cin * c->cout;
    assert_memory_equal(a->y, b->y, n_y(c, batch) * sizeof(float));
    assert_memory_equal(a->dx, b->dx, nx * sizeof(float));
    assert_memory_equal(a->dw, b->dw, nw * sizeof(float));
    assert_memory_equal(a->db, b->db, (size_t)c->cout * sizeof(float));
}

static int avx512_in_use(void)
{
    const seqrt_gemm_ops *g = seqrt_gemm_kernels();
    return g && g->path == SEQRT_GEMM_AVX512;
}

static int reverse_calls;

static void run_reversed(seqrt_part_fn fn, void *arg, int parts)
{
    reverse_calls++;
    for (int part = parts - 1; part >= 0; part--)
        fn(arg, part, parts);
}

/* The CNN's two convolutions at batch 32 (large enough to be
 * split), an odd batch, and a 1x1: the same bits with 1, 2 and 3 threads
 * and with 2 and 7 parts run last first on one thread. */
static void conv_threads(void **state)
{
    (void)state;
    static const conv_case tc[] = {
        {32, 28, 28, 1, 3, 3, 32, 1, 1, 1, 1, 1},
        {32, 14, 14, 32, 3, 3, 64, 1, 1, 1, 1, 0},
        {5, 11, 9, 8, 3, 3, 16, 2, 2, 1, 1, 1},
        {7, 10, 10, 24, 1, 1, 40, 1, 1, 1, 1, 0},
        {6, 9, 7, 16, 3, 3, 32, 1, 1, 1, 1, 1}, /* Winograd, odd sizes, same; GEMM dW */
        {12, 9, 7, 16, 3, 3, 32, 1, 1, 1, 1, 1}, /* the same with Winograd's dW */
    };
    static const int threads[] = {2, 3};
    trand r = {43};
    for (size_t s = 0; s < sizeof tc / sizeof tc[0]; s++) {
        const conv_case *k = &tc[s];
        seqrt_conv2d_shape c = shape_of(k);
        float *x = frand(&r, n_x(k), -1, 1), *w = frand(&r, n_w(k), -0.2, 0.2);
        float *b = frand(&r, (size_t)k->cout, -1, 1), *dy = frand(&r, n_y(&c, k->batch), -1, 1);
        seqrt_set_threads(1);
        if (avx512_in_use() && k->cin % 16 == 0) /* the Winograd shapes take it */
            assert_true(seqrt_conv2d_winograd(&c, k->batch, 0) &&
                        seqrt_conv2d_winograd(&c, k->batch, 1) &&
                        seqrt_conv2d_winograd(&c, k->batch, 2) == (s != 4));
        conv_out one = conv_run(k->batch, &c, x, w, b, dy);
        for (size_t t = 0; t < 2; t++) {
            seqrt_set_threads(threads[t]);
            conv_out many = conv_run(k->batch, &c, x, w, b, dy);
            assert_same_bits(&one, &many, k->batch, &c);
            conv_out_free(many);
        }
        for (int parts = 2; parts <= 7; parts += 5) {
            seqrt_parallel_install(parts, run_reversed);
            reverse_calls = 0;
            conv_out many = conv_run(k->batch, &c, x, w, b, dy);
            if (seqrt_gemm_kernels() && s < 2) /* the CNN's layers are split */
                assert_true(reverse_calls >= 2);
            assert_same_bits(&one, &many, k->batch, &c);
            conv_out_free(many);
        }
        seqrt_set_threads(1);
        /* and right: a few outputs and weight gradients against double */
        double *xd = widen(x, n_x(k)), *wd = widen(w, n_w(k)), *bd = widen(b, (size_t)k->cout);
        size_t ny = n_y(&c, k->batch);
        for (size_t i = 0; i < ny; i += ny / 17 + 1) {
            int o = (int)(i % (size_t)c.cout), q = (int)(i / (size_t)c.cout);
            int ox = q % c.ow, oy = q / c.ow % c.oh, n = q / (c.ow * c.oh);
            assert_close(one.y[i], ref_at(&c, xd, wd, bd, n, oy, ox, o), 1e-4);
        }
        free(xd); free(wd); free(bd);
        conv_out_free(one);
        free(x); free(w); free(b); free(dy);
    }
}

/* With stride 1, conv.c reads the receptive fields in the input itself
 * (or a zero-bordered copy) instead of an im2col matrix, for y and dW:
 * the same sums in the same order, so the same bits as each sample's
 * im2col rows through xw (y) and xtdy (dW, the samples added in order:
 * one group at batch 3). On every path of ours; with padding on each
 * side, none, and an even kernel. */
static void conv_in_place(void **state)
{
    (void)state;
    static const conv_case dc[] = {
        {3, 7, 6, 3, 2, 2, 2, 1, 1, 1, 1, 1},   /* even kernel, same */
        {3, 6, 6, 3, 3, 3, 4, 1, 1, 1, 1, 0},   /* 3x3 valid */
        {3, 9, 7, 5, 3, 3, 19, 1, 1, 1, 1, 1},  /* 3x3 same, 19 filters (a tail) */
        {1, 14, 14, 32, 3, 3, 64, 1, 1, 1, 1, 0}, /* the CNN's conv2, one sample */
    };
    trand r = {53};
    /* the CNN's conv2 would take Winograd's forward on AVX-512: other
     * sums, checked against double in conv_winograd; here the in-place
     * GEMMs, which must keep im2col's bits */
    seqrt_winograd_enable(0);
    for (int p = SEQRT_GEMM_PORTABLE; p < SEQRT_GEMM_PATHS; p++) {
        if (seqrt_gemm_use((seqrt_gemm_path)p) != 0)
            continue;
        const seqrt_gemm_ops *g = seqrt_gemm_kernels();
        for (size_t s = 0; s < sizeof dc / sizeof dc[0]; s++) {
            const conv_case *k = &dc[s];
            seqrt_conv2d_shape c = shape_of(k);
            const size_t K = (size_t)c.kh * c.kw * c.cin, P = (size_t)c.oh * c.ow;
            const size_t nw = K * (size_t)c.cout, in = (size_t)c.h * c.w * c.cin;
            float *x = frand(&r, n_x(k), -1, 1), *w = frand(&r, n_w(k), -1, 1);
            float *dy = frand(&r, n_y(&c, k->batch), -1, 1);
            float *dw = falloc(nw), *want = falloc(nw), *one = falloc(nw), *col = falloc(P * K);
            float *b = frand(&r, (size_t)c.cout, -1, 1), *y = falloc(n_y(&c, k->batch));
            float *y_want = falloc(P * (size_t)c.cout);
            float *scratch = scratch_for(&c, k->batch);
            seqrt_conv2d_forward(k->batch, &c, x, w, b, y, scratch);
            seqrt_conv2d_backward(k->batch, &c, x, w, dy, NULL, dw, NULL, scratch);
            for (int n = 0; n < k->batch; n++) {
                seqrt_conv2d_im2col(&c, x + (size_t)n * in, col);
                g->xw((int)P, c.cout, (int)K, col, w, (int)K, b, y_want, 0);
                assert_memory_equal(y + (size_t)n * P * c.cout, y_want,
                                    P * (size_t)c.cout * sizeof *y);
                g->xtdy((int)P, (int)K, c.cout, col, dy + (size_t)n * P * c.cout,
                        n ? one : want, 0, (int)K);
                for (size_t i = 0; n && i < nw; i++)
                    want[i] += one[i];
            }
            assert_memory_equal(dw, want, nw * sizeof *dw);
            free(x); free(w); free(dy); free(dw); free(want); free(one); free(col);
            free(b); free(y); free(y_want); free(scratch);
        }
    }
    seqrt_winograd_enable(1);
    assert_int_equal(seqrt_gemm_use(seqrt_gemm_choose(NULL)), 0);
}

/* ---------------------------------------------- Winograd F(2x2, 3x3) */

/* dx[n, iy, ix, ci] by the definition, in double: every dy entry whose
 * receptive field holds the cell, times the weight that joined them */
static double ref_dx_at(const seqrt_conv2d_shape *c, const double *w, const double *dy,
                        int n, int iy, int ix, int ci)
{
    double s = 0.0;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
            int oy = iy + c->pad_top - ky, ox = ix + c->pad_left - kx;
            if (oy < 0 || oy >= c->oh || ox < 0 || ox >= c->ow)
                continue;
            for (int o = 0; o < c->cout; o++)
                s += dy[(((size_t)n * c->oh + oy) * c->ow + ox) * c->cout + o] *
                     w[(((size_t)ky * 3 + kx) * c->cin + ci) * c->cout + o];
        }
    return s;
}

/* max |got - want| / max |want|: the error on the output's scale */
static double scaled_err(const float *got, const double *want, size_t n)
{
    double big = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        big = fabs(want[i]) > big ? fabs(want[i]) : big;
        double d = fabs(got[i] - want[i]);
        worst = d > worst ? d : worst;
    }
    return worst / (big > 0.0 ? big : 1.0);
}

/* dW[ky, kx, ci, o] by the definition, in double */
static double ref_dw_at(const seqrt_conv2d_shape *c, int batch, const double *x,
                        const double *dy, int ky, int kx, int ci, int o)
{
    double s = 0.0;
    for (int n = 0; n < batch; n++)
        for (int oy = 0; oy < c->oh; oy++)
            for (int ox = 0; ox < c->ow; ox++) {
                int iy = oy - c->pad_top + ky, ix = ox - c->pad_left + kx;
                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                    continue;
                s += x[(((size_t)n * c->h + iy) * c->w + ix) * c->cin + ci] *
                     dy[(((size_t)n * c->oh + oy) * c->ow + ox) * c->cout + o];
            }
    return s;
}

typedef struct wino_errs {
    double y, dx, dw, db; /* scaled_err of y, dx, dw and db */
} wino_errs;

static wino_errs wino_run(int batch, const seqrt_conv2d_shape *c, const float *x,
                          const float *w, const float *b, const float *dy, const double *yd,
                          const double *dxd, const double *dwd, const double *dbd)
{
    size_t nx = (size_t)batch * c->h * c->w * c->cin, ny = n_y(c, batch);
    conv_out o = conv_run(batch, c, x, w, b, dy);
    wino_errs e = {scaled_err(o.y, yd, ny), scaled_err(o.dx, dxd, nx),
                   scaled_err(o.dw, dwd, (size_t)9 * c->cin * c->cout),
                   scaled_err(o.db, dbd, (size_t)c->cout)};
    conv_out_free(o);
    return e;
}

/* Winograd's y and dx against the definition in double, next to the
 * im2col-order path's (Winograd off), at the CNN's conv2 (batch 1 and 3),
 * 28x28x16 -> 32 same, odd outputs (7x9 valid -> 5x7, 5x5 same: partial
 * tiles), asymmetric padding both ways, cin 16 / cout 48.
 *
 * The bound. The direct sum of an output adds 9 cin float products; its
 * rounding error is at most about sqrt(9 cin) ulps of the output's scale
 * in practice (a few 1e-7 relative to max |y|). Winograd adds the
 * transforms' roundings: V sums 4-16 inputs, U halves and sums 9
 * weights, each M element is a dot product over cin, and y sums 9 M
 * elements, whose terms are larger than y (they cancel): Lavin and Gray
 * (and Barabasz et al. 2020, "Error analysis and improving the accuracy
 * of Winograd convolution") put F(2x2, 3x3)'s error within a small
 * multiple of direct's. 2e-6 of max |y| (17 float ulps of the largest
 * output) is that multiple with room; a wrong transform entry or a
 * dropped tile is off by 1e-2 or more. Winograd must also stay within 8
 * times the im2col path's error on the same data. Measured (2026-12-02,
 * this data): Winograd 1.6-3.6e-7, the im2col path 1.1-7.1e-7; at the
 * CNN's conv2, batch 3: y 2.7e-7 against 6.2e-7, dx 3.6e-7 against
 * 2.0e-7.
 *
 * dW and db the same way, on the scale of max |dW|. The direct dW sums
 * batch P products x dy per weight (up to 3,000 here); Winograd's sums
 * the same number of tile products V Z, each V a sum of up to 4 x 4
 * inputs and each Z of up to 2 x 2 dy (larger terms that cancel), then
 * G^T dU G adds up to 16 dU per weight with halves. Those sums grow like
 * a random walk, well within 2e-6 of max |dW|; a wrong transform entry or
 * a dropped tile is off by 1e-2 or more (a sign flipped in G^T: 2.0 in
 * the gradient check). Measured (2026-12-02, the rows with wdw): dW
 * 1.6-3.3e-7 through Winograd against 1.4-6.2e-7 by the GEMM (at conv2,
 * batch 3: 3.3e-7 against 3.1e-7). db is the same sum either way.
 * SEQRT_TEST_VERBOSE=1 prints the errors. */
static void conv_winograd(void **state)
{
    (void)state;
    typedef struct {
        int batch, h, w, cin, cout, pad_top, pad_left, oh, ow, wdw;
    } wcase;
    /* wdw: dW through Winograd too; its dU (16 cin cout floats a group of
     * samples) fits beside the buffers only with enough of the scratch
     * (P K floats a sample): not at 1 sample of conv2, nor at batch 3 of
     * the small shapes, which the batch-32 rows repeat */
    static const wcase wc[] = {
        /* N   h   w cin cout pt pl  oh  ow wdw */
        {1, 14, 14, 32, 64, 0, 0, 12, 12, 0}, /* the CNN's conv2 */
        {3, 14, 14, 32, 64, 0, 0, 12, 12, 1},
        {1, 28, 28, 16, 32, 1, 1, 28, 28, 1}, /* same */
        {3, 7, 9, 16, 48, 0, 0, 5, 7, 0},     /* valid, odd outputs, cin 16 / cout 48 */
        {3, 5, 5, 16, 48, 1, 1, 5, 5, 0},     /* same, odd */
        {3, 8, 7, 16, 16, 0, 1, 7, 6, 1},     /* pads: bottom and left */
        {3, 9, 6, 32, 16, 1, 0, 8, 5, 1},     /* pads: top and right */
        {32, 7, 9, 16, 48, 0, 0, 5, 7, 1},    /* the four above, batch 32 */
        {32, 5, 5, 16, 48, 1, 1, 5, 5, 1},
        {32, 8, 7, 16, 16, 0, 1, 7, 6, 1},
        {32, 9, 6, 32, 16, 1, 0, 8, 5, 1},
    };
    trand r = {61};
    for (size_t s = 0; s < sizeof wc / sizeof wc[0]; s++) {
        const wcase *k = &wc[s];
        seqrt_conv2d_shape c = {.h = k->h, .w = k->w, .cin = k->cin, .kh = 3, .kw = 3,
                                .cout = k->cout, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                                .pad_top = k->pad_top, .pad_left = k->pad_left,
                                .oh = k->oh, .ow = k->ow};
        const int batch = k->batch;
        if (avx512_in_use()) { /* else the test checks the fallback */
            assert_true(seqrt_conv2d_winograd(&c, batch, 0) &&
                        seqrt_conv2d_winograd(&c, batch, 1));
            assert_int_equal(seqrt_conv2d_winograd(&c, batch, 2), k->wdw);
        }
        size_t nx = (size_t)batch * c.h * c.w * c.cin, nw = (size_t)9 * c.cin * c.cout;
        size_t ny = n_y(&c, batch);
        /* Glorot-scale weights, as a trained layer's */
        double lim = sqrt(6.0 / (9.0 * (c.cin + c.cout)));
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -lim, lim);
        float *b = frand(&r, (size_t)c.cout, -0.1, 0.1), *dy = frand(&r, ny, -1, 1);
        double *xd = widen(x, nx), *wd = widen(w, nw), *bd = widen(b, (size_t)c.cout);
        double *dyd = widen(dy, ny), *yd = dalloc(ny), *dxd = dalloc(nx);
        double *dwd = dalloc(nw), *dbd = dalloc((size_t)c.cout);
        size_t i = 0;
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < c.oh; oy++)
                for (int ox = 0; ox < c.ow; ox++)
                    for (int o = 0; o < c.cout; o++)
                        yd[i++] = ref_at(&c, xd, wd, bd, n, oy, ox, o);
        i = 0;
        for (int n = 0; n < batch; n++)
            for (int iy = 0; iy < c.h; iy++)
                for (int ix = 0; ix < c.w; ix++)
                    for (int ci = 0; ci < c.cin; ci++)
                        dxd[i++] = ref_dx_at(&c, wd, dyd, n, iy, ix, ci);
        i = 0;
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                for (int ci = 0; ci < c.cin; ci++)
                    for (int o = 0; o < c.cout; o++)
                        dwd[i++] = ref_dw_at(&c, batch, xd, dyd, ky, kx, ci, o);
        for (int o = 0; o < c.cout; o++) {
            dbd[o] = 0.0;
            for (size_t q = 0; q < ny / (size_t)c.cout; q++)
                dbd[o] += dyd[q * (size_t)c.cout + (size_t)o];
        }
        wino_errs wino = wino_run(batch, &c, x, w, b, dy, yd, dxd, dwd, dbd);
        seqrt_winograd_enable(0);
        wino_errs plain = wino_run(batch, &c, x, w, b, dy, yd, dxd, dwd, dbd);
        if (getenv("SEQRT_TEST_VERBOSE"))
            printf("winograd case %zu: y %.2e/%.2e dx %.2e/%.2e dw %.2e/%.2e db %.2e/%.2e\n", s,
                   wino.y, plain.y, wino.dx, plain.dx, wino.dw, plain.dw, wino.db, plain.db);
        seqrt_winograd_enable(1);
        assert_true(wino.y < 2e-6);
        assert_true(wino.dx < 2e-6);
        assert_true(wino.y <= 8 * plain.y + 1e-7);
        assert_true(wino.dx <= 8 * plain.dx + 1e-7);
        assert_true(wino.dw < 2e-6);
        assert_true(wino.dw <= 8 * plain.dw + 1e-7);
        assert_true(wino.db < 2e-6);
        free(x); free(w); free(b); free(dy);
        free(xd); free(wd); free(bd); free(dyd); free(yd); free(dxd); free(dwd); free(dbd);
    }
}

/* conv.c picks the chunk of tiles Winograd runs at a time to fit the
 * scratch of the shape and batch; each tile's arithmetic must not depend
 * on it: the same bits for chunks of 1 tile (the GEMMs' 1-row tail), 5,
 * 6 (one register tile), 7, 12 and all 30 tiles of a 9x11 output (same
 * padding, partial tiles at both edges), forward and dx. */
static void conv_winograd_chunks(void **state)
{
    (void)state;
    const seqrt_gemm_ops *g = seqrt_gemm_path_ops(SEQRT_GEMM_AVX512);
    if (!g)
        skip();
    static const size_t chunks[] = {1, 5, 6, 7, 12, 30};
    const seqrt_conv2d_shape c = {.h = 9, .w = 11, .cin = 16, .kh = 3, .kw = 3, .cout = 32,
                                  .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_top = 1,
                                  .pad_left = 1, .oh = 9, .ow = 11};
    assert_true(seqrt_winograd_shape_ok(g, &c));
    trand r = {67};
    const size_t nx = (size_t)c.h * c.w * c.cin, ny = (size_t)c.oh * c.ow * c.cout;
    const size_t block = (size_t)c.cin * c.cout;
    assert_int_equal(seqrt_winograd_tiles(&c), 30);
    float *x = frand(&r, nx, -1, 1), *w = frand(&r, 9 * block, -0.3, 0.3);
    float *b = frand(&r, (size_t)c.cout, -1, 1), *dy = frand(&r, ny, -1, 1);
    float *u = falloc(16 * block), *want = falloc(nx > ny ? nx : ny), *got = falloc(nx > ny ? nx : ny);
    float *buf = falloc(seqrt_winograd_buffer_floats(&c, 30));
    float *ue[16];
    for (int e = 0; e < 16; e++)
        ue[e] = u + (size_t)e * block;
    for (int dx = 0; dx < 2; dx++) {
        seqrt_winograd_weights(&c, w, dx, ue);
        for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
            float *out = i ? got : want;
            if (dx)
                seqrt_winograd_dx_sample(g, &c, dy, (const float *const *)ue, out, buf,
                                         chunks[i]);
            else
                seqrt_winograd_sample(g, &c, x, (const float *const *)ue, b, out, buf,
                                      chunks[i]);
            if (i)
                assert_memory_equal(got, want, (dx ? nx : ny) * sizeof *got);
        }
    }
    free(x); free(w); free(b); free(dy); free(u); free(want); free(got); free(buf);
}

/* Every GEMM path (and CBLAS) computes the same convolution (to float
 * rounding: CBLAS sums in its own order). */
static void conv_paths_case(const conv_case *kp);

static void conv_paths(void **state)
{
    (void)state;
    /* the second: the direct 3x3 kernels on one channel (conv.c) */
    static const conv_case pc[] = {{3, 9, 8, 3, 3, 3, 20, 2, 1, 1, 1, 1},
                                   {3, 9, 11, 1, 3, 3, 37, 1, 1, 1, 1, 1}};
    for (size_t s = 0; s < sizeof pc / sizeof pc[0]; s++)
        conv_paths_case(&pc[s]);
}

static void conv_paths_case(const conv_case *kp)
{
    const conv_case k = *kp;
    seqrt_conv2d_shape c = shape_of(&k);
    trand r = {47};
    size_t nx = n_x(&k), nw = n_w(&k), ny = n_y(&c, k.batch);
    float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -1, 1);
    float *b = frand(&r, (size_t)k.cout, -1, 1), *dy = frand(&r, ny, -1, 1);
    seqrt_gemm_use(SEQRT_GEMM_PORTABLE);
    conv_out ref = conv_run(k.batch, &c, x, w, b, dy);
    for (int p = SEQRT_GEMM_BLAS; p < SEQRT_GEMM_PATHS; p++) {
        if (seqrt_gemm_use((seqrt_gemm_path)p) != 0)
            continue;
        conv_out o = conv_run(k.batch, &c, x, w, b, dy);
        if (p == SEQRT_GEMM_BLAS) {
            for (size_t i = 0; i < ny; i++)
                assert_close(o.y[i], ref.y[i], 1e-5);
            for (size_t i = 0; i < nx; i++)
                assert_close(o.dx[i], ref.dx[i], 1e-5);
            for (size_t i = 0; i < nw; i++)
                assert_close(o.dw[i], ref.dw[i], 1e-4);
        } else { /* our paths: one fixed order of fused multiply-adds */
            assert_same_bits(&ref, &o, k.batch, &c);
        }
        conv_out_free(o);
    }
    assert_int_equal(seqrt_gemm_use(seqrt_gemm_choose(NULL)), 0);
    conv_out_free(ref);
    free(x); free(w); free(b); free(dy);
}

/* im2col then col2im is the adjoint pair: <im2col(x), v> = <x, col2im(v)> */
static void conv_col2im_adjoint(void **state)
{
    (void)state;
    trand r = {53};
    for (size_t s = 0; s < N_CASES; s++) {
        conv_case k = cases[s];
        k.batch = 1;
        seqrt_conv2d_shape c = shape_of(&k);
        size_t nx = n_x(&k), ncol = (size_t)c.oh * c.ow * c.kh * c.kw * c.cin;
        float *x = frand(&r, nx, -1, 1), *v = frand(&r, ncol, -1, 1);
        float *col = falloc(ncol), *back = falloc(nx);
        seqrt_conv2d_im2col(&c, x, col);
        seqrt_conv2d_col2im(&c, v, back);
        double a = 0, bsum = 0;
        for (size_t i = 0; i < ncol; i++)
            a += (double)col[i] * v[i];
        for (size_t i = 0; i < nx; i++)
            bsum += (double)x[i] * back[i];
        assert_close(a, bsum, 1e-4);
        free(x); free(v); free(col); free(back);
    }
}

/* col2im as a scatter, written here: dx zeroed, then the entries of each
 * dcol row added into their cells, the rows in order */
static void col2im_scatter_ref(const seqrt_conv2d_shape *c, const float *dcol, float *dx)
{
    const size_t K = (size_t)c->kh * c->kw * c->cin;
    memset(dx, 0, (size_t)c->h * c->w * c->cin * sizeof *dx);
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++)
            for (int ky = 0; ky < c->kh; ky++)
                for (int kx = 0; kx < c->kw; kx++) {
                    int iy = oy * c->sh - c->pad_top + ky * c->dh;
                    int ix = ox * c->sw - c->pad_left + kx * c->dw;
                    if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w)
                        continue;
                    for (int ci = 0; ci < c->cin; ci++)
                        dx[((size_t)iy * c->w + ix) * c->cin + ci] +=
                            dcol[((size_t)oy * c->ow + ox) * K +
                                 ((size_t)ky * c->kw + kx) * c->cin + ci];
                }
}

/* col2im gathers each cell's entries (AVX-512, cin a multiple of 16) in
 * the scatter's order: the same bits as the scatter, for 16 to 80
 * channels, strides 1 and 2, dilation 2, padding */
static void conv_col2im_order(void **state)
{
    (void)state;
    static const conv_case oc[] = {
        {1, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 0},
        {1, 9, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1},
        {1, 9, 8, 48, 3, 2, 1, 2, 2, 1, 1, 1},
        {1, 9, 9, 80, 3, 3, 1, 1, 2, 2, 1, 1},
        {1, 6, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1},
    };
    trand r = {59};
    for (size_t s = 0; s < sizeof oc / sizeof oc[0]; s++) {
        seqrt_conv2d_shape c = shape_of(&oc[s]);
        size_t nx = n_x(&oc[s]), ncol = (size_t)c.oh * c.ow * c.kh * c.kw * c.cin;
        float *v = frand(&r, ncol, -1, 1), *got = falloc(nx), *want = falloc(nx);
        seqrt_conv2d_col2im(&c, v, got);
        col2im_scatter_ref(&c, v, want);
        assert_memory_equal(got, want, nx * sizeof *got);
        free(v); free(got); free(want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_forward_reference),
        cmocka_unit_test(conv_forward_torch),
        cmocka_unit_test(conv_gradcheck),
        cmocka_unit_test(conv_backward_skips_null),
        cmocka_unit_test(conv_col2im_adjoint),
        cmocka_unit_test(conv_col2im_order),
        cmocka_unit_test(conv_threads),
        cmocka_unit_test(conv_paths),
        cmocka_unit_test(conv_in_place),
        cmocka_unit_test(conv_winograd),
        cmocka_unit_test(conv_winograd_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
