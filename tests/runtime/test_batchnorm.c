/* test_batchnorm.c: batch normalization in training mode (batch
 * statistics, Keras's moving-statistics update), inference mode, the batch
 * of one sample, and the backward pass against finite differences. */
#include "kernel_test.h"

#include "seqrt.h"

/* per-feature mean and biased variance of y[batch,features], in double */
static void column_stats(int batch, int features, const float *y, int f,
                         double *mean, double *var)
{
    double m = 0.0, v = 0.0;
    for (int i = 0; i < batch; i++)
        m += y[i * features + f];
    m /= batch;
    for (int i = 0; i < batch; i++) {
        double d = y[i * features + f] - m;
        v += d * d;
    }
    *mean = m;
    *var = v / batch;
}

static void bn_forward_hand(void **state)
{
    /* x[2,2] = [[1,2],[3,2]]: feature 0 has mean 2, biased var 1;
     * feature 1 mean 2, var 0. eps 0.001, momentum 0.9. */
    const float x[4] = {1, 2, 3, 2};
    const float gamma[2] = {2, 1}, beta[2] = {0.5f, -1};
    float mm[2] = {0, 0}, mv[2] = {1, 1};
    float y[4], xhat[4], inv_std[2];
    seqrt_batchnorm_forward_train(2, 2, x, gamma, beta, mm, mv, 0.9f, 0.001f,
                                  y, xhat, inv_std);
    double s0 = 1.0 / sqrt(1.001), s1 = 1.0 / sqrt(0.001);
    assert_close(inv_std[0], s0, 1e-6);
    assert_close(inv_std[1], s1, 1e-3);
    assert_close(xhat[0], -s0, 1e-6);
    assert_close(xhat[2], s0, 1e-6);
    assert_close(xhat[1], 0.0, 0.0);
    assert_close(xhat[3], 0.0, 0.0);
    assert_close(y[0], 0.5 - 2 * s0, 1e-6);
    assert_close(y[2], 0.5 + 2 * s0, 1e-6);
    assert_close(y[1], -1.0, 0.0); /* zero variance: exactly beta */
    assert_close(y[3], -1.0, 0.0);
    /* moving = moving*0.9 + batch*0.1 */
    assert_close(mm[0], 0.2, 1e-7);
    assert_close(mm[1], 0.2, 1e-7);
    assert_close(mv[0], 1.0, 1e-7);
    assert_close(mv[1], 0.9, 1e-7);
}

static void bn_train_normalizes(void **state)
{
    /* features with very different offsets and scales; gamma 1, beta 0:
     * each output column has mean 0 and variance var/(var+eps) ~ 1 */
    enum { B = 64, F = 7 };
    trand r = {21};
    float x[B * F], y[B * F], xhat[B * F], inv_std[F];
    float gamma[F], beta[F], mm[F], mv[F];
    for (int f = 0; f < F; f++) {
        gamma[f] = 1, beta[f] = 0, mm[f] = 0, mv[f] = 1;
        double offset = 10.0 * (f - 3), scale = 2.0 + f;
        for (int i = 0; i < B; i++)
            x[i * F + f] = (float)(offset + scale * (trand_unit(&r) - 0.5));
    }
    seqrt_batchnorm_forward_train(B, F, x, gamma, beta, mm, mv, 0.99f, 1e-3f,
                                  y, xhat, inv_std);
    for (int f = 0; f < F; f++) {
        double xm, xv, ym, yv;
        column_stats(B, F, x, f, &xm, &xv);
        column_stats(B, F, y, f, &ym, &yv);
        assert_close(ym, 0.0, 1e-5);
        assert_close(yv, xv / (xv + 1e-3), 1e-4);
        assert_close(yv, 1.0, 5e-3); /* eps shrinks the variance a little */
        assert_close(inv_std[f], 1.0 / sqrt(xv + 1e-3), 1e-4 / sqrt(xv + 1e-3));
    }
}

static void bn_moving_stats_two_steps(void **state)
{
    enum { B = 5, F = 3 };
    trand r = {22};
    float y[B * F], xhat[B * F], inv_std[F];
    const float gamma[F] = {1, 2, 3}, beta[F] = {0, 1, 2};
    float mm[F] = {0, 0.5f, -1}, mv[F] = {1, 2, 0.5f};
    double want_mm[F], want_mv[F];
    for (int f = 0; f < F; f++)
        want_mm[f] = mm[f], want_mv[f] = mv[f];
    const float momentum = 0.99f;
    for (int step = 0; step < 2; step++) {
        float x[B * F];
        for (int i = 0; i < B * F; i++)
            x[i] = trand_range(&r, -2 + step, 3 + 2 * step);
        seqrt_batchnorm_forward_train(B, F, x, gamma, beta, mm, mv, momentum,
                                      1e-3f, y, xhat, inv_std);
        for (int f = 0; f < F; f++) {
            double m, v;
            column_stats(B, F, x, f, &m, &v);
            want_mm[f] = want_mm[f] * momentum + m * (1.0 - momentum);
            want_mv[f] = want_mv[f] * momentum + v * (1.0 - momentum);
        }
    }
    for (int f = 0; f < F; f++) {
        assert_close(mm[f], want_mm[f], 1e-6);
        assert_close(mv[f], want_mv[f], 1e-6);
    }
}

static void bn_infer_uses_moving_stats(void **state)
{
    enum { B = 3, F = 4 };
    const float x[B * F] = {1, 2, 3, 4, -1, 0, 1, 2, 5, 5, 5, 5};
    const float gamma[F] = {1, 2, 0.5f, -1}, beta[F] = {0, 1, -1, 0.25f};
    const float mm[F] = {0.5f, -1, 2, 0}, mv[F] = {4, 0.25f, 1, 9};
    const float eps = 1e-3f;
    float y[B * F];
    seqrt_batchnorm_forward_infer(B, F, x, gamma, beta, mm, mv, eps, y);
    for (int i = 0; i < B; i++)
        for (int f = 0; f < F; f++) {
            double want = gamma[f] * (x[i * F + f] - mm[f]) / sqrt(mv[f] + (double)eps) + beta[f];
            assert_close(y[i * F + f], want, 1e-5);
        }
    /* the last row is constant: batch statistics would map it elsewhere,
     * the moving ones keep rows independent of each other */
    float y1[F];
    seqrt_batchnorm_forward_infer(1, F, x + 2 * F, gamma, beta, mm, mv, eps, y1);
    for (int f = 0; f < F; f++)
        assert_close(y1[f], y[2 * F + f], 0.0);
}

static void bn_batch_of_one(void **state)
{
    enum { F = 6 };
    trand r = {23};
    float x[F], y[F], xhat[F], inv_std[F], dy[F], dx[F], dg[F], db[F];
    float gamma[F], beta[F], mm[F], mv[F];
    for (int f = 0; f < F; f++) {
        x[f] = trand_range(&r, -100, 100);
        gamma[f] = trand_range(&r, 0.5, 2);
        beta[f] = trand_range(&r, -1, 1);
        dy[f] = trand_range(&r, -1, 1);
        mm[f] = 0, mv[f] = 1;
    }
    seqrt_batchnorm_forward_train(1, F, x, gamma, beta, mm, mv, 0.99f, 1e-3f,
                                  y, xhat, inv_std);
    seqrt_batchnorm_backward(1, F, xhat, gamma, inv_std, dy, dx, dg, db);
    for (int f = 0; f < F; f++) {
        assert_close(y[f], beta[f], 0.0);
        assert_close(xhat[f], 0.0, 0.0);
        assert_true(isfinite(inv_std[f]));
        assert_true(isfinite(mv[f]) && isfinite(mm[f]));
        assert_close(mv[f], 0.99, 1e-7); /* var 0 pulls moving var down */
        assert_close(dx[f], 0.0, 0.0);   /* output does not depend on x */
        assert_close(db[f], dy[f], 0.0);
        assert_close(dg[f], 0.0, 0.0);
    }
}

static void bn_backward_skips_null_dx(void **state)
{
    const float xhat[4] = {-1, 0.5f, 1, -0.5f}, gamma[2] = {1, 2}, inv_std[2] = {1, 1};
    const float dy[4] = {1, 2, 3, 4};
    float dg[2], db[2];
    seqrt_batchnorm_backward(2, 2, xhat, gamma, inv_std, dy, NULL, dg, db);
    assert_close(db[0], 4.0, 1e-6);
    assert_close(db[1], 6.0, 1e-6);
    assert_close(dg[0], -1 + 3, 1e-6);
    assert_close(dg[1], 1 - 2, 1e-6);
}

/* ------------------------------------------------------- gradient check */

typedef struct bn_ctx {
    int batch, features;
    double eps;
    double *x, *gamma, *beta, *r;
} bn_ctx;

/* L = sum(r * (gamma (x - mu)/sqrt(var + eps) + beta)), biased var */
static double bn_ref(void *p)
{
    const bn_ctx *c = p;
    int B = c->batch, F = c->features;
    double total = 0.0;
    for (int f = 0; f < F; f++) {
        double mu = 0.0, var = 0.0;
        for (int i = 0; i < B; i++)
            mu += c->x[i * F + f];
        mu /= B;
        for (int i = 0; i < B; i++)
            var += (c->x[i * F + f] - mu) * (c->x[i * F + f] - mu);
        var /= B;
        double s = 1.0 / sqrt(var + c->eps);
        for (int i = 0; i < B; i++)
            total += c->r[i * F + f] * (c->gamma[f] * (c->x[i * F + f] - mu) * s + c->beta[f]);
    }
    return total;
}

static void bn_gradcheck(void **state)
{
    trand r = {24};
    double worst_dx = 0, worst_dg = 0, worst_db = 0;
    for (size_t s = 0; s < GC_NSHAPES; s++) {
        int B = gc_shapes[s][0], F = gc_shapes[s][1];
        size_t n = (size_t)B * F;
        float *x = frand(&r, n, -2, 2), *dy = frand(&r, n, -1, 1);
        float *gamma = frand(&r, F, 0.5, 1.5), *beta = frand(&r, F, -1, 1);
        float *mm = falloc(F), *mv = falloc(F), *inv_std = falloc(F);
        float *y = falloc(n), *xhat = falloc(n), *dx = falloc(n);
        float *dg = falloc(F), *db = falloc(F);
        for (int f = 0; f < F; f++)
            mm[f] = 0, mv[f] = 1;
        const float eps = 1e-3f;
        seqrt_batchnorm_forward_train(B, F, x, gamma, beta, mm, mv, 0.99f, eps,
                                      y, xhat, inv_std);
        seqrt_batchnorm_backward(B, F, xhat, gamma, inv_std, dy, dx, dg, db);

        bn_ctx c = {B, F, eps, widen(x, n), widen(gamma, F), widen(beta, F), widen(dy, n)};
        double *num = dalloc(n);
        gc_numeric(bn_ref, &c, c.x, n, num);
        double e = gc_rel_err(dx, num, n);
        worst_dx = e > worst_dx ? e : worst_dx;
        gc_numeric(bn_ref, &c, c.gamma, (size_t)F, num);
        e = gc_rel_err(dg, num, (size_t)F);
        worst_dg = e > worst_dg ? e : worst_dg;
        gc_numeric(bn_ref, &c, c.beta, (size_t)F, num);
        e = gc_rel_err(db, num, (size_t)F);
        worst_db = e > worst_db ? e : worst_db;

        free(num);
        free(c.x); free(c.gamma); free(c.beta); free(c.r);
        free(x); free(dy); free(gamma); free(beta); free(mm); free(mv);
        free(inv_std); free(y); free(xhat); free(dx); free(dg); free(db);
    }
    gc_report("batchnorm.dx", worst_dx);
    gc_report("batchnorm.dgamma", worst_dg);
    gc_report("batchnorm.dbeta", worst_db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bn_forward_hand),
        cmocka_unit_test(bn_train_normalizes),
        cmocka_unit_test(bn_moving_stats_two_steps),
        cmocka_unit_test(bn_infer_uses_moving_stats),
        cmocka_unit_test(bn_batch_of_one),
        cmocka_unit_test(bn_backward_skips_null_dx),
        cmocka_unit_test(bn_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
