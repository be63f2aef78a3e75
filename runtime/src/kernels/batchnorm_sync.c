/* batchnorm_sync.c: synchronized batchnorm (seqrt.h, "Synchronized
 * batchnorm"): the statistics of every rank's rows together, through the
 * seqrt_comm the loop hands over. With no comm, or one rank, each call
 * is the single-process kernel itself, so a one-process run has the same
 * bits whichever the generated code calls.
 *
 * Over several ranks each call makes exactly one comm->sum (for a layer
 * of up to SYNC_BLOCK features; a wider one takes one per block of
 * SYNC_BLOCK features, every rank the same calls in the same order):
 *
 *   forward   per feature f, over this rank's rows, in double:
 *               S1 = sum (x - K),  S2 = sum (x - K)^2,  K = moving_mean[f]
 *             and the row count (the same for every feature: sent once
 *             per block, not per feature), then one sum of [count, S1,
 *             S2] over the ranks; N = count, and
 *               mean = K + S1/N,  var = S2/N - (S1/N)^2 (>= 0, biased)
 *             The shift K is the moving mean, which every rank holds with
 *             the same bits: without it S2/N - (S1/N)^2 cancels as
 *             E[x^2] - E[x]^2 does, multiplying the sums' rounding by
 *             mean^2 / var (a feature of mean 10000 whose deviations are
 *             a few float ulps comes out 13% low over 2048 rows:
 *             test_batchnorm_sync); with it only (mean - K)^2 / var
 *             matters, which the moving mean keeps small once training
 *             has begun, and double has digits to spare before then (the
 *             moving mean starts at 0). The single-process kernels take a
 *             second pass over x instead (deviations about the mean),
 *             which would need a second reduction here. The moving
 *             statistics are then updated from mean and var exactly as
 *             the single-process kernel does, from the same bits on every
 *             rank, so they stay identical everywhere; xhat, inv_std, y
 *             (and renorm's r and d, from the global statistics and the
 *             moving ones) as the single-process kernel computes them.
 *   backward  one sum of [count, sum dy, sum dy*xhat] per feature, in
 *             double, then dx = k (dy - (sum dy + xhat sum dy*xhat) / N),
 *             k = gamma inv_std (times r for renorm), with the global
 *             sums and N. N travels in the same reduction (one more
 *             double) rather than being saved by the forward: the arena
 *             has no slot for it and the reduction costs the same.
 *             dgamma and dbeta are THIS RANK'S OWN sums over its rows,
 *             not the global ones: the training loop sums every
 *             parameter gradient over the ranks afterwards (one fused
 *             reduction per step), and a global dgamma here would be
 *             counted P times there.
 *
 * The fused `batchnorm; relu; maxpool2d` block keeps its two passes
 * (conv_block.h): its per-sample sums S_n and deviations M2_n give this
 * rank's shifted sums without another pass over x (S1 = sum_n (S_n -
 * P K), S2 = sum_n (M2_n + P (S_n/P - K)^2), P positions per sample),
 * and backward its per-rank dgamma/dbeta are reduced before the dx pass.
 *
 * A rank with no rows still takes part in every reduction (a collective
 * call), adding zeros. Nothing is allocated: the sums live in a stack
 * buffer of 1 + 2 SYNC_BLOCK doubles (16 KB). */
#include "seqrt.h"

#include "kernels/batchnorm.h"
#include "kernels/conv_block.h"

#include <math.h>
#include <stddef.h>

enum { SYNC_BLOCK = 1024 };

static int single(const seqrt_comm *comm)
{
    return comm == NULL || comm->size <= 1;
}

/* buf = [rows, S1[nb], S2[nb]] over `rows` rows of x[rows, F], features
 * [f0, f0 + nb), shifted by K = moving_mean */
static void shifted_sums(int rows, size_t F, const float *x, const float *moving_mean, size_t f0,
                         size_t nb, double *buf)
{
    double *s1 = buf + 1, *s2 = buf + 1 + nb;
    buf[0] = rows > 0 ? (double)rows : 0.0;
    for (size_t f = 0; f < nb; f++)
        s1[f] = s2[f] = 0.0;
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * F + f0;
        for (size_t f = 0; f < nb; f++) {
            double d = (double)xr[f] - (double)moving_mean[f0 + f];
            s1[f] += d;
            s2[f] += d * d;
        }
    }
}

/* After the sum over the ranks: buf[1 + f] becomes the global mean and
 * buf[1 + nb + f] the biased variance of feature f0 + f; returns N (0:
 * no rank had a row) */
static double global_moments(size_t nb, const float *moving_mean, size_t f0, double *buf)
{
    const double n = buf[0];
    double *s1 = buf + 1, *s2 = buf + 1 + nb;
    if (n <= 0.0)
        return 0.0;
    for (size_t f = 0; f < nb; f++) {
        double m = s1[f] / n, v = s2[f] / n - m * m;
        s1[f] = (double)moving_mean[f0 + f] + m;
        s2[f] = v > 0.0 ? v : 0.0;
    }
    return n;
}

/* the moving statistics' update, batchnorm.c's arithmetic */
static void update_moving(float *moving_mean, float *moving_var, float momentum, float mu,
                          float var)
{
    *moving_mean = *moving_mean * momentum + mu * (1.0f - momentum);
    *moving_var = *moving_var * momentum + var * (1.0f - momentum);
}

/* Features [f0, f0 + nb): this rank's shifted sums, the one sum over the
 * ranks, the global moments into buf (global_moments); returns the global
 * row count. */
static double block_moments(const seqrt_comm *comm, int batch, size_t F, const float *x,
                            const float *moving_mean, size_t f0, size_t nb, double *buf)
{
    shifted_sums(batch, F, x, moving_mean, f0, nb, buf);
    comm->sum(comm, buf, 1 + 2 * nb);
    return global_moments(nb, moving_mean, f0, buf);
}

/* Features [f0, f0 + nb) of this rank's rows: xhat = (x - mean) inv_std,
 * y = gamma xhat + beta, or with renorm's r and d (NULL: plain)
 * y = gamma (r xhat + d) + beta; mean[nb] is the block's, as doubles
 * that hold floats. */
static void normalize_block(int batch, size_t F, size_t f0, size_t nb, const float *x,
                            const double *mean, const float *inv_std, const float *r,
                            const float *d, const float *gamma, const float *beta, float *xhat,
                            float *y)
{
    for (int i = 0; i < batch; i++) {
        const float *xr = x + (size_t)i * F + f0;
        float *hr = xhat + (size_t)i * F + f0, *yr = y + (size_t)i * F + f0;
        for (size_t f = 0; f < nb; f++) {
            size_t g = f0 + f;
            float h = (xr[f] - (float)mean[f]) * inv_std[g];
            float z = r ? r[g] * h + d[g] : h;
            hr[f] = h;
            yr[f] = (gamma ? gamma[g] : 1.0f) * z + (beta ? beta[g] : 0.0f);
        }
    }
}

/* Forward over the ranks: each block's global moments (one sum), the
 * moving statistics updated, then the block normalized. With r (renorm)
 * inv_std, r and d come from the global statistics and the moving ones
 * before their update (batchnorm.c's arithmetic); else inv_std alone. */
static void sync_forward(const seqrt_comm *comm, int batch, size_t F, const float *x,
                         const float *gamma, const float *beta, float *moving_mean,
                         float *moving_var, float momentum, float eps, float rmax, float dmax,
                         float *y, float *xhat, float *inv_std, float *r, float *d)
{
    double buf[1 + 2 * SYNC_BLOCK];
    for (size_t f0 = 0; f0 < F; f0 += SYNC_BLOCK) {
        size_t nb = F - f0 < SYNC_BLOCK ? F - f0 : SYNC_BLOCK;
        if (block_moments(comm, batch, F, x, moving_mean, f0, nb, buf) == 0.0)
            continue;
        /* the block's mean goes to buf until the rows are done */
        for (size_t f = 0; f < nb; f++) {
            float m = (float)buf[1 + f], var = (float)buf[1 + nb + f];
            if (r)
                seqrt_bn_renorm_rd(m, var, moving_mean[f0 + f], moving_var[f0 + f], eps, rmax,
                                   dmax, &inv_std[f0 + f], &r[f0 + f], &d[f0 + f]);
            else
                inv_std[f0 + f] = 1.0f / sqrtf(var + eps);
            update_moving(&moving_mean[f0 + f], &moving_var[f0 + f], momentum, m, var);
            buf[1 + f] = m;
        }
        normalize_block(batch, F, f0, nb, x, buf + 1, inv_std, r, d, gamma, beta, xhat, y);
    }
}

void seqrt_sync_batchnorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                        const float *x, const float *gamma, const float *beta,
                                        float *moving_mean, float *moving_var, float momentum,
                                        float eps, float *y, float *xhat, float *inv_std)
{
    if (single(comm)) {
        seqrt_batchnorm_forward_train(batch, features, x, gamma, beta, moving_mean, moving_var,
                                      momentum, eps, y, xhat, inv_std);
        return;
    }
    sync_forward(comm, batch, (size_t)features, x, gamma, beta, moving_mean, moving_var,
                 momentum, eps, 0.0f, 0.0f, y, xhat, inv_std, NULL, NULL);
}

/* Backward over the ranks, with renorm's r and d (NULL: 1 and 0; constants
 * in backward, so dgamma = r sum(dy xhat) + d sum(dy) and dx carries r).
 * dgamma/dbeta: this rank's own sums (the loop reduces them later). */
static void sync_backward(const seqrt_comm *comm, int batch, size_t F, const float *xhat,
                          const float *gamma, const float *inv_std, const float *r,
                          const float *d, const float *dy, float *dx, float *dgamma,
                          float *dbeta)
{
    double buf[1 + 2 * SYNC_BLOCK];
    float fy[SYNC_BLOCK], fh[SYNC_BLOCK];
    for (size_t f0 = 0; f0 < F; f0 += SYNC_BLOCK) {
        size_t nb = F - f0 < SYNC_BLOCK ? F - f0 : SYNC_BLOCK;
        double *sdy = buf + 1, *sdh = buf + 1 + nb;
        buf[0] = batch > 0 ? (double)batch : 0.0;
        for (size_t f = 0; f < nb; f++)
            sdy[f] = sdh[f] = 0.0;
        for (int i = 0; i < batch; i++) {
            const float *hr = xhat + (size_t)i * F + f0;
            const float *gr = dy + (size_t)i * F + f0;
            for (size_t f = 0; f < nb; f++) {
                sdy[f] += (double)gr[f];
                sdh[f] += (double)gr[f] * (double)hr[f];
            }
        }
        for (size_t f = 0; f < nb; f++) {
            float sy = (float)sdy[f], sh = (float)sdh[f];
            if (dbeta)
                dbeta[f0 + f] = sy;
            if (dgamma)
                dgamma[f0 + f] = r ? r[f0 + f] * sh + d[f0 + f] * sy : sh;
        }
        comm->sum(comm, buf, 1 + 2 * nb);
        if (!dx || batch <= 0)
            continue;
        for (size_t f = 0; f < nb; f++) { /* the global sums, as floats */
            fy[f] = (float)sdy[f];
            fh[f] = (float)sdh[f];
        }
        seqrt_bn_dx_block(batch, F, f0, nb, xhat, gamma, inv_std, r, 1.0f / (float)buf[0], fy, fh,
                          dy, dx);
    }
}

void seqrt_sync_batchnorm_backward(const seqrt_comm *comm, int batch, int features,
                                   const float *xhat, const float *gamma, const float *inv_std,
                                   const float *dy, float *dx, float *dgamma, float *dbeta)
{
    if (single(comm)) {
        seqrt_batchnorm_backward(batch, features, xhat, gamma, inv_std, dy, dx, dgamma, dbeta);
        return;
    }
    sync_backward(comm, batch, (size_t)features, xhat, gamma, inv_std, NULL, NULL, dy, dx,
                  dgamma, dbeta);
}

void seqrt_sync_batchnorm_renorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                               const float *x, const float *gamma,
                                               const float *beta, float *moving_mean,
                                               float *moving_var, float momentum, float eps,
                                               float rmax, float dmax, float *y, float *xhat,
                                               float *stats)
{
    if (single(comm)) {
        seqrt_batchnorm_renorm_forward_train(batch, features, x, gamma, beta, moving_mean,
                                             moving_var, momentum, eps, rmax, dmax, y, xhat,
                                             stats);
        return;
    }
    const size_t F = (size_t)features;
    sync_forward(comm, batch, F, x, gamma, beta, moving_mean, moving_var, momentum, eps, rmax,
                 dmax, y, xhat, stats, stats + F, stats + 2 * F);
}

void seqrt_sync_batchnorm_renorm_backward(const seqrt_comm *comm, int batch, int features,
                                          const float *xhat, const float *gamma,
                                          const float *stats, const float *dy, float *dx,
                                          float *dgamma, float *dbeta)
{
    if (single(comm)) {
        seqrt_batchnorm_renorm_backward(batch, features, xhat, gamma, stats, dy, dx, dgamma,
                                        dbeta);
        return;
    }
    const size_t F = (size_t)features;
    sync_backward(comm, batch, F, xhat, gamma, stats, stats + F, stats + 2 * F, dy, dx, dgamma,
                  dbeta);
}

void seqrt_sync_bn_relu_maxpool_forward_train(const seqrt_comm *comm, int batch,
                                              const seqrt_pool2d_shape *p, const float *x,
                                              const float *gamma, const float *beta,
                                              float *moving_mean, float *moving_var,
                                              float momentum, float eps, float *y,
                                              int32_t *argmax, float *stats, float *scratch)
{
    if (single(comm)) {
        seqrt_bn_relu_maxpool_forward_train(batch, p, x, gamma, beta, moving_mean, moving_var,
                                            momentum, eps, y, argmax, stats, scratch);
        return;
    }
    const size_t C = (size_t)p->c, P = (size_t)p->h * (size_t)p->w;
    if (batch > 0)
        seqrt_bn_relu_maxpool_partials(batch, p, x, gamma, y, argmax, scratch);
    float *mu = stats, *inv_std = stats + C;
    double buf[1 + 2 * SYNC_BLOCK];
    for (size_t f0 = 0; f0 < C; f0 += SYNC_BLOCK) {
        size_t nb = C - f0 < SYNC_BLOCK ? C - f0 : SYNC_BLOCK;
        double *s1 = buf + 1, *s2 = buf + 1 + nb;
        /* this rank's shifted sums from the samples' (S_n, M2_n), in
         * sample order: sum (x - K) = S_n - P K and sum (x - K)^2 = M2_n
         * + P (S_n / P - K)^2 per sample */
        buf[0] = batch > 0 ? (double)batch * (double)P : 0.0;
        for (size_t f = 0; f < nb; f++) {
            const double k = (double)moving_mean[f0 + f];
            double a = 0.0, b = 0.0;
            for (int n = 0; n < batch; n++) {
                const float *sn = scratch + (size_t)n * 2 * C;
                double dm = (double)sn[f0 + f] / (double)P - k;
                a += (double)P * dm;
                b += (double)sn[C + f0 + f] + (double)P * dm * dm;
            }
            s1[f] = a;
            s2[f] = b;
        }
        comm->sum(comm, buf, 1 + 2 * nb);
        if (global_moments(nb, moving_mean, f0, buf) == 0.0)
            continue;
        for (size_t f = 0; f < nb; f++) {
            float m = (float)s1[f], var = (float)s2[f];
            update_moving(&moving_mean[f0 + f], &moving_var[f0 + f], momentum, m, var);
            mu[f0 + f] = m;
            inv_std[f0 + f] = 1.0f / sqrtf(var + eps);
        }
    }
    if (batch > 0)
        seqrt_bn_relu_maxpool_finish(batch, p, gamma, beta, stats, y, argmax);
}

void seqrt_sync_bn_relu_maxpool_backward(const seqrt_comm *comm, int batch,
                                         const seqrt_pool2d_shape *p, const float *x,
                                         const float *gamma, const float *stats,
                                         const int32_t *argmax, const float *dy, float *dx,
                                         float *dgamma, float *dbeta, float *scratch)
{
    if (single(comm)) {
        seqrt_bn_relu_maxpool_backward(batch, p, x, gamma, stats, argmax, dy, dx, dgamma, dbeta,
                                       scratch);
        return;
    }
    const size_t C = (size_t)p->c, P = (size_t)p->h * (size_t)p->w;
    /* this rank's own dgamma/dbeta (kept: the loop reduces them), then
     * the global totals into the scratch's first 2c floats, free once the
     * per-sample sums are added (batch >= 1 wherever dx is computed) */
    seqrt_bn_relu_maxpool_backward_sums(batch, p, x, stats, argmax, dy, dgamma, dbeta, scratch);
    float *tb = scratch, *tg = scratch + C;
    double buf[1 + 2 * SYNC_BLOCK];
    double n = 0.0;
    for (size_t f0 = 0; f0 < C; f0 += SYNC_BLOCK) {
        size_t nb = C - f0 < SYNC_BLOCK ? C - f0 : SYNC_BLOCK;
        buf[0] = batch > 0 ? (double)batch * (double)P : 0.0;
        for (size_t f = 0; f < nb; f++) {
            buf[1 + f] = (double)dbeta[f0 + f];
            buf[1 + nb + f] = (double)dgamma[f0 + f];
        }
        comm->sum(comm, buf, 1 + 2 * nb);
        n = buf[0];
        if (batch <= 0)
            continue;
        for (size_t f = 0; f < nb; f++) {
            tb[f0 + f] = (float)buf[1 + f];
            tg[f0 + f] = (float)buf[1 + nb + f];
        }
    }
    if (batch <= 0 || !dx)
        return;
    seqrt_bn_relu_maxpool_backward_dx(batch, p, x, gamma, stats, argmax, dy, tg, tb,
                                      1.0f / (float)n, dx);
}
