/* test_gemm.c: libseqrt's own GEMM kernels (runtime/src/kernels/gemm.c) and the
 * threaded paths (runtime/src/loop/parallel.c) of dense and Adam:
 *   - each kernel against a double-precision reference on shapes that hit
 *     every tile case (rows 1..7, column tails of 1..16 lanes, k odd);
 *   - a sub-range call writes exactly its range, and ranges compose to
 *     the whole product;
 *   - dense forward/backward on 2 threads against the reference (the
 *     inner-dimension split of y = x W included), and twice the same bits;
 *   - the Adam step on 2 threads equals 1 thread bit for bit.
 * On a CPU without AVX-512 the kernels are plain loops; the tests still
 * check them (dense.c then uses CBLAS). */
#include "kernel_test.h"

#include "seqrt.h"

#include "kernels/gemm.h"

#include <string.h>

static double ref_xw(const float *x, const float *w, const float *b, int n, int k, int i,
                     int j)
{
    double s = b ? b[j] : 0.0;
    for (int p = 0; p < k; p++)
        s += (double)x[(size_t)i * k + p] * w[(size_t)p * n + j];
    return s;
}

static void gemm_xw_shapes(void **state)
{
    trand r = {21};
    const int ms[] = {1, 2, 5, 6, 7, 13, 32}, ns[] = {1, 10, 16, 17, 64, 70, 130};
    const int k = 37;
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
            int m = ms[a], n = ns[c];
            float *x = frand(&r, (size_t)m * k, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
            float *b = frand(&r, n, -1, 1), *y = falloc((size_t)m * n);
            for (int withb = 0; withb < 2; withb++) {
                seqrt_gemm_xw(m, n, k, x, w, withb ? b : NULL, y, 0, n);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                        assert_close(y[(size_t)i * n + j],
                                     ref_xw(x, w, withb ? b : NULL, n, k, i, j), 1e-5);
            }
            free(x); free(w); free(b); free(y);
        }
}

/* a column range writes only its columns; two ranges give the whole */
static void gemm_xw_ranges(void **state)
{
    trand r = {22};
    int m = 9, n = 70, k = 11;
    float *x = frand(&r, (size_t)m * k, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
    float *whole = falloc((size_t)m * n), *parts = falloc((size_t)m * n);
    seqrt_gemm_xw(m, n, k, x, w, NULL, whole, 0, n);
    for (size_t i = 0; i < (size_t)m * n; i++)
        parts[i] = 1234.0f;
    seqrt_gemm_xw(m, n, k, x, w, NULL, parts, 16, 48);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float v = parts[(size_t)i * n + j];
            if (j >= 16 && j < 48)
                assert_true(v == whole[(size_t)i * n + j]);
            else
                assert_true(v == 1234.0f);
        }
    seqrt_gemm_xw(m, n, k, x, w, NULL, parts, 0, 16);
    seqrt_gemm_xw(m, n, k, x, w, NULL, parts, 48, n);
    assert_memory_equal(parts, whole, (size_t)m * n * sizeof(float));
    free(x); free(w); free(whole); free(parts);
}

/* a slice of the inner dimension: x[:, 5:5+kk) w[5:5+kk, :) */
static void gemm_xw_k_slice(void **state)
{
    trand r = {23};
    int m = 7, n = 33, k = 20, lo = 5, kk = 9;
    float *x = frand(&r, (size_t)m * k, -1, 1), *w = frand(&r, (size_t)k * n, -1, 1);
    float *b = frand(&r, n, -1, 1), *y = falloc((size_t)m * n);
    seqrt_gemm_xw_k(m, n, k, x + lo, w + (size_t)lo * n, kk, b, y);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double want = b[j];
            for (int p = lo; p < lo + kk; p++)
                want += (double)x[(size_t)i * k + p] * w[(size_t)p * n + j];
            assert_close(y[(size_t)i * n + j], want, 1e-5);
        }
    seqrt_gemm_xw_k(m, n, k, x, w, 0, b, y); /* empty slice: y = b */
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            assert_true(y[(size_t)i * n + j] == b[j]);
    free(x); free(w); free(b); free(y);
}

static void gemm_xtdy_shapes(void **state)
{
    trand r = {24};
    const int ins[] = {1, 4, 5, 7, 33, 100}, ns[] = {1, 10, 16, 17, 64, 130};
    const int batch = 13;
    for (size_t a = 0; a < sizeof ins / sizeof ins[0]; a++)
        for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
            int in = ins[a], n = ns[c];
            float *x = frand(&r, (size_t)batch * in, -1, 1);
            float *dy = frand(&r, (size_t)batch * n, -1, 1);
            float *dw = falloc((size_t)in * n);
            seqrt_gemm_xtdy(batch, in, n, x, dy, dw, 0, in);
            for (int i = 0; i < in; i++)
                for (int j = 0; j < n; j++) {
                    double want = 0;
                    for (int q = 0; q < batch; q++)
                        want += (double)x[(size_t)q * in + i] * dy[(size_t)q * n + j];
                    assert_close(dw[(size_t)i * n + j], want, 1e-5);
                }
            /* rows [2, in-1) alone: the same bits, nothing else written */
            if (in > 3) {
                float *part = falloc((size_t)in * n);
                for (size_t i = 0; i < (size_t)in * n; i++)
                    part[i] = -7.0f;
                seqrt_gemm_xtdy(batch, in, n, x, dy, part, 2, in - 1);
                for (int i = 0; i < in; i++)
                    for (int j = 0; j < n; j++)
                        assert_true(part[(size_t)i * n + j] ==
                                    (i >= 2 && i < in - 1 ? dw[(size_t)i * n + j] : -7.0f));
                free(part);
            }
            free(x); free(dy); free(dw);
        }
}

/* The tutorial's first two layers on 2 threads (the first is large enough
 * to be split), against the double reference; a second run gives the same
 * bits. */
static void dense_two_threads(void **state)
{
    trand r = {25};
    const int shapes[][3] = {{32, 784, 128}, {32, 128, 64}, {5, 300, 700}};
    seqrt_set_threads(2);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int batch = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        size_t nx = (size_t)batch * in, nw = (size_t)in * out, ny = (size_t)batch * out;
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -0.1, 0.1);
        float *b = frand(&r, out, -1, 1), *dy = frand(&r, ny, -1, 1);
        float *y = falloc(ny), *y2 = falloc(ny), *dx = falloc(nx), *dx2 = falloc(nx);
        float *dw = falloc(nw), *dw2 = falloc(nw), *db = falloc(out), *db2 = falloc(out);
        seqrt_dense_forward(batch, in, out, x, w, b, y);
        seqrt_dense_backward(batch, in, out, x, w, dy, dx, dw, db);
        for (int i = 0; i < batch; i += 7)
            for (int j = 0; j < out; j++)
                assert_close(y[(size_t)i * out + j], ref_xw(x, w, b, out, in, i, j), 1e-4);
        for (int i = 0; i < in; i += 5)
            for (int j = 0; j < out; j += 3) {
                double want = 0;
                for (int q = 0; q < batch; q++)
                    want += (double)x[(size_t)q * in + i] * dy[(size_t)q * out + j];
                assert_close(dw[(size_t)i * out + j], want, 1e-4);
            }
        for (int q = 0; q < batch; q += 3)
            for (int i = 0; i < in; i += 11) {
                double want = 0;
                for (int j = 0; j < out; j++)
                    want += (double)dy[(size_t)q * out + j] * w[(size_t)i * out + j];
                assert_close(dx[(size_t)q * in + i], want, 1e-4);
            }
        seqrt_dense_forward(batch, in, out, x, w, b, y2);
        seqrt_dense_backward(batch, in, out, x, w, dy, dx2, dw2, db2);
        assert_memory_equal(y, y2, ny * sizeof(float));
        assert_memory_equal(dx, dx2, nx * sizeof(float));
        assert_memory_equal(dw, dw2, nw * sizeof(float));
        assert_memory_equal(db, db2, (size_t)out * sizeof(float));
        free(x); free(w); free(b); free(dy); free(y); free(y2);
        free(dx); free(dx2); free(dw); free(dw2); free(db); free(db2);
    }
    seqrt_set_threads(1);
}

/* Adam is elementwise: split over 2 threads it gives 1 thread's bits. */
static void adam_two_threads(void **state)
{
    trand r = {26};
    size_t n = 100003; /* large enough to be split, not a multiple of 16 */
    float *g = frand(&r, n, -1, 1);
    float *p1 = frand(&r, n, -1, 1), *m1 = frand(&r, n, -0.1, 0.1), *v1 = frand(&r, n, 0, 0.1);
    float *p2 = falloc(n), *m2 = falloc(n), *v2 = falloc(n);
    memcpy(p2, p1, n * sizeof(float));
    memcpy(m2, m1, n * sizeof(float));
    memcpy(v2, v1, n * sizeof(float));
    seqrt_set_threads(1);
    for (int t = 1; t <= 3; t++)
        seqrt_adam_step(n, p1, g, m1, v1, t, 0.001f, 0.9f, 0.999f, 1e-7f);
    seqrt_set_threads(2);
    for (int t = 1; t <= 3; t++)
        seqrt_adam_step(n, p2, g, m2, v2, t, 0.001f, 0.9f, 0.999f, 1e-7f);
    seqrt_set_threads(1);
    assert_memory_equal(p1, p2, n * sizeof(float));
    assert_memory_equal(m1, m2, n * sizeof(float));
    assert_memory_equal(v1, v2, n * sizeof(float));
    free(g); free(p1); free(m1); free(v1); free(p2); free(m2); free(v2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gemm_xw_shapes),
        cmocka_unit_test(gemm_xw_ranges),
        cmocka_unit_test(gemm_xw_k_slice),
        cmocka_unit_test(gemm_xtdy_shapes),
        cmocka_unit_test(dense_two_threads),
        cmocka_unit_test(adam_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
