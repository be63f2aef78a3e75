/* test_gemm.c: libseqrt's own GEMM kernels (runtime/src/kernels/gemm.c) on
 * every path this CPU has (AVX-512, AVX2, portable C; a path the CPU lacks
 * is skipped with the reason printed), and the threaded paths of dense
 * and Adam (runtime/src/kernels/parts.c, runtime/src/loop/parallel.c):
 *   - each kernel against a double-precision reference on shapes that hit
 *     every tile case (rows 1..7, column tails of every width, k odd), a
 *     slice of k (ldx > k), the `add` chain, and a row range that writes
 *     exactly its rows;
 *   - every vector path gives the portable path's bits (one order of
 *     fused multiply-adds everywhere);
 *   - dense forward/backward on each path: against the reference, and
 *     the same bits on 1, 2, 3, 5 and 64 threads; the CBLAS path against
 *     the reference;
 *   - the kernels' parts run by another runner than the pool
 *     (kernels/parts.h), the same bits;
 *   - the Adam step on 1, 2, 3 and 64 threads, bit for bit;
 *   - SEQRT_KERNELS's values. */
#include "kernel_test.h"

#include "seqrt.h"

#include "kernels/gemm.h"
#include "kernels/parts.h"

#include <string.h>

static const int thread_counts[] = {2, 3, 5, 64};
#define N_THREAD_COUNTS (sizeof thread_counts / sizeof thread_counts[0])

/* The path a test runs on (its prestate), or skip() when the CPU lacks it. */
static const seqrt_gemm_ops *path_or_skip(void **state)
{
    seqrt_gemm_path path = *(const seqrt_gemm_path *)*state;
    const seqrt_gemm_ops *g = seqrt_gemm_path_ops(path);
    if (!g) {
        print_message("skipped: this CPU has no %s\n", seqrt_gemm_path_name(path));
        skip();
    }
    return g;
}

static double ref_xw(const float *x, int ldx, const float *w, const float *b, int n, int k,
                     int i, int j)
{
    double s = b ? b[j] : 0.0;
    for (int p = 0; p < k; p++)
        s += (double)x[(size_t)i * ldx + p] * w[(size_t)p * n + j];
    return s;
}

static double ref_xtdy(const float *x, int in, const float *dy, int n, int batch, int i,
                       int j)
{
    double s = 0;
    for (int q = 0; q < batch; q++)
        s += (double)x[(size_t)q * in + i] * dy[(size_t)q * n + j];
    return s;
}

static const int ms[] = {1, 2, 5, 6, 7, 13, 32};
static const int ns[] = {1, 3, 8, 10, 16, 17, 31, 64, 70, 130};
#define NMS (sizeof ms / sizeof ms[0])
#define NNS (sizeof ns / sizeof ns[0])

/* y = (b) + x w on every shape, with k a slice of x's columns (ldx > k) */
static void xw_shapes(void **state)
{
    const seqrt_gemm_ops *g = path_or_skip(state);
    trand r = {21};
    const int k = 37, ldx = 41;
    for (size_t a = 0; a < NMS; a++)
        for (size_t c = 0; c < NNS; c++) {
            int m = ms[a], n = ns[c];
            float *x = frand(&r, (size_t)m * ldx, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
            float *b = frand(&r, n, -1, 1), *y = falloc((size_t)m * n);
            for (int withb = 0; withb < 2; withb++) {
                g->xw(m, n, ldx, x, w, k, withb ? b : NULL, y, 0);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        assert_close(y[(size_t)i * n + j],
                                     ref_xw(x, ldx, w, withb ? b : NULL, n, k, i, j), 1e-5);
            }
            free(x); free(w); free(b); free(y);
        }
}

/* add: chunks of k summed one after the other into y equal the chunks
 * summed apart and added in order; k = 0 leaves y (or gives b) */
static void xw_add_chain(void **state)
{
    const seqrt_gemm_ops *g = path_or_skip(state);
    trand r = {22};
    const int m = 9, n = 70, k = 48;
    float *x = frand(&r, (size_t)m * k, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
    float *b = frand(&r, n, -1, 1), *y = falloc((size_t)m * n);
    float *p1 = falloc((size_t)m * n), *p2 = falloc((size_t)m * n), *want = falloc((size_t)m * n);
    g->xw(m, n, k, x, w, 16, b, want, 0);
    g->xw(m, n, k, x + 16, w + (size_t)16 * n, 16, NULL, p1, 0);
    g->xw(m, n, k, x + 32, w + (size_t)32 * n, 16, NULL, p2, 0);
    for (size_t i = 0; i < (size_t)m * n; i++)
        want[i] = (want[i] + p1[i]) + p2[i];
    g->xw(m, n, k, x, w, 16, b, y, 0);
    g->xw(m, n, k, x + 16, w + (size_t)16 * n, 16, NULL, y, 1);
    g->xw(m, n, k, x + 32, w + (size_t)32 * n, 16, NULL, y, 1);
    assert_memory_equal(y, want, (size_t)m * n * sizeof(float));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            assert_close(y[(size_t)i * n + j], ref_xw(x, k, w, b, n, k, i, j), 1e-5);
    g->xw(m, n, k, x, w, 0, NULL, y, 1); /* empty slice added: y unchanged */
    assert_memory_equal(y, want, (size_t)m * n * sizeof(float));
    g->xw(m, n, k, x, w, 0, b, y, 0); /* empty slice: y = b */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            assert_true(y[(size_t)i * n + j] == b[j]);
    free(x); free(w); free(b); free(y); free(p1); free(p2); free(want);
}

static void xtdy_shapes(void **state)
{
    const seqrt_gemm_ops *g = path_or_skip(state);
    trand r = {24};
    const int ins[] = {1, 4, 5, 7, 33, 100};
    const int batch = 13;
    for (size_t a = 0; a < sizeof ins / sizeof ins[0]; a++)
        for (size_t c = 0; c < NNS; c++) {
            int in = ins[a], n = ns[c];
            float *x = frand(&r, (size_t)batch * in, -1, 1);
            float *dy = frand(&r, (size_t)batch * n, -1, 1);
            float *dw = falloc((size_t)in * n);
            g->xtdy(batch, in, n, x, dy, dw, 0, in);
            for (int i = 0; i < in; i++)
                for (int j = 0; j < n; j++)
                    assert_close(dw[(size_t)i * n + j], ref_xtdy(x, in, dy, n, batch, i, j), 1e-5);
            /* rows [2, in-1) alone: the same bits, nothing else written */
            if (in > 3) {
                float *part = falloc((size_t)in * n);
                for (size_t i = 0; i < (size_t)in * n; i++)
                    part[i] = -7.0f;
                g->xtdy(batch, in, n, x, dy, part, 2, in - 1);
                for (int i = 0; i < in; i++)
                    for (int j = 0; j < n; j++)
                        assert_true(part[(size_t)i * n + j] ==
                                    (i >= 2 && i < in - 1 ? dw[(size_t)i * n + j] : -7.0f));
                free(part);
            }
            free(x); free(dy); free(dw);
        }
}

/* A vector path gives the portable path's bits: the same fused
 * multiply-adds in the same order. */
static void same_bits_as_portable(void **state)
{
    const seqrt_gemm_ops *g = path_or_skip(state);
    const seqrt_gemm_ops *c = seqrt_gemm_path_ops(SEQRT_GEMM_PORTABLE);
    assert_non_null(c);
    trand r = {27};
    const int k = 100, batch = 19;
    for (size_t a = 0; a < NMS; a++)
        for (size_t d = 0; d < NNS; d++) {
            int m = ms[a], n = ns[d];
            size_t ny = (size_t)m * n;
            float *x = frand(&r, (size_t)m * k, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
            float *b = frand(&r, n, -1, 1), *y1 = falloc(ny), *y2 = falloc(ny);
            g->xw(m, n, k, x, w, 60, b, y1, 0);
            g->xw(m, n, k, x + 60, w + (size_t)60 * n, k - 60, NULL, y1, 1);
            c->xw(m, n, k, x, w, 60, b, y2, 0);
            c->xw(m, n, k, x + 60, w + (size_t)60 * n, k - 60, NULL, y2, 1);
            assert_memory_equal(y1, y2, ny * sizeof(float));
            float *xb = frand(&r, (size_t)batch * m, -1, 1), *dy = frand(&r, (size_t)batch * n, -1, 1);
            float *dw1 = falloc(ny), *dw2 = falloc(ny);
            g->xtdy(batch, m, n, xb, dy, dw1, 0, m);
            c->xtdy(batch, m, n, xb, dy, dw2, 0, m);
            assert_memory_equal(dw1, dw2, ny * sizeof(float));
            free(x); free(w); free(b); free(y1); free(y2); free(xb); free(dy); free(dw1); free(dw2);
        }
}

typedef struct dense_out {
    float *y, *dx, *dw, *db;
} dense_out;

static dense_out dense_run(int batch, int in, int out, const float *x, const float *w,
                           const float *b, const float *dy)
{
    dense_out o = {falloc((size_t)batch * out), falloc((size_t)batch * in),
                   falloc((size_t)in * out), falloc((size_t)out)};
    seqrt_dense_forward(batch, in, out, x, w, b, o.y);
    seqrt_dense_backward(batch, in, out, x, w, dy, o.dx, o.dw, o.db);
    return o;
}

static void dense_free(dense_out o)
{
    free(o.y); free(o.dx); free(o.dw); free(o.db);
}

/* y, dw and dx against the double reference (every few elements) */
static void dense_check_reference(int batch, int in, int out, const float *x, const float *w,
                                  const float *b, const float *dy, dense_out o)
{
    for (int i = 0; i < batch; i += 3)
        for (int j = 0; j < out; j++)
            assert_close(o.y[(size_t)i * out + j], ref_xw(x, in, w, b, out, in, i, j), 1e-4);
    for (int i = 0; i < in; i += 5)
        for (int j = 0; j < out; j += 3)
            assert_close(o.dw[(size_t)i * out + j], ref_xtdy(x, in, dy, out, batch, i, j), 1e-4);
    for (int q = 0; q < batch; q += 3)
        for (int i = 0; i < in; i += 11) {
            double want = 0;
            for (int j = 0; j < out; j++)
                want += (double)dy[(size_t)q * out + j] * w[(size_t)i * out + j];
            assert_close(o.dx[(size_t)q * in + i], want, 1e-4);
        }
}

/* The tutorial's first two layers (the first is large enough to be cut
 * into chunks and split), a wide one and a small one, on the path in the
 * prestate: right, and the same bits for every thread count. */
static void dense_threads(void **state)
{
    const seqrt_gemm_ops *g = path_or_skip(state);
    assert_int_equal(seqrt_gemm_use(g->path), 0);
    trand r = {25};
    const int shapes[][3] = {{32, 784, 128}, {32, 128, 64}, {5, 300, 700}, {7, 33, 40}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int batch = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        size_t nx = (size_t)batch * in, nw = (size_t)in * out, ny = (size_t)batch * out;
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -0.1, 0.1);
        float *b = frand(&r, out, -1, 1), *dy = frand(&r, ny, -1, 1);
        seqrt_set_threads(1);
        dense_out one = dense_run(batch, in, out, x, w, b, dy);
        dense_check_reference(batch, in, out, x, w, b, dy, one);
        for (size_t t = 0; t < N_THREAD_COUNTS; t++) {
            seqrt_set_threads(thread_counts[t]);
            dense_out many = dense_run(batch, in, out, x, w, b, dy);
            assert_memory_equal(one.y, many.y, ny * sizeof(float));
            assert_memory_equal(one.dx, many.dx, nx * sizeof(float));
            assert_memory_equal(one.dw, many.dw, nw * sizeof(float));
            assert_memory_equal(one.db, many.db, (size_t)out * sizeof(float));
            dense_free(many);
        }
        seqrt_set_threads(1);
        dense_free(one);
        free(x); free(w); free(b); free(dy);
    }
    assert_int_equal(seqrt_gemm_use(seqrt_gemm_choose(NULL)), 0);
}

/* The kernels only cut their work into parts; whoever installs a runner
 * (the training loop's pool) runs them. A runner that runs the parts last
 * first, on the calling thread, gets the 1-part bits, and is the one the
 * large products go through. */
static int reverse_calls;

static void run_reversed(seqrt_part_fn fn, void *arg, int parts)
{
    reverse_calls++;
    for (int part = parts - 1; part >= 0; part--)
        fn(arg, part, parts);
}

static void dense_installed_runner(void **state)
{
    (void)state;
    trand r = {29};
    int batch = 32, in = 784, out = 128;
    size_t nw = (size_t)in * out;
    float *x = frand(&r, (size_t)batch * in, -1, 1), *w = frand(&r, nw, -0.1, 0.1);
    float *b = frand(&r, out, -1, 1), *dy = frand(&r, (size_t)batch * out, -1, 1);
    seqrt_set_threads(1);
    dense_out one = dense_run(batch, in, out, x, w, b, dy);
    for (int parts = 2; parts <= 7; parts += 5) {
        seqrt_parallel_install(parts, run_reversed);
        assert_int_equal(seqrt_parallel_parts(), parts);
        reverse_calls = 0;
        dense_out many = dense_run(batch, in, out, x, w, b, dy);
        if (seqrt_gemm_kernels()) /* CBLAS splits nothing of ours */
            assert_true(reverse_calls >= 2); /* y = x W and dW */
        assert_memory_equal(one.y, many.y, (size_t)batch * out * sizeof(float));
        assert_memory_equal(one.dw, many.dw, nw * sizeof(float));
        dense_free(many);
    }
    seqrt_set_threads(1); /* the pool again, on one thread */
    assert_int_equal(seqrt_parallel_parts(), 1);
    dense_free(one);
    free(x); free(w); free(b); free(dy);
}

/* SEQRT_KERNELS=blas: dense through CBLAS, against the reference. */
static void dense_blas(void **state)
{
    (void)state;
    assert_int_equal(seqrt_gemm_use(SEQRT_GEMM_BLAS), 0);
    assert_null(seqrt_gemm_kernels());
    trand r = {28};
    int batch = 32, in = 200, out = 70;
    float *x = frand(&r, (size_t)batch * in, -1, 1), *w = frand(&r, (size_t)in * out, -0.1, 0.1);
    float *b = frand(&r, out, -1, 1), *dy = frand(&r, (size_t)batch * out, -1, 1);
    dense_out o = dense_run(batch, in, out, x, w, b, dy);
    dense_check_reference(batch, in, out, x, w, b, dy, o);
    dense_free(o);
    free(x); free(w); free(b); free(dy);
    assert_int_equal(seqrt_gemm_use(seqrt_gemm_choose(NULL)), 0);
}

/* Adam is elementwise: split over any number of threads it gives 1
 * thread's bits. */
static void adam_threads(void **state)
{
    (void)state;
    trand r = {26};
    size_t n = 100003; /* large enough to be split, not a multiple of 16 */
    float *g = frand(&r, n, -1, 1);
    float *p1 = frand(&r, n, -1, 1), *m1 = frand(&r, n, -0.1, 0.1), *v1 = frand(&r, n, 0, 0.1);
    float *p2 = falloc(n), *m2 = falloc(n), *v2 = falloc(n);
    float *p0 = falloc(n), *m0 = falloc(n), *v0 = falloc(n);
    memcpy(p0, p1, n * sizeof(float));
    memcpy(m0, m1, n * sizeof(float));
    memcpy(v0, v1, n * sizeof(float));
    seqrt_set_threads(1);
    for (int t = 1; t <= 3; t++)
        seqrt_adam_step(n, p1, g, m1, v1, t, 0.001f, 0.9f, 0.999f, 1e-7f);
    for (size_t c = 0; c < N_THREAD_COUNTS; c++) {
        memcpy(p2, p0, n * sizeof(float));
        memcpy(m2, m0, n * sizeof(float));
        memcpy(v2, v0, n * sizeof(float));
        seqrt_set_threads(thread_counts[c]);
        for (int t = 1; t <= 3; t++)
            seqrt_adam_step(n, p2, g, m2, v2, t, 0.001f, 0.9f, 0.999f, 1e-7f);
        assert_memory_equal(p1, p2, n * sizeof(float));
        assert_memory_equal(m1, m2, n * sizeof(float));
        assert_memory_equal(v1, v2, n * sizeof(float));
    }
    seqrt_set_threads(1);
    free(g); free(p1); free(m1); free(v1); free(p2); free(m2); free(v2);
    free(p0); free(m0); free(v0);
}

/* SEQRT_KERNELS: each name selects its path where the CPU has it; the
 * default is the best path; anything else falls back to the default. */
static void kernels_variable(void **state)
{
    (void)state;
    seqrt_gemm_path best = seqrt_gemm_choose(NULL);
    assert_int_equal(seqrt_gemm_choose(""), best);
    assert_int_equal(seqrt_gemm_choose("blas"), SEQRT_GEMM_BLAS);
    for (int p = SEQRT_GEMM_PORTABLE; p < SEQRT_GEMM_PATHS; p++) {
        seqrt_gemm_path want = seqrt_gemm_path_ops((seqrt_gemm_path)p) ? (seqrt_gemm_path)p : best;
        assert_int_equal(seqrt_gemm_choose(seqrt_gemm_path_name((seqrt_gemm_path)p)), want);
    }
    assert_int_equal(seqrt_gemm_choose("avx3"), best);
    assert_int_equal(seqrt_gemm_choose("AVX2"), best);
    /* the best is the widest vector path the CPU has */
    for (int p = SEQRT_GEMM_AVX2; p < SEQRT_GEMM_PATHS; p++)
        if (p > (int)best)
            assert_null(seqrt_gemm_path_ops((seqrt_gemm_path)p));
    print_message("default GEMM path on this CPU: %s\n", seqrt_gemm_path_name(best));
}

static seqrt_gemm_path on_avx512 = SEQRT_GEMM_AVX512;
static seqrt_gemm_path on_avx2 = SEQRT_GEMM_AVX2;
static seqrt_gemm_path on_portable = SEQRT_GEMM_PORTABLE;

/* one test per path, named "TEST on PATH" */
#define ON_PATH(test, path) {#test " on " #path, test, NULL, NULL, &on_##path}
#define ON_EVERY_PATH(test) ON_PATH(test, avx512), ON_PATH(test, avx2), ON_PATH(test, portable)

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON_EVERY_PATH(xw_shapes),
        ON_EVERY_PATH(xw_add_chain),
        ON_EVERY_PATH(xtdy_shapes),
        ON_PATH(same_bits_as_portable, avx512),
        ON_PATH(same_bits_as_portable, avx2),
        ON_EVERY_PATH(dense_threads),
        cmocka_unit_test(dense_installed_runner),
        cmocka_unit_test(dense_blas),
        cmocka_unit_test(adam_threads),
        cmocka_unit_test(kernels_variable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
