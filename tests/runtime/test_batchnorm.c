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


/* ------------------------------------- center=false, scale=false, frozen */

/* bn_ref with gamma NULL (1) or beta NULL (0) */
typedef struct bn_opt_ctx {
    bn_ctx c;
    int    has_gamma, has_beta;
} bn_opt_ctx;

static double bn_opt_ref(void *p)
{
    bn_opt_ctx *o = p;
    int F = o->c.features;
    double *g = o->c.gamma, *b = o->c.beta;
    double ones[64], zeros[64];
    for (int f = 0; f < F; f++)
        ones[f] = 1.0, zeros[f] = 0.0;
    if (!o->has_gamma)
        o->c.gamma = ones;
    if (!o->has_beta)
        o->c.beta = zeros;
    double v = bn_ref(&o->c);
    o->c.gamma = g;
    o->c.beta = b;
    return v;
}

/* scale=false, center=false and both: the kernels take NULL, the output is
 * the reference's with gamma 1 / beta 0, and the gradients of x and of the
 * remaining parameter match finite differences */
static void bn_without_gamma_beta_gradcheck(void **state)
{
    trand r = {31};
    const char *const names[3] = {"batchnorm_scale_false", "batchnorm_center_false",
                                  "batchnorm_neither"};
    for (int variant = 0; variant < 3; variant++) {
        int has_gamma = variant == 1, has_beta = variant == 0;
        double worst_dx = 0, worst_dp = 0, worst_y = 0;
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
            const float *gp = has_gamma ? gamma : NULL, *bp = has_beta ? beta : NULL;
            seqrt_batchnorm_forward_train(B, F, x, gp, bp, mm, mv, 0.99f, 1e-3f, y, xhat,
                                          inv_std);
            seqrt_batchnorm_backward(B, F, xhat, gp, inv_std, dy, dx, has_gamma ? dg : NULL,
                                     has_beta ? db : NULL);
            bn_opt_ctx o = {{B, F, 1e-3, widen(x, n), widen(gamma, F), widen(beta, F),
                             widen(dy, n)},
                            has_gamma, has_beta};
            /* forward: y against the reference's output, row by row */
            for (size_t i = 0; i < n; i++) {
                double save = o.c.r[i];
                for (size_t j = 0; j < n; j++)
                    o.c.r[j] = j == i;
                double want = bn_opt_ref(&o), d = fabs(y[i] - want);
                worst_y = d > worst_y ? d : worst_y;
                for (size_t j = 0; j < n; j++)
                    o.c.r[j] = dy[j];
                (void)save;
            }
            double *num = dalloc(n);
            gc_numeric(bn_opt_ref, &o, o.c.x, n, num);
            double e = gc_rel_err(dx, num, n);
            worst_dx = e > worst_dx ? e : worst_dx;
            gc_numeric(bn_opt_ref, &o, has_gamma ? o.c.gamma : o.c.beta, (size_t)F, num);
            e = gc_rel_err(has_gamma ? dg : db, num, (size_t)F);
            if (has_gamma || has_beta)
                worst_dp = e > worst_dp ? e : worst_dp;
            free(num);
            free(o.c.x); free(o.c.gamma); free(o.c.beta); free(o.c.r);
            free(x); free(dy); free(gamma); free(beta); free(mm); free(mv);
            free(inv_std); free(y); free(xhat); free(dx); free(dg); free(db);
        }
        printf("%s forward max_abs_err=%.1e\n", names[variant], worst_y);
        assert_true(worst_y < 1e-4);
        gc_report(names[variant], worst_dx);
        if (has_gamma || has_beta)
            gc_report(has_gamma ? "batchnorm_center_false.dgamma" : "batchnorm_scale_false.dbeta",
                      worst_dp);
    }
}

/* more features than the backward's stack block (256): the blocked path */
static void bn_backward_wide_blocks(void **state)
{
    enum { B = 5, F = 600 };
    trand r = {32};
    float *x = frand(&r, B * F, -2, 2), *dy = frand(&r, B * F, -1, 1);
    float *gamma = frand(&r, F, 0.5, 1.5), *beta = frand(&r, F, -1, 1);
    float mm[F], mv[F], inv_std[F], y[B * F], xhat[B * F], dx1[B * F], dx2[B * F];
    float dg1[F], db1[F], db2[F];
    for (int f = 0; f < F; f++)
        mm[f] = 0, mv[f] = 1;
    seqrt_batchnorm_forward_train(B, F, x, gamma, beta, mm, mv, 0.99f, 1e-3f, y, xhat, inv_std);
    seqrt_batchnorm_backward(B, F, xhat, gamma, inv_std, dy, dx1, dg1, db1);
    seqrt_batchnorm_backward(B, F, xhat, gamma, inv_std, dy, dx2, NULL, db2);
    for (int i = 0; i < B * F; i++)
        assert_close(dx2[i], dx1[i], 1e-5 * (1 + fabs(dx1[i])));
    for (int f = 0; f < F; f++)
        assert_close(db2[f], db1[f], 1e-5 * (1 + fabs(db1[f])));
    free(x); free(dy); free(gamma); free(beta);
}

/* frozen: L = sum r * (gamma (x - mm) / sqrt(mv + eps) + beta) */
typedef struct frozen_ctx {
    int B, F;
    double eps, *x, *gamma, *mm, *mv, *r;
} frozen_ctx;

static double frozen_ref(void *p)
{
    const frozen_ctx *c = p;
    double t = 0;
    for (int i = 0; i < c->B; i++)
        for (int f = 0; f < c->F; f++)
            t += c->r[i * c->F + f] * c->gamma[f] * (c->x[i * c->F + f] - c->mm[f]) /
                 sqrt(c->mv[f] + c->eps);
    return t;
}

static void bn_frozen_gradcheck(void **state)
{
    trand r = {33};
    double worst = 0;
    for (size_t s = 0; s < GC_NSHAPES; s++) {
        int B = gc_shapes[s][0], F = gc_shapes[s][1];
        size_t n = (size_t)B * F;
        float *x = frand(&r, n, -2, 2), *dy = frand(&r, n, -1, 1);
        float *gamma = frand(&r, F, 0.5, 1.5), *mm = frand(&r, F, -1, 1);
        float *mv = frand(&r, F, 0.2, 3), *dx = falloc(n);
        seqrt_batchnorm_frozen_backward(B, F, gamma, mv, 1e-3f, dy, dx);
        frozen_ctx c = {B, F, 1e-3, widen(x, n), widen(gamma, F), widen(mm, F), widen(mv, F),
                        widen(dy, n)};
        double *num = dalloc(n);
        gc_numeric(frozen_ref, &c, c.x, n, num);
        double e = gc_rel_err(dx, num, n);
        worst = e > worst ? e : worst;
        /* scale=false: gamma 1 */
        seqrt_batchnorm_frozen_backward(B, F, NULL, mv, 1e-3f, dy, dx);
        for (int f = 0; f < F; f++)
            c.gamma[f] = 1.0;
        gc_numeric(frozen_ref, &c, c.x, n, num);
        e = gc_rel_err(dx, num, n);
        worst = e > worst ? e : worst;
        free(num); free(c.x); free(c.gamma); free(c.mm); free(c.mv); free(c.r);
        free(x); free(dy); free(gamma); free(mm); free(mv); free(dx);
    }
    gc_report("batchnorm_frozen.dx", worst);
}

/* --------------------------------------------------------- ghost batches */

/* samples [k*vb, ...) per group, the remainder in the last (seqrt.h) */
static void ghost_group(int n, int vb, int k, int *first, int *count, int *ngroups)
{
    int g = n / vb;
    *ngroups = g > 0 ? g : 1;
    *first = *ngroups == 1 ? 0 : k * vb;
    *count = k == *ngroups - 1 ? n - *first : vb;
}

typedef struct ghost_ctx {
    int n, per, F, vb;
    double eps, *x, *gamma, *beta, *r;
} ghost_ctx;

/* L = sum r * y, y normalized per ghost batch of samples (all their rows) */
static double ghost_ref(void *p)
{
    const ghost_ctx *c = p;
    int first, count, ng;
    ghost_group(c->n, c->vb, 0, &first, &count, &ng);
    double t = 0;
    for (int k = 0; k < ng; k++) {
        ghost_group(c->n, c->vb, k, &first, &count, &ng);
        int r0 = first * c->per, rows = count * c->per;
        for (int f = 0; f < c->F; f++) {
            double mu = 0, var = 0;
            for (int i = r0; i < r0 + rows; i++)
                mu += c->x[i * c->F + f];
            mu /= rows;
            for (int i = r0; i < r0 + rows; i++)
                var += (c->x[i * c->F + f] - mu) * (c->x[i * c->F + f] - mu);
            var /= rows;
            for (int i = r0; i < r0 + rows; i++)
                t += c->r[i * c->F + f] *
                     (c->gamma[f] * (c->x[i * c->F + f] - mu) / sqrt(var + c->eps) + c->beta[f]);
        }
    }
    return t;
}

/* odd shapes: n samples of per rows, ghost batches of vb (with and without
 * a remainder, and vb larger than the batch) */
static void bn_ghost_gradcheck(void **state)
{
    static const int cases[][4] = {/* n, per, F, vb */
                                   {8, 1, 5, 4},  {11, 1, 3, 4}, {7, 3, 4, 2},
                                   {3, 1, 6, 5},  {6, 4, 2, 6},  {9, 1, 7, 2}};
    trand r = {34};
    double worst_dx = 0, worst_dg = 0, worst_db = 0, worst_y = 0;
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        int N = cases[s][0], per = cases[s][1], F = cases[s][2], vb = cases[s][3];
        size_t n = (size_t)N * per * F;
        float *x = frand(&r, n, -2, 2), *dy = frand(&r, n, -1, 1);
        float *gamma = frand(&r, F, 0.5, 1.5), *beta = frand(&r, F, -1, 1);
        float *mm = falloc(F), *mv = falloc(F), *inv_std = falloc((size_t)N * F);
        float *y = falloc(n), *xhat = falloc(n), *dx = falloc(n);
        float *dg = falloc(F), *db = falloc(F);
        for (int f = 0; f < F; f++)
            mm[f] = 0.5f, mv[f] = 2;
        seqrt_batchnorm_ghost_forward_train(N, per, F, vb, x, gamma, beta, mm, mv, 0.9f, 1e-3f,
                                            y, xhat, inv_std);
        seqrt_batchnorm_ghost_backward(N, per, F, vb, xhat, gamma, inv_std, dy, dx, dg, db);
        ghost_ctx c = {N, per, F, vb, 1e-3, widen(x, n), widen(gamma, F), widen(beta, F),
                       widen(dy, n)};
        /* forward values, one output at a time through r = e_i */
        double *rsave = c.r;
        double *e = dalloc(n);
        c.r = e;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++)
                e[j] = j == i;
            double d = fabs(y[i] - ghost_ref(&c));
            worst_y = d > worst_y ? d : worst_y;
        }
        c.r = rsave;
        free(e);
        /* the moving statistics: the mean of the groups' means and variances */
        int first, count, ng;
        ghost_group(N, vb, 0, &first, &count, &ng);
        for (int f = 0; f < F; f++) {
            double gm = 0, gv = 0;
            for (int k = 0; k < ng; k++) {
                ghost_group(N, vb, k, &first, &count, &ng);
                int r0 = first * per, rows = count * per;
                double mu = 0, var = 0;
                for (int i = r0; i < r0 + rows; i++)
                    mu += c.x[i * F + f];
                mu /= rows;
                for (int i = r0; i < r0 + rows; i++)
                    var += (c.x[i * F + f] - mu) * (c.x[i * F + f] - mu);
                gm += mu / ng;
                gv += var / rows / ng;
            }
            assert_close(mm[f], 0.5 * 0.9 + 0.1 * gm, 1e-5);
            assert_close(mv[f], 2.0 * 0.9 + 0.1 * gv, 1e-5);
        }
        double *num = dalloc(n);
        gc_numeric(ghost_ref, &c, c.x, n, num);
        double err = gc_rel_err(dx, num, n);
        worst_dx = err > worst_dx ? err : worst_dx;
        gc_numeric(ghost_ref, &c, c.gamma, (size_t)F, num);
        err = gc_rel_err(dg, num, (size_t)F);
        worst_dg = err > worst_dg ? err : worst_dg;
        gc_numeric(ghost_ref, &c, c.beta, (size_t)F, num);
        err = gc_rel_err(db, num, (size_t)F);
        worst_db = err > worst_db ? err : worst_db;
        free(num);
        free(c.x); free(c.gamma); free(c.beta); free(c.r);
        free(x); free(dy); free(gamma); free(beta); free(mm); free(mv);
        free(inv_std); free(y); free(xhat); free(dx); free(dg); free(db);
    }
    printf("batchnorm_ghost forward max_abs_err=%.1e\n", worst_y);
    assert_true(worst_y < 1e-4);
    gc_report("batchnorm_ghost.dx", worst_dx);
    gc_report("batchnorm_ghost.dgamma", worst_dg);
    gc_report("batchnorm_ghost.dbeta", worst_db);
}

/* a ghost batch as large as the batch is plain batchnorm, bit for bit in
 * the output, and two groups differ from one */
static void bn_ghost_one_group_is_batchnorm(void **state)
{
    enum { B = 6, F = 3 };
    trand r = {35};
    float *x = frand(&r, B * F, -2, 2);
    const float gamma[F] = {1, 2, 0.5f}, beta[F] = {0, 1, -1};
    float mm1[F] = {0}, mv1[F] = {1, 1, 1}, mm2[F] = {0}, mv2[F] = {1, 1, 1};
    float y1[B * F], y2[B * F], h1[B * F], h2[B * F], s1[F], s2[B * F];
    seqrt_batchnorm_forward_train(B, F, x, gamma, beta, mm1, mv1, 0.99f, 1e-3f, y1, h1, s1);
    seqrt_batchnorm_ghost_forward_train(B, 1, F, B, x, gamma, beta, mm2, mv2, 0.99f, 1e-3f, y2,
                                        h2, s2);
    for (int i = 0; i < B * F; i++)
        assert_close(y2[i], y1[i], 1e-6);
    seqrt_batchnorm_ghost_forward_train(B, 1, F, 3, x, gamma, beta, mm2, mv2, 0.99f, 1e-3f, y2,
                                        h2, s2);
    double diff = 0;
    for (int i = 0; i < B * F; i++)
        diff += fabs(y2[i] - y1[i]);
    assert_true(diff > 1e-3);
    free(x);
}


/* ---------------------------------------------------- batch renormalization */

typedef struct renorm_ctx {
    int B, F;
    double eps, *x, *gamma, *beta, *r;
    double *rr, *dd; /* r and d: constants, computed once at the kernel's x */
} renorm_ctx;

/* L = sum r * (gamma (r_f (x - mu)/sqrt(var + eps) + d_f) + beta) */
static double renorm_ref(void *p)
{
    const renorm_ctx *c = p;
    double t = 0;
    for (int f = 0; f < c->F; f++) {
        double mu = 0, var = 0;
        for (int i = 0; i < c->B; i++)
            mu += c->x[i * c->F + f];
        mu /= c->B;
        for (int i = 0; i < c->B; i++)
            var += (c->x[i * c->F + f] - mu) * (c->x[i * c->F + f] - mu);
        var /= c->B;
        for (int i = 0; i < c->B; i++) {
            double h = (c->x[i * c->F + f] - mu) / sqrt(var + c->eps);
            t += c->r[i * c->F + f] * (c->gamma[f] * (c->rr[f] * h + c->dd[f]) + c->beta[f]);
        }
    }
    return t;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* r and d from the batch and the moving statistics (before the update), in
 * double; the kernel's must agree, the output must be the reference's,
 * and the gradients (r and d held constant, as the paper) finite
 * differences'. Moving statistics near and far from the batch's: r and d
 * inside their limits, and clipped. */
static void bn_renorm_gradcheck(void **state)
{
    trand rnd = {36};
    double worst_dx = 0, worst_dg = 0, worst_db = 0, worst_y = 0;
    int clipped = 0;
    for (int far = 0; far < 2; far++)
        for (size_t s = 0; s < GC_NSHAPES; s++) {
            int B = gc_shapes[s][0], F = gc_shapes[s][1];
            size_t n = (size_t)B * F;
            float *x = frand(&rnd, n, -2, 2), *dy = frand(&rnd, n, -1, 1);
            float *gamma = frand(&rnd, F, 0.5, 1.5), *beta = frand(&rnd, F, -1, 1);
            float *mm = far ? frand(&rnd, F, 5, 9) : frand(&rnd, F, -0.2, 0.2);
            float *mv = far ? frand(&rnd, F, 30, 50) : frand(&rnd, F, 1, 1.5);
            float *stats = falloc(3 * (size_t)F), *y = falloc(n), *xhat = falloc(n);
            float *dx = falloc(n), *dg = falloc(F), *db = falloc(F);
            const double eps = 1e-3, rmax = 2.0, dmax = 1.5, mom = 0.9;
            renorm_ctx c = {B, F, eps, widen(x, n), widen(gamma, F), widen(beta, F),
                            widen(dy, n), dalloc(F), dalloc(F)};
            double *mm0 = widen(mm, F), *mv0 = widen(mv, F);
            seqrt_batchnorm_renorm_forward_train(B, F, x, gamma, beta, mm, mv, (float)mom,
                                                 (float)eps, (float)rmax, (float)dmax, y, xhat,
                                                 stats);
            seqrt_batchnorm_renorm_backward(B, F, xhat, gamma, stats, dy, dx, dg, db);
            for (int f = 0; f < F; f++) {
                double mu = 0, var = 0;
                for (int i = 0; i < B; i++)
                    mu += c.x[i * F + f];
                mu /= B;
                for (int i = 0; i < B; i++)
                    var += (c.x[i * F + f] - mu) * (c.x[i * F + f] - mu);
                var /= B;
                double sigma = sqrt(mv0[f] + eps);
                double r0 = sqrt(var + eps) / sigma, d0 = (mu - mm0[f]) / sigma;
                c.rr[f] = clampd(r0, 1 / rmax, rmax);
                c.dd[f] = clampd(d0, -dmax, dmax);
                clipped += c.rr[f] != r0 || c.dd[f] != d0;
                assert_close(stats[F + f], c.rr[f], 1e-5);
                assert_close(stats[2 * F + f], c.dd[f], 1e-5);
                assert_close(mm[f], mom * mm0[f] + (1 - mom) * mu, 1e-5 * (1 + fabs(mm0[f])));
                assert_close(mv[f], mom * mv0[f] + (1 - mom) * var, 1e-5 * (1 + mv0[f]));
            }
            double *rs = c.r, *e = dalloc(n);
            c.r = e;
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < n; j++)
                    e[j] = j == i;
                double d = fabs(y[i] - renorm_ref(&c));
                worst_y = d > worst_y ? d : worst_y;
            }
            c.r = rs;
            free(e);
            double *num = dalloc(n);
            gc_numeric(renorm_ref, &c, c.x, n, num);
            double err = gc_rel_err(dx, num, n);
            worst_dx = err > worst_dx ? err : worst_dx;
            gc_numeric(renorm_ref, &c, c.gamma, (size_t)F, num);
            err = gc_rel_err(dg, num, (size_t)F);
            worst_dg = err > worst_dg ? err : worst_dg;
            gc_numeric(renorm_ref, &c, c.beta, (size_t)F, num);
            err = gc_rel_err(db, num, (size_t)F);
            worst_db = err > worst_db ? err : worst_db;
            free(num); free(mm0); free(mv0);
            free(c.x); free(c.gamma); free(c.beta); free(c.r); free(c.rr); free(c.dd);
            free(x); free(dy); free(gamma); free(beta); free(mm); free(mv);
            free(stats); free(y); free(xhat); free(dx); free(dg); free(db);
        }
    assert_true(clipped > 0); /* the far moving statistics clip r or d */
    printf("batchnorm_renorm forward max_abs_err=%.1e\n", worst_y);
    assert_true(worst_y < 1e-4);
    gc_report("batchnorm_renorm.dx", worst_dx);
    gc_report("batchnorm_renorm.dgamma", worst_dg);
    gc_report("batchnorm_renorm.dbeta", worst_db);
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
        cmocka_unit_test(bn_without_gamma_beta_gradcheck),
        cmocka_unit_test(bn_backward_wide_blocks),
        cmocka_unit_test(bn_frozen_gradcheck),
        cmocka_unit_test(bn_ghost_gradcheck),
        cmocka_unit_test(bn_ghost_one_group_is_batchnorm),
        cmocka_unit_test(bn_renorm_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
