/* dropout.c: inverted dropout for training. Kept units are scaled by
 * 1/(1-rate) so inference needs no rescaling (the generated code simply
 * skips dropout there). The mask comes from the seqrt_rng passed in, so a
 * seeded run drops the same units every time. */
#include "seqrt.h"

/* x, y, mask [n]. rate is in [0, 1); a rate of 1 or more drops everything
 * (the compiler rejects such rates; this only keeps the kernel finite). */
void seqrt_dropout_forward_train(size_t n, float rate, const float *x,
                                 float *y, float *mask, seqrt_rng *rng)
{
    float keep_scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    for (size_t i = 0; i < n; i++) {
        mask[i] = seqrt_rng_uniform(rng) < rate ? 0.0f : keep_scale;
        y[i] = x[i] * mask[i];
    }
}

/* Skips k of the generator's uniform draws. */
static void rng_skip(seqrt_rng *rng, size_t k)
{
    while (k-- > 0)
        (void)seqrt_rng_uniform(rng);
}

void seqrt_dropout_rows_forward_train(int n, int row0, int rows, size_t width, float rate,
                                      const float *x, float *y, float *mask, seqrt_rng *rng)
{
    rng_skip(rng, (size_t)row0 * width);
    seqrt_dropout_forward_train((size_t)n * width, rate, x, y, mask, rng);
    rng_skip(rng, (size_t)(rows - row0 - n) * width);
}

/* dx = dy * mask (the mask already holds the 1/(1-rate) scale);
 * dx may alias dy. */
void seqrt_dropout_backward(size_t n, float rate, const float *mask,
                            const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = dy[i] * mask[i];
}
