/* test_batchnorm_sync.c: synchronized batchnorm
 * (runtime/src/kernels/batchnorm_sync.c) over several "ranks" that are
 * threads of this process, joined by a seqrt_comm written here (a barrier
 * and a shared array: rank 0 adds every rank's buffer in rank order, then
 * every rank copies the total out, so every rank gets the same bits).
 *
 *  - P = 2 and 3 ranks on a global batch split unevenly (and with a rank
 *    of no rows) against the single-process kernel on the whole batch:
 *    y, xhat, the saved statistics, the moving statistics (the same bits
 *    on every rank), dx of the shards put together, dgamma/dbeta summed
 *    over the ranks; exactly one comm->sum per call each way.
 *  - gradient checks over 2 ranks: finite differences in double of L =
 *    sum w y over the GLOBAL batch (plain, renorm with r and d constant,
 *    the fused batchnorm; relu; maxpool2d block).
 *  - a shifted sum keeps the variance of a feature far from 0.
 *  - comm NULL and a one-rank comm: the plain kernels' bits (memcmp).
 */
#define _POSIX_C_SOURCE 200809L
#include "kernel_test.h"

#include "seqrt.h"
#include "comm_threads.h"

#include <string.h>

static int first_row(const int *split, int r)
{
    int s = 0;
    for (int q = 0; q < r; q++)
        s += split[q];
    return s;
}

/* -------------------------------------------------- comparisons, in float */

/* worst |a - b| over n values, relative to b's largest |value|: the
 * tensor's scale. Per element it would not do: x - mean loses ulps of x
 * (up to 5 here, an ulp of 4.8e-7), not of the small xhat or y it makes,
 * in the single-process kernel's float mean as in the ranks' double one. */
static double worst_rel(const float *a, const float *b, size_t n)
{
    double big = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        big = fabs(b[i]) > big ? fabs(b[i]) : big;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        worst = e > worst ? e : worst;
    }
    return big > 0.0 ? worst / big : worst;
}

/* The ranks sum in double, the single-process kernel in float, in another
 * order: a few float roundings apart (float's epsilon is 1.2e-7) */
#define REL_TOL 2e-6

static void assert_near(const char *what, const float *a, const float *b, size_t n)
{
    double e = worst_rel(a, b, n);
    if (!(e <= REL_TOL))
        fail_msg("%s: worst relative difference %.3g > %.1g", what, e, REL_TOL);
}

/* -------------------------------------------- plain and renorm, P ranks */

typedef struct bn_case {
    int          renorm;
    int          rows, F, P, split[MAXP];
    const float *x, *gamma, *beta, *dy, *mm0, *mv0;
    float        momentum, eps, rmax, dmax;
    float       *y, *xhat, *dx;                /* [rows, F], each rank its rows */
    float       *mm[MAXP], *mv[MAXP];          /* each rank's moving statistics */
    float       *stats[MAXP];                  /* inv_std (F) or inv_std, r, d (3F) */
    float       *dgamma[MAXP], *dbeta[MAXP];
    int          fwd_calls[MAXP], bwd_calls[MAXP];
} bn_case;

static void bn_rank(const seqrt_comm *comm, void *ctx)
{
    bn_case *k = ctx;
    const int r = comm->rank, n = k->split[r];
    const size_t F = (size_t)k->F, o = (size_t)first_row(k->split, r) * F;
    memcpy(k->mm[r], k->mm0, F * sizeof(float));
    memcpy(k->mv[r], k->mv0, F * sizeof(float));
    float *dg = k->gamma ? k->dgamma[r] : NULL, *db = k->beta ? k->dbeta[r] : NULL;
    int c0 = calls_of(comm);
    if (k->renorm)
        seqrt_sync_batchnorm_renorm_forward_train(comm, n, k->F, k->x + o, k->gamma, k->beta,
                                                  k->mm[r], k->mv[r], k->momentum, k->eps,
                                                  k->rmax, k->dmax, k->y + o, k->xhat + o,
                                                  k->stats[r]);
    else
        seqrt_sync_batchnorm_forward_train(comm, n, k->F, k->x + o, k->gamma, k->beta, k->mm[r],
                                           k->mv[r], k->momentum, k->eps, k->y + o, k->xhat + o,
                                           k->stats[r]);
    int c1 = calls_of(comm);
    if (k->renorm)
        seqrt_sync_batchnorm_renorm_backward(comm, n, k->F, k->xhat + o, k->gamma, k->stats[r],
                                             k->dy + o, k->dx + o, dg, db);
    else
        seqrt_sync_batchnorm_backward(comm, n, k->F, k->xhat + o, k->gamma, k->stats[r],
                                      k->dy + o, k->dx + o, dg, db);
    k->fwd_calls[r] = c1 - c0;
    k->bwd_calls[r] = calls_of(comm) - c1;
}

static void bn_case_alloc(bn_case *k)
{
    size_t F = (size_t)k->F, n = (size_t)k->rows * F;
    k->y = falloc(n), k->xhat = falloc(n), k->dx = falloc(n);
    for (int r = 0; r < k->P; r++) {
        k->mm[r] = falloc(F), k->mv[r] = falloc(F), k->stats[r] = falloc(3 * F);
        k->dgamma[r] = falloc(F), k->dbeta[r] = falloc(F);
    }
}

static void bn_case_free(bn_case *k)
{
    free(k->y), free(k->xhat), free(k->dx);
    for (int r = 0; r < k->P; r++)
        free(k->mm[r]), free(k->mv[r]), free(k->stats[r]), free(k->dgamma[r]), free(k->dbeta[r]);
}

/* the ranks against the single-process kernel on the whole batch */
static void bn_compare(int renorm, int P, const int *split, int F, int with_gamma,
                       int with_beta, uint64_t seed)
{
    trand rnd = {seed};
    int rows = first_row(split, P);
    size_t n = (size_t)rows * (size_t)F;
    float *x = frand(&rnd, n, -3, 5), *dy = frand(&rnd, n, -1, 1);
    float *gamma = frand(&rnd, (size_t)F, 0.5, 1.5), *beta = frand(&rnd, (size_t)F, -0.5, 0.5);
    float *mm0 = frand(&rnd, (size_t)F, 0, 2), *mv0 = frand(&rnd, (size_t)F, 0.5, 2);
    bn_case k = {.renorm = renorm, .rows = rows, .F = F, .P = P, .x = x,
                 .gamma = with_gamma ? gamma : NULL, .beta = with_beta ? beta : NULL,
                 .dy = dy, .mm0 = mm0, .mv0 = mv0, .momentum = 0.9f, .eps = 1e-3f,
                 .rmax = 1.5f, .dmax = 0.5f};
    memcpy(k.split, split, (size_t)P * sizeof *split);
    bn_case_alloc(&k);
    run_ranks(P, bn_rank, &k);

    /* the single process on the whole batch */
    float *y = falloc(n), *xhat = falloc(n), *dx = falloc(n), *stats = falloc(3 * (size_t)F);
    float *mm = falloc((size_t)F), *mv = falloc((size_t)F);
    float *dgamma = falloc((size_t)F), *dbeta = falloc((size_t)F);
    memcpy(mm, mm0, (size_t)F * sizeof *mm);
    memcpy(mv, mv0, (size_t)F * sizeof *mv);
    if (renorm) {
        seqrt_batchnorm_renorm_forward_train(rows, F, x, k.gamma, k.beta, mm, mv, k.momentum,
                                             k.eps, k.rmax, k.dmax, y, xhat, stats);
        seqrt_batchnorm_renorm_backward(rows, F, xhat, k.gamma, stats, dy, dx,
                                        k.gamma ? dgamma : NULL, k.beta ? dbeta : NULL);
    } else {
        seqrt_batchnorm_forward_train(rows, F, x, k.gamma, k.beta, mm, mv, k.momentum, k.eps, y,
                                      xhat, stats);
        seqrt_batchnorm_backward(rows, F, xhat, k.gamma, stats, dy, dx, k.gamma ? dgamma : NULL,
                                 k.beta ? dbeta : NULL);
    }

    size_t ns = (renorm ? 3 : 1) * (size_t)F;
    for (int r = 0; r < P; r++) {
        assert_int_equal(k.fwd_calls[r], (F + 1023) / 1024); /* one sum per 1024 features */
        assert_int_equal(k.bwd_calls[r], (F + 1023) / 1024);
        /* identical on every rank: the same bits */
        assert_memory_equal(k.mm[r], k.mm[0], (size_t)F * sizeof(float));
        assert_memory_equal(k.mv[r], k.mv[0], (size_t)F * sizeof(float));
        assert_memory_equal(k.stats[r], k.stats[0], ns * sizeof(float));
    }
    assert_near("y", k.y, y, n);
    assert_near("xhat", k.xhat, xhat, n);
    assert_near("stats", k.stats[0], stats, ns);
    assert_near("moving_mean", k.mm[0], mm, (size_t)F);
    assert_near("moving_var", k.mv[0], mv, (size_t)F);
    assert_near("dx", k.dx, dx, n);
    /* dgamma/dbeta are each rank's own: their sum is the whole batch's */
    float *sg = falloc((size_t)F), *sb = falloc((size_t)F);
    for (int f = 0; f < F; f++) {
        double g = 0.0, b = 0.0;
        for (int r = 0; r < P; r++)
            g += k.dgamma[r][f], b += k.dbeta[r][f];
        sg[f] = (float)g, sb[f] = (float)b;
    }
    if (k.gamma)
        assert_near("dgamma", sg, dgamma, (size_t)F);
    if (k.beta)
        assert_near("dbeta", sb, dbeta, (size_t)F);
    /* and they are not the global sums on each rank (that would be
     * counted P times once the loop adds them up) */
    if (k.beta && split[0] > 0 && split[1] > 0)
        assert_true(worst_rel(k.dbeta[0], dbeta, (size_t)F) > 1e-3);

    free(sg), free(sb), free(y), free(xhat), free(dx), free(stats), free(mm), free(mv);
    free(dgamma), free(dbeta), free(x), free(dy), free(gamma), free(beta), free(mm0), free(mv0);
    bn_case_free(&k);
}

static void sync_bn_matches_single(void **state)
{
    (void)state;
    bn_compare(0, 2, (const int[]){4, 3}, 5, 1, 1, 11);
    bn_compare(0, 3, (const int[]){3, 3, 3}, 6, 1, 1, 12);
    bn_compare(0, 3, (const int[]){2, 5, 1}, 3, 1, 1, 13);
    bn_compare(0, 3, (const int[]){4, 0, 3}, 4, 1, 1, 14); /* a rank of no rows */
    bn_compare(0, 2, (const int[]){4, 3}, 5, 0, 1, 15);    /* scale=false */
    bn_compare(0, 2, (const int[]){4, 3}, 5, 1, 0, 16);    /* center=false */
    bn_compare(0, 2, (const int[]){4, 3}, 5, 0, 0, 17);
}

static void sync_bn_wide_layer(void **state)
{
    (void)state;
    /* 1100 features: two blocks of the stack buffer, two sums each way */
    bn_compare(0, 2, (const int[]){3, 2}, 1100, 1, 1, 18);
    bn_compare(1, 2, (const int[]){3, 2}, 1100, 1, 1, 19);
}

static void sync_renorm_matches_single(void **state)
{
    (void)state;
    bn_compare(1, 2, (const int[]){4, 3}, 5, 1, 1, 21);
    bn_compare(1, 3, (const int[]){3, 3, 3}, 6, 1, 1, 22);
    bn_compare(1, 3, (const int[]){1, 3, 5}, 4, 0, 0, 23);
}

/* The shift: a feature of mean 10000 and deviations of a few float ulps
 * there (2^-10; var ~ 4e-6), over 2048 rows. Each x^2 is exact in double
 * (47 bits), but their sum reaches 2e11, where a double's ulp is 3e-5:
 * unshifted, S2/N - (S1/N)^2 loses most of the variance to the additions'
 * rounding (measured: 13% low with the shift taken out). Shifted by
 * the moving mean (10000, as after some training) every sum is exact.
 * momentum 0: moving_var is the variance itself. */
static void sync_bn_shift_keeps_variance(void **state)
{
    (void)state;
    enum { R = 2048 };
    const int split[2] = {1000, 1048};
    float *x = falloc(R), *dy = falloc(R), gamma[1] = {1}, beta[1] = {0};
    for (int i = 0; i < R; i++) {
        x[i] = 10000.0f + (float)((i * 5) % 7 - 3) * 0x1p-10f; /* ulp(10000) = 2^-10 */
        dy[i] = 0.0f;
    }
    const float mm0[1] = {10000.0f}, mv0[1] = {1.0f};
    bn_case k = {.rows = R, .F = 1, .P = 2, .x = x, .gamma = gamma, .beta = beta, .dy = dy,
                 .mm0 = mm0, .mv0 = mv0, .momentum = 0.0f, .eps = 1e-3f};
    memcpy(k.split, split, sizeof split);
    bn_case_alloc(&k);
    run_ranks(2, bn_rank, &k);
    double m = 0.0, v = 0.0; /* two passes, about the mean */
    for (int i = 0; i < R; i++)
        m += x[i];
    m /= R;
    for (int i = 0; i < R; i++)
        v += (x[i] - m) * (x[i] - m);
    v /= R;
    assert_true(v > 1e-6);
    assert_close(k.mm[0][0], m, 1e-3);
    assert_close(k.mv[0][0], v, 1e-6 * v);
    free(x), free(dy);
    bn_case_free(&k);
}

/* ---------------------------------------- gradient checks over 2 ranks */

/* L = sum w y over the global batch, y = gamma (r xhat + d) + beta with
 * the batch statistics of x (r = 1, d = 0 for plain batchnorm; renorm's
 * r and d are constants of backward), in double */
typedef struct bn_ref_ctx {
    int           rows, F;
    double       *x, *gamma, *beta;
    const double *r, *d;
    const float  *w;
    double        eps;
} bn_ref_ctx;

static double bn_ref(void *p)
{
    bn_ref_ctx *c = p;
    double L = 0.0;
    for (int f = 0; f < c->F; f++) {
        double m = 0.0, v = 0.0;
        for (int i = 0; i < c->rows; i++)
            m += c->x[i * c->F + f];
        m /= c->rows;
        for (int i = 0; i < c->rows; i++)
            v += (c->x[i * c->F + f] - m) * (c->x[i * c->F + f] - m);
        v /= c->rows;
        double s = 1.0 / sqrt(v + c->eps);
        double r = c->r ? c->r[f] : 1.0, d = c->d ? c->d[f] : 0.0;
        for (int i = 0; i < c->rows; i++) {
            double h = (c->x[i * c->F + f] - m) * s;
            L += c->w[i * c->F + f] * (c->gamma[f] * (r * h + d) + c->beta[f]);
        }
    }
    return L;
}

static void bn_gradcheck_2ranks(int renorm)
{
    enum { R = 7, F = 4 };
    const int split[2] = {4, 3};
    trand rnd = {31 + (uint64_t)renorm};
    float *x = frand(&rnd, R * F, -2, 3), *w = frand(&rnd, R * F, -1, 1);
    float *gamma = frand(&rnd, F, 0.5, 1.5), *beta = frand(&rnd, F, -0.5, 0.5);
    /* moving statistics away from the batch's: renorm's r near 2, d near 1 */
    float *mm0 = frand(&rnd, F, -1, 0), *mv0 = frand(&rnd, F, 0.2, 0.6);
    bn_case k = {.renorm = renorm, .rows = R, .F = F, .P = 2, .x = x, .gamma = gamma,
                 .beta = beta, .dy = w, .mm0 = mm0, .mv0 = mv0, .momentum = 0.9f,
                 .eps = 1e-3f, .rmax = 3.0f, .dmax = 5.0f};
    memcpy(k.split, split, sizeof split);
    bn_case_alloc(&k);
    run_ranks(2, bn_rank, &k);

    double r[F], d[F];
    for (int f = 0; f < F; f++) {
        r[f] = k.stats[0][F + f], d[f] = k.stats[0][2 * F + f];
        if (renorm) /* the check means something only away from 1 and 0 */
            assert_true(fabs(r[f] - 1.0) > 1e-3 && fabs(d[f]) > 1e-3);
    }
    bn_ref_ctx c = {R, F, widen(x, R * F), widen(gamma, F), widen(beta, F),
                    renorm ? r : NULL, renorm ? d : NULL, w, 1e-3f};
    double num[R * F];
    float dg[F], db[F];
    for (int f = 0; f < F; f++)
        dg[f] = k.dgamma[0][f] + k.dgamma[1][f], db[f] = k.dbeta[0][f] + k.dbeta[1][f];
    const char *name = renorm ? "sync_renorm" : "sync_batchnorm";
    char what[64];
    gc_numeric(bn_ref, &c, c.x, R * F, num);
    snprintf(what, sizeof what, "%s.dx(2 ranks)", name);
    gc_report(what, gc_rel_err(k.dx, num, R * F));
    gc_numeric(bn_ref, &c, c.gamma, F, num);
    snprintf(what, sizeof what, "%s.dgamma(sum of 2 ranks)", name);
    gc_report(what, gc_rel_err(dg, num, F));
    gc_numeric(bn_ref, &c, c.beta, F, num);
    snprintf(what, sizeof what, "%s.dbeta(sum of 2 ranks)", name);
    gc_report(what, gc_rel_err(db, num, F));
    free(c.x), free(c.gamma), free(c.beta);
    free(x), free(w), free(gamma), free(beta), free(mm0), free(mv0);
    bn_case_free(&k);
}

static void sync_bn_gradcheck(void **state)
{
    (void)state;
    bn_gradcheck_2ranks(0);
}

static void sync_renorm_gradcheck(void **state)
{
    (void)state;
    bn_gradcheck_2ranks(1);
}

/* ------------------------------- batchnorm; relu; maxpool2d, P ranks */

typedef struct block_case {
    int                       batch, P, split[MAXP];
    const seqrt_pool2d_shape *p;
    const float              *x, *gamma, *beta, *dy, *mm0, *mv0;
    float                    *y, *dx;                  /* global, each rank its samples */
    int32_t                  *argmax;
    float                    *mm[MAXP], *mv[MAXP], *stats[MAXP], *scratch[MAXP];
    float                    *dgamma[MAXP], *dbeta[MAXP];
    int                       fwd_calls[MAXP], bwd_calls[MAXP];
} block_case;

static void block_rank(const seqrt_comm *comm, void *ctx)
{
    block_case *k = ctx;
    const int r = comm->rank, n = k->split[r], first = first_row(k->split, r);
    const size_t C = (size_t)k->p->c;
    const size_t in = (size_t)k->p->h * k->p->w * C, out = (size_t)k->p->oh * k->p->ow * C;
    memcpy(k->mm[r], k->mm0, C * sizeof(float));
    memcpy(k->mv[r], k->mv0, C * sizeof(float));
    int c0 = calls_of(comm);
    seqrt_sync_bn_relu_maxpool_forward_train(comm, n, k->p, k->x + first * in, k->gamma,
                                             k->beta, k->mm[r], k->mv[r], 0.9f, 1e-3f,
                                             k->y + first * out, k->argmax + first * out,
                                             k->stats[r], k->scratch[r]);
    int c1 = calls_of(comm);
    seqrt_sync_bn_relu_maxpool_backward(comm, n, k->p, k->x + first * in, k->gamma, k->stats[r],
                                        k->argmax + first * out, k->dy + first * out,
                                        k->dx + first * in, k->dgamma[r], k->dbeta[r],
                                        k->scratch[r]);
    k->fwd_calls[r] = c1 - c0;
    k->bwd_calls[r] = calls_of(comm) - c1;
}

static void block_case_run(block_case *k)
{
    const seqrt_pool2d_shape *p = k->p;
    size_t C = (size_t)p->c;
    size_t nin = (size_t)k->batch * p->h * p->w * C, nout = (size_t)k->batch * p->oh * p->ow * C;
    k->y = falloc(nout), k->dx = falloc(nin);
    k->argmax = malloc(nout * sizeof *k->argmax);
    assert_non_null(k->argmax);
    for (int r = 0; r < k->P; r++) {
        k->mm[r] = falloc(C), k->mv[r] = falloc(C), k->stats[r] = falloc(2 * C);
        k->dgamma[r] = falloc(C), k->dbeta[r] = falloc(C);
        k->scratch[r] = falloc(seqrt_bn_relu_maxpool_scratch_per_sample(p->c) *
                               (size_t)(k->split[r] > 0 ? k->split[r] : 1));
    }
    run_ranks(k->P, block_rank, k);
}

static void block_case_free(block_case *k)
{
    free(k->y), free(k->dx), free(k->argmax);
    for (int r = 0; r < k->P; r++)
        free(k->mm[r]), free(k->mv[r]), free(k->stats[r]), free(k->dgamma[r]),
            free(k->dbeta[r]), free(k->scratch[r]);
}

static seqrt_pool2d_shape pool_shape(int h, int w, int c, int pool)
{
    return (seqrt_pool2d_shape){.h = h, .w = w, .c = c, .ph = pool, .pw = pool, .sh = pool,
                                .sw = pool, .oh = h / pool, .ow = w / pool};
}

static void block_compare(int P, const int *split, int h, int w, int c, uint64_t seed)
{
    trand rnd = {seed};
    seqrt_pool2d_shape p = pool_shape(h, w, c, 2);
    int batch = first_row(split, P);
    size_t C = (size_t)c, nin = (size_t)batch * h * w * C;
    size_t nout = (size_t)batch * p.oh * p.ow * C;
    float *x = frand(&rnd, nin, -2, 3), *dy = frand(&rnd, nout, -1, 1);
    float *gamma = frand(&rnd, C, 0.5, 1.5), *beta = frand(&rnd, C, -0.3, 0.3);
    for (size_t f = 0; f < C; f += 3) /* falling channels: the window's minimum of x wins */
        gamma[f] = -gamma[f];
    float *mm0 = frand(&rnd, C, 0, 1), *mv0 = frand(&rnd, C, 0.5, 2);
    block_case k = {.batch = batch, .P = P, .p = &p, .x = x, .gamma = gamma, .beta = beta,
                    .dy = dy, .mm0 = mm0, .mv0 = mv0};
    memcpy(k.split, split, (size_t)P * sizeof *split);
    block_case_run(&k);

    float *y = falloc(nout), *dx = falloc(nin), *stats = falloc(2 * C), *mm = falloc(C);
    float *mv = falloc(C), *dgamma = falloc(C), *dbeta = falloc(C);
    float *scratch = falloc(seqrt_bn_relu_maxpool_scratch_per_sample(c) * (size_t)batch);
    int32_t *argmax = malloc(nout * sizeof *argmax);
    assert_non_null(argmax);
    memcpy(mm, mm0, C * sizeof *mm);
    memcpy(mv, mv0, C * sizeof *mv);
    seqrt_bn_relu_maxpool_forward_train(batch, &p, x, gamma, beta, mm, mv, 0.9f, 1e-3f, y,
                                        argmax, stats, scratch);
    seqrt_bn_relu_maxpool_backward(batch, &p, x, gamma, stats, argmax, dy, dx, dgamma, dbeta,
                                   scratch);
    for (int r = 0; r < P; r++) {
        assert_int_equal(k.fwd_calls[r], 1);
        assert_int_equal(k.bwd_calls[r], 1);
        assert_memory_equal(k.mm[r], k.mm[0], C * sizeof(float));
        assert_memory_equal(k.mv[r], k.mv[0], C * sizeof(float));
        assert_memory_equal(k.stats[r], k.stats[0], 2 * C * sizeof(float));
    }
    assert_memory_equal(k.argmax, argmax, nout * sizeof *argmax); /* random data: no ties */
    assert_near("block y", k.y, y, nout);
    assert_near("block stats", k.stats[0], stats, 2 * C);
    assert_near("block moving_mean", k.mm[0], mm, C);
    assert_near("block moving_var", k.mv[0], mv, C);
    assert_near("block dx", k.dx, dx, nin);
    float *sg = falloc(C), *sb = falloc(C);
    for (size_t f = 0; f < C; f++) {
        double g = 0.0, b = 0.0;
        for (int r = 0; r < P; r++)
            g += k.dgamma[r][f], b += k.dbeta[r][f];
        sg[f] = (float)g, sb[f] = (float)b;
    }
    assert_near("block dgamma", sg, dgamma, C);
    assert_near("block dbeta", sb, dbeta, C);
    free(sg), free(sb), free(y), free(dx), free(stats), free(mm), free(mv), free(dgamma);
    free(dbeta), free(scratch), free(argmax), free(x), free(dy), free(gamma), free(beta);
    free(mm0), free(mv0);
    block_case_free(&k);
}

static void sync_block_matches_single(void **state)
{
    (void)state;
    block_compare(2, (const int[]){2, 1}, 4, 4, 3, 41);
    block_compare(3, (const int[]){1, 1, 1}, 6, 4, 2, 42);
    block_compare(3, (const int[]){2, 0, 3}, 5, 5, 4, 43); /* a rank of no samples; the
                                                              last row and column dropped */
    /* channels in vectors of 16: the AVX-512 passes on a CPU with AVX-512F */
    block_compare(2, (const int[]){2, 1}, 5, 5, 32, 44); /* last row and column dropped */
    block_compare(3, (const int[]){1, 0, 2}, 4, 6, 16, 45);
    block_compare(2, (const int[]){1, 1}, 6, 5, 48, 46);
    block_compare(2, (const int[]){3, 1}, 4, 4, 64, 47);
}

/* L = sum w y, y = maxpool(relu(gamma xhat + beta)) with the global
 * batch's statistics per channel, in double */
typedef struct block_ref_ctx {
    int                       batch;
    const seqrt_pool2d_shape *p;
    double                   *x, *gamma, *beta;
    const float              *w;
    double                    eps;
} block_ref_ctx;

static double block_ref(void *ctx)
{
    block_ref_ctx *c = ctx;
    const seqrt_pool2d_shape *p = c->p;
    const int C = p->c, rows = c->batch * p->h * p->w;
    double L = 0.0;
    for (int ch = 0; ch < C; ch++) {
        double m = 0.0, v = 0.0;
        for (int i = 0; i < rows; i++)
            m += c->x[i * C + ch];
        m /= rows;
        for (int i = 0; i < rows; i++)
            v += (c->x[i * C + ch] - m) * (c->x[i * C + ch] - m);
        v /= rows;
        double s = 1.0 / sqrt(v + c->eps);
        for (int n = 0; n < c->batch; n++)
            for (int oy = 0; oy < p->oh; oy++)
                for (int ox = 0; ox < p->ow; ox++) {
                    double best = 0.0; /* relu */
                    for (int iy = oy * p->sh; iy < oy * p->sh + p->ph; iy++)
                        for (int ix = ox * p->sw; ix < ox * p->sw + p->pw; ix++) {
                            double xv = c->x[((n * p->h + iy) * p->w + ix) * C + ch];
                            double z = c->gamma[ch] * (xv - m) * s + c->beta[ch];
                            best = z > best ? z : best;
                        }
                    L += c->w[((n * p->oh + oy) * p->ow + ox) * C + ch] * best;
                }
    }
    return L;
}

/* [batch 3, h x w, c], pool 2, samples 2 + 1 over 2 ranks; gamma < 0 for
 * the channels 1, 4, 7, ... */
static void block_gradcheck_2ranks(int h, int w, int c, uint64_t seed)
{
    trand rnd = {seed};
    seqrt_pool2d_shape p = pool_shape(h, w, c, 2);
    const int batch = 3;
    const size_t C = (size_t)c, nin = (size_t)batch * h * w * C;
    const size_t nout = (size_t)batch * p.oh * p.ow * C;
    float *x = frand(&rnd, nin, -2, 2), *w8 = frand(&rnd, nout, -1, 1);
    float *gamma = frand(&rnd, C, 0.5, 1.5), *beta = frand(&rnd, C, 0.2, 0.6);
    for (size_t f = 1; f < C; f += 3)
        gamma[f] = -gamma[f];
    float *mm0 = frand(&rnd, C, 0, 1), *mv0 = frand(&rnd, C, 0.5, 2);
    block_case k = {.batch = batch, .P = 2, .split = {2, 1}, .p = &p, .x = x, .gamma = gamma,
                    .beta = beta, .dy = w8, .mm0 = mm0, .mv0 = mv0};
    block_case_run(&k);
    block_ref_ctx ctx = {batch, &p, widen(x, nin), widen(gamma, C), widen(beta, C), w8, 1e-3f};
    double *num = dalloc(nin);
    float *dg = falloc(C), *db = falloc(C);
    for (size_t f = 0; f < C; f++)
        dg[f] = k.dgamma[0][f] + k.dgamma[1][f], db[f] = k.dbeta[0][f] + k.dbeta[1][f];
    char name[96];
    gc_numeric(block_ref, &ctx, ctx.x, nin, num);
    snprintf(name, sizeof name, "sync_bn_relu_maxpool.dx(2 ranks, c %d)", c);
    gc_report(name, gc_rel_err(k.dx, num, nin));
    gc_numeric(block_ref, &ctx, ctx.gamma, C, num);
    snprintf(name, sizeof name, "sync_bn_relu_maxpool.dgamma(sum of 2 ranks, c %d)", c);
    gc_report(name, gc_rel_err(dg, num, C));
    gc_numeric(block_ref, &ctx, ctx.beta, C, num);
    snprintf(name, sizeof name, "sync_bn_relu_maxpool.dbeta(sum of 2 ranks, c %d)", c);
    gc_report(name, gc_rel_err(db, num, C));
    free(num), free(dg), free(db), free(ctx.x), free(ctx.gamma), free(ctx.beta);
    free(x), free(w8), free(gamma), free(beta), free(mm0), free(mv0);
    block_case_free(&k);
}

static void sync_block_gradcheck(void **state)
{
    (void)state;
    block_gradcheck_2ranks(4, 4, 3, 51);
    block_gradcheck_2ranks(5, 5, 32, 52); /* the AVX-512 passes; the last row, column dropped */
    block_gradcheck_2ranks(4, 6, 16, 53);
}

/* ------------------------------------------ one process: the same bits */

static int one_rank_calls;

static void one_rank_sum(const seqrt_comm *c, double *buf, size_t n)
{
    (void)c, (void)buf, (void)n;
    one_rank_calls++;
}

static void one_rank_sum_float(const seqrt_comm *c, float *buf, size_t n)
{
    (void)c, (void)buf, (void)n;
    one_rank_calls++;
}

/* A, B: the outputs of the plain call and of the synchronized one */
typedef struct bn_out {
    float y[6 * 4], xhat[6 * 4], stats[3 * 4], mm[4], mv[4], dx[6 * 4], dg[4], db[4];
} bn_out;

/* the plain fused block and the synchronized one through `comm` (NULL or
 * one rank) on [batch 2, hw x hw, c]: the same bits; gamma, beta and the
 * moving statistics drawn when NULL */
static void block_same_bits(const seqrt_comm *comm, int hw, int c, const float *gamma0,
                            const float *beta0, const float *mm0, const float *mv0, trand *rnd)
{
    seqrt_pool2d_shape p = pool_shape(hw, hw, c, 2);
    const size_t C = (size_t)c, NI = 2 * (size_t)hw * hw * C, NO = 2 * (size_t)p.oh * p.ow * C;
    float *bx = frand(rnd, NI, -2, 2), *bdy = frand(rnd, NO, -1, 1);
    float *gamma = gamma0 ? NULL : frand(rnd, C, -1.5, 1.5);
    float *beta = beta0 ? NULL : frand(rnd, C, -0.5, 0.5);
    float *mm = mm0 ? NULL : frand(rnd, C, 0, 1), *mv = mv0 ? NULL : frand(rnd, C, 0.5, 2);
    const float *g = gamma0 ? gamma0 : gamma, *be = beta0 ? beta0 : beta;
    const float *m0 = mm0 ? mm0 : mm, *v0 = mv0 ? mv0 : mv;
    /* y, stats, mm, mv, dx, dg, db, then argmax, per call */
    const size_t nf = NO + 2 * C + C + C + NI + C + C;
    float *out[2], *sc[2];
    int32_t *am[2];
    for (int i = 0; i < 2; i++) {
        out[i] = falloc(nf), sc[i] = falloc(2 * 2 * C);
        am[i] = malloc(NO * sizeof(int32_t));
        assert_non_null(am[i]);
        memset(out[i], 0, nf * sizeof(float)), memset(am[i], 0, NO * sizeof(int32_t));
        float *y = out[i], *stats = y + NO, *m = stats + 2 * C, *v = m + C, *dx = v + C;
        float *dg = dx + NI, *db = dg + C;
        memcpy(m, m0, C * sizeof(float)), memcpy(v, v0, C * sizeof(float));
        if (i == 0) {
            seqrt_bn_relu_maxpool_forward_train(2, &p, bx, g, be, m, v, 0.9f, 1e-3f, y, am[i],
                                                stats, sc[i]);
            seqrt_bn_relu_maxpool_backward(2, &p, bx, g, stats, am[i], bdy, dx, dg, db, sc[i]);
        } else {
            seqrt_sync_bn_relu_maxpool_forward_train(comm, 2, &p, bx, g, be, m, v, 0.9f, 1e-3f,
                                                     y, am[i], stats, sc[i]);
            seqrt_sync_bn_relu_maxpool_backward(comm, 2, &p, bx, g, stats, am[i], bdy, dx, dg,
                                                db, sc[i]);
        }
    }
    assert_memory_equal(out[0], out[1], nf * sizeof(float));
    assert_memory_equal(am[0], am[1], NO * sizeof(int32_t));
    for (int i = 0; i < 2; i++)
        free(out[i]), free(sc[i]), free(am[i]);
    free(bx), free(bdy), free(gamma), free(beta), free(mm), free(mv);
}

static void sync_single_process_same_bits(void **state)
{
    (void)state;
    enum { R = 6, F = 4 };
    trand rnd = {61};
    float *x = frand(&rnd, R * F, -2, 3), *dy = frand(&rnd, R * F, -1, 1);
    float *gamma = frand(&rnd, F, 0.5, 1.5), *beta = frand(&rnd, F, -0.5, 0.5);
    float *mm0 = frand(&rnd, F, 0, 1), *mv0 = frand(&rnd, F, 0.5, 2);
    const seqrt_comm one = {.rank = 0, .size = 1, .local_size = 1, .sum = one_rank_sum,
                           .sum_float = one_rank_sum_float};
    const seqrt_comm *comms[2] = {NULL, &one};
    for (int renorm = 0; renorm < 2; renorm++)
        for (int ci = 0; ci < 2; ci++) {
            bn_out a, b;
            memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
            memcpy(a.mm, mm0, sizeof a.mm), memcpy(a.mv, mv0, sizeof a.mv);
            memcpy(b.mm, mm0, sizeof b.mm), memcpy(b.mv, mv0, sizeof b.mv);
            if (renorm) {
                seqrt_batchnorm_renorm_forward_train(R, F, x, gamma, beta, a.mm, a.mv, 0.9f,
                                                     1e-3f, 1.5f, 0.5f, a.y, a.xhat, a.stats);
                seqrt_batchnorm_renorm_backward(R, F, a.xhat, gamma, a.stats, dy, a.dx, a.dg,
                                                a.db);
                seqrt_sync_batchnorm_renorm_forward_train(comms[ci], R, F, x, gamma, beta, b.mm,
                                                          b.mv, 0.9f, 1e-3f, 1.5f, 0.5f, b.y,
                                                          b.xhat, b.stats);
                seqrt_sync_batchnorm_renorm_backward(comms[ci], R, F, b.xhat, gamma, b.stats,
                                                     dy, b.dx, b.dg, b.db);
            } else {
                seqrt_batchnorm_forward_train(R, F, x, gamma, beta, a.mm, a.mv, 0.9f, 1e-3f, a.y,
                                              a.xhat, a.stats);
                seqrt_batchnorm_backward(R, F, a.xhat, gamma, a.stats, dy, a.dx, a.dg, a.db);
                seqrt_sync_batchnorm_forward_train(comms[ci], R, F, x, gamma, beta, b.mm, b.mv,
                                                   0.9f, 1e-3f, b.y, b.xhat, b.stats);
                seqrt_sync_batchnorm_backward(comms[ci], R, F, b.xhat, gamma, b.stats, dy, b.dx,
                                              b.dg, b.db);
            }
            assert_memory_equal(&a, &b, sizeof a);
        }

    /* the fused block: [batch 2, 4x4, c 3] and [batch 2, 5x5, c 32] (the
     * AVX-512 passes), pool 2 */
    for (int ci = 0; ci < 2; ci++) {
        block_same_bits(comms[ci], 4, 3, gamma, beta, mm0, mv0, &rnd);
        block_same_bits(comms[ci], 5, 32, NULL, NULL, NULL, NULL, &rnd);
    }
    assert_int_equal(one_rank_calls, 0); /* one rank never reduces */
    free(x), free(dy), free(gamma), free(beta), free(mm0), free(mv0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_bn_matches_single),
        cmocka_unit_test(sync_bn_wide_layer),
        cmocka_unit_test(sync_renorm_matches_single),
        cmocka_unit_test(sync_bn_shift_keeps_variance),
        cmocka_unit_test(sync_bn_gradcheck),
        cmocka_unit_test(sync_renorm_gradcheck),
        cmocka_unit_test(sync_block_matches_single),
        cmocka_unit_test(sync_block_gradcheck),
        cmocka_unit_test(sync_single_process_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
