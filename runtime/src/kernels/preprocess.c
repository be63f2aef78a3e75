/* preprocess.c: Keras's Rescaling and Normalization layers, element-wise
 * over n values with `features` values per row (the last axis). They sit
 * at the front of a model, so their backward passes exist only for
 * completeness of the layer interface (an input gradient nobody reads
 * unless a model puts them later). dx may alias dy. */
#include "seqrt.h"

#include "kernels/simd.h"

#include <math.h>

/* Keras's backend epsilon: the smallest standard deviation divided by. */
#define SEQRT_NORMALIZE_EPS 1e-7f

/* y = x * scale + offset: one multiply and one add (no FMA contraction in
 * ISO C mode), as Keras computes it */
SEQRT_CLONES void seqrt_rescale_forward(size_t n, float scale, float offset,
                                        const float *x, float *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * scale + offset;
}

SEQRT_CLONES void seqrt_rescale_backward(size_t n, float scale, const float *dy,
                                         float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * scale;
}

/* the divisor of feature f: max(sqrt(var), eps) as Keras; a variance that
 * is not a number (never from the adapt step) divides by eps too */
static inline float normalize_sd(float var)
{
    float sd = sqrtf(var);
    return sd > SEQRT_NORMALIZE_EPS ? sd : SEQRT_NORMALIZE_EPS;
}

/* x, y [n / features, features]; mean, var [features]. n is a multiple of
 * features. A division, not a multiplication by a reciprocal, so the
 * values are Keras's to the last bit. */
SEQRT_CLONES void seqrt_normalize_forward(size_t n, int features, const float *mean,
                                          const float *var, const float *x, float *y)
{
    const size_t f = (size_t)features;
    for (size_t r = 0; r < n; r += f)
        for (size_t j = 0; j < f; j++)
            y[r + j] = (x[r + j] - mean[j]) / normalize_sd(var[j]);
}

SEQRT_CLONES void seqrt_normalize_backward(size_t n, int features, const float *var,
                                           const float *dy, float *dx)
{
    const size_t f = (size_t)features;
    for (size_t r = 0; r < n; r += f)
        for (size_t j = 0; j < f; j++)
            dx[r + j] = dy[r + j] / normalize_sd(var[j]);
}
