/* batchnorm.c: batch normalization over [batch, features], training mode
 * (batch statistics, Keras's moving-statistics update), inference mode
 * (moving statistics) and the fused backward pass.
 *
 * Every loop walks rows outer and features inner, so x, y and xhat are read
 * contiguously and the per-feature accumulators (a row's worth of floats)
 * stay in cache. No kernel allocates: the accumulators live in output
 * buffers that are overwritten afterwards (inv_std, the first row of y,
 * dgamma and dbeta). */
#include "seqrt.h"

#include "kernels/simd.h"

#include <math.h>

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

    /* pass 1: mean */
    for (size_t f = 0; f < F; f++)
        mu[f] = 0.0f;
    for (int i = 0; i < batch; i++) {
        const float *xr = x + (size_t)i * F;
        for (size_t f = 0; f < F; f++)
            mu[f] += xr[f];
    }
    for (size_t f = 0; f < F; f++) {
        mu[f] *= inv_n;
        moving_mean[f] = moving_mean[f] * momentum + mu[f] * (1.0f - momentum);
    }

    /* pass 2: deviations into xhat, biased variance from them (two passes
     * rather than E[x^2] - E[x]^2, which cancels badly). With one row the
     * deviation is exactly 0, so var = 0 and y is beta. */
    for (size_t f = 0; f < F; f++)
        sq[f] = 0.0f;
    for (int i = 0; i < batch; i++) {
        const float *xr = x + (size_t)i * F;
        float *hr = xhat + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            float d = xr[f] - mu[f];
            hr[f] = d;
            sq[f] += d * d;
        }
    }
    for (size_t f = 0; f < F; f++) {
        float var = sq[f] * inv_n;
        moving_var[f] = moving_var[f] * momentum + var * (1.0f - momentum);
        inv_std[f] = 1.0f / sqrtf(var + eps); /* mean no longer needed */
    }

    /* pass 3: normalize, scale and shift */
    for (int i = 0; i < batch; i++) {
        float *hr = xhat + (size_t)i * F;
        float *yr = y + (size_t)i * F;
        for (size_t f = 0; f < F; f++) {
            float h = hr[f] * inv_std[f];
            hr[f] = h;
            yr[f] = gamma[f] * h + beta[f];
        }
    }
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
        scale[f] = gamma[f] / sqrtf(moving_var[f] + eps);
    for (int i = 1; i < batch; i++) {
        const float *xr = x + (size_t)i * F;
        float *yr = y + (size_t)i * F;
        for (size_t f = 0; f < F; f++)
            yr[f] = (xr[f] - moving_mean[f]) * scale[f] + beta[f];
    }
    for (size_t f = 0; f < F; f++)
        y[f] = (x[f] - moving_mean[f]) * scale[f] + beta[f];
}

/* xhat[batch,features], gamma/inv_std[features], dy[batch,features];
 * dx[batch,features] or NULL (may alias dy), dgamma/dbeta[features]. */
SEQRT_CLONES void seqrt_batchnorm_backward(int batch, int features, const float *xhat,
                              const float *gamma, const float *inv_std,
                              const float *dy, float *dx, float *dgamma,
                              float *dbeta)
{
    const size_t F = (size_t)features;
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
