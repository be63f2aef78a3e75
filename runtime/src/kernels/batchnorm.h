/*
 * batchnorm.h: the per-feature arithmetic that the single-process
 * batchnorm (batchnorm.c) and the synchronized one (batchnorm_sync.c)
 * share, private to the kernels. Static inline, so each kernel's
 * vectorized clones (simd.h) inline it: the two files compute the same
 * bits from the same statistics.
 */
#ifndef SEQRT_KERNELS_BATCHNORM_H
#define SEQRT_KERNELS_BATCHNORM_H

#include <math.h>
#include <stddef.h>

/* Batch renormalization's corrections from a batch's mean and variance and
 * the moving statistics (before their update), and the batch's inv_std:
 *   r = clip(sqrt(var + eps) / sigma, 1/rmax, rmax)
 *   d = clip((mean - moving_mean) / sigma, -dmax, dmax),
 *   sigma = sqrt(moving_var + eps) */
static inline void seqrt_bn_renorm_rd(float mean, float var, float moving_mean, float moving_var,
                                      float eps, float rmax, float dmax, float *inv_std,
                                      float *r, float *d)
{
    float sd = sqrtf(var + eps), sigma = sqrtf(moving_var + eps);
    float rr = sd / sigma, dd = (mean - moving_mean) / sigma;
    *r = rr < 1.0f / rmax ? 1.0f / rmax : rr > rmax ? rmax : rr;
    *d = dd < -dmax ? -dmax : dd > dmax ? dmax : dd;
    *inv_std = 1.0f / sd;
}

/* dx of `rows` rows normalized together, features [f0, f0 + nb) of F:
 *   dx = k (dy - inv_n (sdy + xhat sdh)),  k = gamma inv_std r
 * with the block's sums sdy[nb] = sum dy and sdh[nb] = sum dy xhat over
 * all the rows normalized together (gamma NULL: 1; r NULL: 1). */
static inline void seqrt_bn_dx_block(int rows, size_t F, size_t f0, size_t nb,
                                     const float *xhat, const float *gamma,
                                     const float *inv_std, const float *r, float inv_n,
                                     const float *sdy, const float *sdh, const float *dy,
                                     float *dx)
{
    for (int i = 0; i < rows; i++) {
        const float *hr = xhat + (size_t)i * F + f0;
        const float *gr = dy + (size_t)i * F + f0;
        float *dr = dx + (size_t)i * F + f0;
        for (size_t f = 0; f < nb; f++) {
            float k = (gamma ? gamma[f0 + f] : 1.0f) * inv_std[f0 + f] * (r ? r[f0 + f] : 1.0f);
            dr[f] = k * (gr[f] - inv_n * (sdy[f] + hr[f] * sdh[f]));
        }
    }
}

#endif /* SEQRT_KERNELS_BATCHNORM_H */
