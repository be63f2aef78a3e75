/* batchnorm.c: batch normalization over [batch, features], training mode
 * (batch statistics, Keras's moving-statistics update), inference mode
 * (moving statistics) and the fused backward pass; the frozen layer's
 * backward (an affine map) and ghost batches (statistics per group of
 * samples). gamma NULL is scale=false (1), beta NULL center=false (0).
 *
 * Every loop walks rows outer and features inner, so x, y and xhat are read
 * contiguously and the per-feature accumulators (a row's worth of floats)
 * stay in cache. No kernel allocates: the accumulators live in output
 * buffers that are overwritten afterwards (inv_std, the first row of y,
 * dgamma and dbeta). */
#include "seqrt.h"

#include "kernels/batchnorm.h"
#include "kernels/simd.h"

#include <math.h>

/* The statistics every training-mode batchnorm starts from, over `rows`
 * rows of F features: the mean mu[F], the deviations x - mu into dev, and
 * their sums of squares sq[F] (two passes rather than E[x^2] - E[x]^2,
 * which cancels badly; with one row every deviation is exactly 0). */
static void bn_mean_dev(int rows, size_t F, const float *x, float *mu, float *dev, float *sq)
{
    const float inv_n = 1.0f / (float)rows;
    for (size_t f = 0; f < F; f++)
        mu[f] = 0.0f;
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * F;
        for (size_t f = 0; f < F; f++)
            mu[f] += xr[f];
    }
    for (size_t f = 0; f < F; f++) {
        mu[f] *= inv_n;
        sq[f] = 0.0f;
    }
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * F;
        float *hr = dev + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            float d = xr[f] - mu[f];
            hr[f] = d;
            sq[f] += d * d;
        }
    }
}

/* xhat = dev * inv_std in place, y = gamma * xhat + beta (gamma 1 and
 * beta 0 where NULL: scale=false, center=false) */
static void bn_normalize(int rows, size_t F, const float *inv_std, const float *gamma,
                         const float *beta, float *xhat, float *y)
{
    if (gamma && beta) {
        for (int i = 0; i < rows; i++) {
            float *hr = xhat + (size_t)i * F;
            float *yr = y + (size_t)i * F;
            for (size_t f = 0; f < F; f++) {
                float h = hr[f] * inv_std[f];
                hr[f] = h;
                yr[f] = gamma[f] * h + beta[f];
            }
        }
        return;
    }
    for (int i = 0; i < rows; i++) {
        float *hr = xhat + (size_t)i * F;
        float *yr = y + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            float h = hr[f] * inv_std[f];
            hr[f] = h;
            yr[f] = (gamma ? gamma[f] : 1.0f) * h + (beta ? beta[f] : 0.0f);
        }
    }
}

/* x[batch,features], gamma/beta[features], moving_mean/moving_var[features]
 * (updated in place); y[batch,features], xhat[batch,features] and
 * inv_std[features] written. y must not alias x. */
SEQRT_CLONES void seqrt_batchnorm_forward_train(int batch, int features, const float *x,
                                   const float *gamma, const float *beta,
                                   float *moving_mean, float *moving_var,
                                   float momentum, float eps, float *y,
                                   float *xhat, float *inv_std)
{
    const size_t F = (size_t)features;
    const float inv_n = 1.0f / (float)batch;
    float *mu = inv_std;  /* holds the mean until the variance is known */
    float *sq = y;        /* first row of y accumulates squared deviations */
    if (batch <= 0)
        return;

    /* mean, deviations into xhat, biased variance; with one row var = 0
     * and y is beta */
    bn_mean_dev(batch, F, x, mu, xhat, sq);
    for (size_t f = 0; f < F; f++) {
        float var = sq[f] * inv_n;
        moving_mean[f] = moving_mean[f] * momentum + mu[f] * (1.0f - momentum);
        moving_var[f] = moving_var[f] * momentum + var * (1.0f - momentum);
        inv_std[f] = 1.0f / sqrtf(var + eps); /* mean no longer needed */
    }
    bn_normalize(batch, F, inv_std, gamma, beta, xhat, y);
}

/* x[batch,features] -> y[batch,features] with the moving statistics.
 * The per-feature scale gamma/sqrt(moving_var+eps) is kept in y's first
 * row while the other rows are computed, then that row is finished last.
 * y must not alias x. */
SEQRT_CLONES void seqrt_batchnorm_forward_infer(int batch, int features, const float *x,
                                   const float *gamma, const float *beta,
                                   const float *moving_mean,
                                   const float *moving_var, float eps,
                                   float *y)
{
    const size_t F = (size_t)features;
    if (batch <= 0)
        return;
    float *scale = y;
    for (size_t f = 0; f < F; f++)
        scale[f] = (gamma ? gamma[f] : 1.0f) / sqrtf(moving_var[f] + eps);
    if (beta) {
        for (int i = 1; i < batch; i++) {
            const float *xr = x + (size_t)i * F;
            float *yr = y + (size_t)i * F;
            for (size_t f = 0; f < F; f++)
                yr[f] = (xr[f] - moving_mean[f]) * scale[f] + beta[f];
        }
        for (size_t f = 0; f < F; f++)
            y[f] = (x[f] - moving_mean[f]) * scale[f] + beta[f];
        return;
    }
    for (int i = 1; i < batch; i++) {
        const float *xr = x + (size_t)i * F;
        float *yr = y + (size_t)i * F;
        for (size_t f = 0; f < F; f++)
            yr[f] = (xr[f] - moving_mean[f]) * scale[f];
    }
    for (size_t f = 0; f < F; f++)
        y[f] = (x[f] - moving_mean[f]) * scale[f];
}

/* Backward of `rows` rows normalized together (a batch, or one ghost
 * batch): sums of dy and dy*xhat per feature, dx from them. The sums go
 * to dbeta/dgamma (added when accumulate, else stored; NULL: not kept).
 * Features are taken in blocks whose sums live on the stack, so nothing
 * is allocated and a layer without gamma or beta needs no buffer. */
enum { BN_BLOCK = 256 };

static void bn_backward_rows_rd(int rows, size_t F, const float *xhat, const float *gamma,
                                const float *inv_std, const float *r, const float *d,
                                const float *dy, float *dx, float *dgamma, float *dbeta,
                                int accumulate);

static void bn_backward_rows(int rows, size_t F, const float *xhat, const float *gamma,
                             const float *inv_std, const float *dy, float *dx,
                             float *dgamma, float *dbeta, int accumulate)
{
    bn_backward_rows_rd(rows, F, xhat, gamma, inv_std, NULL, NULL, dy, dx, dgamma, dbeta,
                        accumulate);
}

/* The same with batch renormalization's r and d (NULL: 1 and 0), constants
 * in backward: y = gamma * (r * xhat + d) + beta, so dgamma = r * sum(dy *
 * xhat) + d * sum(dy) and dx carries an extra factor r. */
static void bn_backward_rows_rd(int rows, size_t F, const float *xhat, const float *gamma,
                                const float *inv_std, const float *r, const float *d,
                                const float *dy, float *dx, float *dgamma, float *dbeta,
                                int accumulate)
{
    float sdy[BN_BLOCK], sdh[BN_BLOCK];
    const float inv_n = 1.0f / (float)rows;
    for (size_t f0 = 0; f0 < F; f0 += BN_BLOCK) {
        size_t nb = F - f0 < BN_BLOCK ? F - f0 : BN_BLOCK;
        for (size_t f = 0; f < nb; f++)
            sdy[f] = sdh[f] = 0.0f;
        for (int i = 0; i < rows; i++) {
            const float *hr = xhat + (size_t)i * F + f0;
            const float *gr = dy + (size_t)i * F + f0;
            for (size_t f = 0; f < nb; f++) {
                sdy[f] += gr[f];
                sdh[f] += gr[f] * hr[f];
            }
        }
        for (size_t f = 0; f < nb; f++) {
            if (dbeta)
                dbeta[f0 + f] = accumulate ? dbeta[f0 + f] + sdy[f] : sdy[f];
            float dg = r ? r[f0 + f] * sdh[f] + d[f0 + f] * sdy[f] : sdh[f];
            if (dgamma)
                dgamma[f0 + f] = accumulate ? dgamma[f0 + f] + dg : dg;
        }
        if (dx)
            seqrt_bn_dx_block(rows, F, f0, nb, xhat, gamma, inv_std, r, inv_n, sdy, sdh, dy, dx);
    }
}

/* xhat[batch,features], gamma/inv_std[features], dy[batch,features];
 * dx[batch,features] or NULL (may alias dy), dgamma/dbeta[features]. */
SEQRT_CLONES void seqrt_batchnorm_backward(int batch, int features, const float *xhat,
                              const float *gamma, const float *inv_std,
                              const float *dy, float *dx, float *dgamma,
                              float *dbeta)
{
    const size_t F = (size_t)features;
    if (!dgamma || !dbeta || !gamma) { /* scale=false or center=false */
        bn_backward_rows(batch, F, xhat, gamma, inv_std, dy, dx, dgamma, dbeta, 0);
        return;
    }
    for (size_t f = 0; f < F; f++) {
        dgamma[f] = 0.0f;
        dbeta[f] = 0.0f;
    }
    for (int i = 0; i < batch; i++) {
        const float *hr = xhat + (size_t)i * F;
        const float *gr = dy + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            dbeta[f] += gr[f];
            dgamma[f] += gr[f] * hr[f];
        }
    }
    if (!dx)
        return;

    /* dx = gamma*inv_std/N * (N*dy - sum(dy) - xhat*sum(dy*xhat)), written
     * as k*dy - (k/N)*(dbeta + xhat*dgamma) with k = gamma*inv_std. */
    const float n = (float)batch;
    const float inv_n = 1.0f / n;
    for (int i = 0; i < batch; i++) {
        const float *hr = xhat + (size_t)i * F;
        const float *gr = dy + (size_t)i * F;
        float *dr = dx + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            float k = gamma[f] * inv_std[f];
            dr[f] = k * (gr[f] - inv_n * (dbeta[f] + hr[f] * dgamma[f]));
        }
    }
}

/* frozen=true: y = gamma * (x - moving_mean) / sqrt(moving_var + eps) + beta
 * with constant statistics, so dx = dy * gamma / sqrt(moving_var + eps).
 * dx may alias dy. */
SEQRT_CLONES void seqrt_batchnorm_frozen_backward(int batch, int features, const float *gamma,
                                                 const float *moving_var, float eps,
                                                 const float *dy, float *dx)
{
    const size_t F = (size_t)features;
    if (!dx)
        return;
    for (int i = 0; i < batch; i++) {
        const float *gr = dy + (size_t)i * F;
        float *dr = dx + (size_t)i * F;
        for (size_t f = 0; f < F; f++)
            dr[f] = gr[f] * ((gamma ? gamma[f] : 1.0f) / sqrtf(moving_var[f] + eps));
    }
}

/* Ghost batch k: samples [k*vb, (k+1)*vb), the last one to the end of the
 * batch (a batch that vb does not divide: the remainder joins the last
 * group; a batch smaller than vb is one group). */
static int ghost_groups(int n, int vb)
{
    int g = vb > 0 ? n / vb : 1;
    return g > 0 ? g : 1;
}

static void ghost_range(int n, int vb, int k, int ngroups, int *first, int *count)
{
    *first = ngroups == 1 ? 0 : k * vb;
    *count = k == ngroups - 1 ? n - *first : vb;
}

SEQRT_CLONES void seqrt_batchnorm_ghost_forward_train(int n, int per, int features, int vb,
                                                     const float *x, const float *gamma,
                                                     const float *beta, float *moving_mean,
                                                     float *moving_var, float momentum,
                                                     float eps, float *y, float *xhat,
                                                     float *inv_std)
{
    const size_t F = (size_t)features;
    if (n <= 0)
        return;
    int ngroups = ghost_groups(n, vb);
    /* Keras: the moving statistics follow the mean of the ghost batches'
     * means and (biased) variances */
    const float w = (1.0f - momentum) / (float)ngroups;
    for (size_t f = 0; f < F; f++) {
        moving_mean[f] *= momentum;
        moving_var[f] *= momentum;
    }
    for (int k = 0; k < ngroups; k++) {
        int first, count;
        ghost_range(n, vb, k, ngroups, &first, &count);
        size_t r0 = (size_t)first * (size_t)per;
        int rows = count * per;
        const float *xg = x + r0 * F;
        float *yg = y + r0 * F, *hg = xhat + r0 * F, *mu = inv_std + (size_t)k * F;
        float *sq = yg; /* the group's first row of y accumulates */
        const float inv_n = 1.0f / (float)rows;
        bn_mean_dev(rows, F, xg, mu, hg, sq);
        for (size_t f = 0; f < F; f++) {
            float var = sq[f] * inv_n;
            moving_mean[f] += w * mu[f];
            moving_var[f] += w * var;
            mu[f] = 1.0f / sqrtf(var + eps); /* now this group's inv_std */
        }
        bn_normalize(rows, F, mu, gamma, beta, hg, yg);
    }
}

SEQRT_CLONES void seqrt_batchnorm_ghost_backward(int n, int per, int features, int vb,
                                                const float *xhat, const float *gamma,
                                                const float *inv_std, const float *dy,
                                                float *dx, float *dgamma, float *dbeta)
{
    const size_t F = (size_t)features;
    int ngroups = ghost_groups(n, vb);
    if (n <= 0) {
        for (size_t f = 0; f < F; f++) {
            if (dgamma)
                dgamma[f] = 0.0f;
            if (dbeta)
                dbeta[f] = 0.0f;
        }
        return;
    }
    for (int k = 0; k < ngroups; k++) {
        int first, count;
        ghost_range(n, vb, k, ngroups, &first, &count);
        size_t r0 = (size_t)first * (size_t)per * F;
        bn_backward_rows(count * per, F, xhat + r0, gamma, inv_std + (size_t)k * F, dy + r0,
                         dx ? dx + r0 : NULL, dgamma, dbeta, k > 0);
    }
}

/* Batch renormalization (Ioffe 2017): the batch's mean mu and biased
 * variance var, the moving statistics' sigma = sqrt(moving_var + eps)
 * (before this step's update),
 *   r = clip(sqrt(var + eps) / sigma, 1/rmax, rmax)
 *   d = clip((mu - moving_mean) / sigma, -dmax, dmax)
 *   xhat = (x - mu) / sqrt(var + eps),  y = gamma * (r * xhat + d) + beta
 * then the moving statistics are updated as batchnorm's. stats[3,features]
 * holds inv_std, r and d for backward, where r and d are constants. */
SEQRT_CLONES void seqrt_batchnorm_renorm_forward_train(int batch, int features, const float *x,
                                                      const float *gamma, const float *beta,
                                                      float *moving_mean, float *moving_var,
                                                      float momentum, float eps, float rmax,
                                                      float dmax, float *y, float *xhat,
                                                      float *stats)
{
    const size_t F = (size_t)features;
    float *inv_std = stats, *r = stats + F, *d = stats + 2 * F;
    float *mu = d, *sq = r; /* accumulators until r and d are known */
    const float inv_n = 1.0f / (float)batch;
    if (batch <= 0)
        return;
    bn_mean_dev(batch, F, x, mu, xhat, sq);
    for (size_t f = 0; f < F; f++) {
        float var = sq[f] * inv_n, m = mu[f], is, rr, dd;
        seqrt_bn_renorm_rd(m, var, moving_mean[f], moving_var[f], eps, rmax, dmax, &is, &rr, &dd);
        moving_mean[f] = moving_mean[f] * momentum + m * (1.0f - momentum);
        moving_var[f] = moving_var[f] * momentum + var * (1.0f - momentum);
        inv_std[f] = is;
        r[f] = rr;
        d[f] = dd;
    }
    for (int i = 0; i < batch; i++)
        for (size_t f = 0; f < F; f++) {
            float h = xhat[(size_t)i * F + f] * inv_std[f];
            xhat[(size_t)i * F + f] = h;
            y[(size_t)i * F + f] =
                (gamma ? gamma[f] : 1.0f) * (r[f] * h + d[f]) + (beta ? beta[f] : 0.0f);
        }
}

SEQRT_CLONES void seqrt_batchnorm_renorm_backward(int batch, int features, const float *xhat,
                                                 const float *gamma, const float *stats,
                                                 const float *dy, float *dx, float *dgamma,
                                                 float *dbeta)
{
    const size_t F = (size_t)features;
    bn_backward_rows_rd(batch, F, xhat, gamma, stats, stats + F, stats + 2 * F, dy, dx, dgamma,
                        dbeta, 0);
}
