/* test_dense.c: the dense kernel (y = x W + b through cblas_sgemm):
 * forward and backward on hand-computed values, the NULL skips, and the
 * gradients of x, W and b against double-precision finite differences. */
#include "kernel_test.h"

#include "seqrt.h"

/* x[2,3] = [[1,2,3],[4,5,6]], w[3,2] = [[1,0],[0,1],[1,-1]], b = [0.5,-2]
 * x w = [[1+3, 2-3], [4+6, 5-6]] = [[4,-1],[10,-1]] */
static const float hx[6] = {1, 2, 3, 4, 5, 6};
static const float hw[6] = {1, 0, 0, 1, 1, -1};
static const float hb[2] = {0.5f, -2.0f};

static void dense_forward_hand(void **state)
{
    float y[4];
    seqrt_dense_forward(2, 3, 2, hx, hw, hb, y);
    assert_close(y[0], 4.5, 1e-6);
    assert_close(y[1], -3.0, 1e-6);
    assert_close(y[2], 10.5, 1e-6);
    assert_close(y[3], -3.0, 1e-6);
}

static void dense_forward_no_bias(void **state)
{
    /* stale values in y must not leak in: beta is 0 without a bias */
    float y[4] = {99, 99, 99, 99};
    seqrt_dense_forward(2, 3, 2, hx, hw, NULL, y);
    assert_close(y[0], 4.0, 1e-6);
    assert_close(y[1], -1.0, 1e-6);
    assert_close(y[2], 10.0, 1e-6);
    assert_close(y[3], -1.0, 1e-6);
}

static void dense_backward_hand(void **state)
{
    /* dy = identity: dw = x^T = [[1,4],[2,5],[3,6]], db = [1,1],
     * dx = w^T = [[1,0,1],[0,1,-1]]. Buffers start dirty: gradients are
     * written, not accumulated. */
    const float dy[4] = {1, 0, 0, 1};
    float dx[6], dw[6], db[2];
    for (int i = 0; i < 6; i++)
        dx[i] = dw[i] = 7.0f;
    db[0] = db[1] = 7.0f;
    seqrt_dense_backward(2, 3, 2, hx, hw, dy, dx, dw, db);
    const float want_dw[6] = {1, 4, 2, 5, 3, 6};
    const float want_dx[6] = {1, 0, 1, 0, 1, -1};
    for (int i = 0; i < 6; i++) {
        assert_close(dw[i], want_dw[i], 1e-6);
        assert_close(dx[i], want_dx[i], 1e-6);
    }
    assert_close(db[0], 1.0, 1e-6);
    assert_close(db[1], 1.0, 1e-6);
}

static void dense_backward_skips_null(void **state)
{
    /* dx and db NULL (the first layer, a layer without bias): dw is still
     * right, nothing is dereferenced */
    const float dy[4] = {1, 2, -1, 0.5f};
    float dw[6];
    seqrt_dense_backward(2, 3, 2, hx, hw, dy, NULL, dw, NULL);
    /* dw[k][j] = sum_i x[i][k] dy[i][j] */
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 2; j++)
            assert_close(dw[k * 2 + j], hx[k] * dy[j] + hx[3 + k] * dy[2 + j], 1e-6);
}

/* ------------------------------------------------------- gradient check */

typedef struct dense_ctx {
    int batch, in, out;
    double *x, *w, *b, *r; /* r: the upstream gradient dL/dy */
} dense_ctx;

/* L = sum_ij (x w + b)_ij r_ij, all in double */
static double dense_ref(void *p)
{
    const dense_ctx *c = p;
    double total = 0.0;
    for (int i = 0; i < c->batch; i++)
        for (int j = 0; j < c->out; j++) {
            double y = c->b[j];
            for (int k = 0; k < c->in; k++)
                y += c->x[i * c->in + k] * c->w[k * c->out + j];
            total += y * c->r[i * c->out + j];
        }
    return total;
}

static void dense_gradcheck(void **state)
{
    static const int outs[] = {1, 3, 9, 4, 2, 10};
    trand r = {11};
    double worst_dx = 0, worst_dw = 0, worst_db = 0;
    for (size_t s = 0; s < GC_NSHAPES; s++) {
        int batch = gc_shapes[s][0], in = gc_shapes[s][1], out = outs[s];
        size_t nx = (size_t)batch * in, nw = (size_t)in * out, ny = (size_t)batch * out;
        float *x = frand(&r, nx, -1, 1), *w = frand(&r, nw, -1, 1);
        float *b = frand(&r, out, -1, 1), *dy = frand(&r, ny, -1, 1);
        float *dx = falloc(nx), *dw = falloc(nw), *db = falloc(out);
        seqrt_dense_backward(batch, in, out, x, w, dy, dx, dw, db);

        dense_ctx c = {batch, in, out, widen(x, nx), widen(w, nw), widen(b, out),
                       widen(dy, ny)};
        double *num = dalloc(nx > nw ? nx : nw);
        gc_numeric(dense_ref, &c, c.x, nx, num);
        double e = gc_rel_err(dx, num, nx);
        worst_dx = e > worst_dx ? e : worst_dx;
        gc_numeric(dense_ref, &c, c.w, nw, num);
        e = gc_rel_err(dw, num, nw);
        worst_dw = e > worst_dw ? e : worst_dw;
        gc_numeric(dense_ref, &c, c.b, (size_t)out, num);
        e = gc_rel_err(db, num, (size_t)out);
        worst_db = e > worst_db ? e : worst_db;

        free(num);
        free(c.x); free(c.w); free(c.b); free(c.r);
        free(x); free(w); free(b); free(dy); free(dx); free(dw); free(db);
    }
    gc_report("dense.dx", worst_dx);
    gc_report("dense.dw", worst_dw);
    gc_report("dense.db", worst_db);
}

/* the forward against the double reference on the same random shapes */
static void dense_forward_random(void **state)
{
    trand r = {12};
    int batch = 17, in = 13, out = 9;
    float *x = frand(&r, (size_t)batch * in, -1, 1), *w = frand(&r, (size_t)in * out, -1, 1);
    float *b = frand(&r, out, -1, 1), *y = falloc((size_t)batch * out);
    seqrt_dense_forward(batch, in, out, x, w, b, y);
    for (int i = 0; i < batch; i++)
        for (int j = 0; j < out; j++) {
            double want = b[j];
            for (int k = 0; k < in; k++)
                want += (double)x[i * in + k] * w[k * out + j];
            assert_close(y[i * out + j], want, 1e-5);
        }
    free(x); free(w); free(b); free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dense_forward_hand),
        cmocka_unit_test(dense_forward_no_bias),
        cmocka_unit_test(dense_forward_random),
        cmocka_unit_test(dense_backward_hand),
        cmocka_unit_test(dense_backward_skips_null),
        cmocka_unit_test(dense_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
