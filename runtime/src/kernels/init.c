/* init.c: weight initializers with Keras's definitions, drawn from the
 * runtime's seeded generator (rng.c). */
#include "seqrt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keras's VarianceScaling divides the truncated normal's stddev by the
 * stddev of a unit normal truncated to [-2, 2], so the variance after
 * truncation is the one asked for. */
#define SEQRT_TRUNC_STDDEV 0.87962566103423978

/* uniform in [-limit, limit) */
static void fill_uniform(float *w, size_t n, double limit, seqrt_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (float)((2.0 * seqrt_rng_uniform(rng) - 1.0) * limit);
}

/* normal with the given stddev, redrawn while beyond two stddevs */
static void fill_truncated_normal(float *w, size_t n, double stddev,
                                  seqrt_rng *rng)
{
    for (size_t i = 0; i < n; i++) {
        float z;
        do
            z = seqrt_rng_normal(rng);
        while (z < -2.0f || z > 2.0f);
        w[i] = (float)(z * stddev);
    }
}

void seqrt_init(float *w, size_t n, seqrt_init_kind kind, int fan_in,
                int fan_out, seqrt_rng *rng)
{
    /* Keras: fan_avg = (fan_in + fan_out) / 2; glorot is scale 1 over
     * fan_avg, he is scale 2 over fan_in. A uniform of variance s has
     * limit sqrt(3 s). */
    double fan_avg = 0.5 * ((double)fan_in + (double)fan_out);
    double fan_in_d = fan_in > 0 ? (double)fan_in : 1.0;
    if (fan_avg <= 0.0)
        fan_avg = 1.0;

    switch (kind) {
    case SEQRT_INIT_ZEROS:
        for (size_t i = 0; i < n; i++)
            w[i] = 0.0f;
        break;
    case SEQRT_INIT_ONES:
        for (size_t i = 0; i < n; i++)
            w[i] = 1.0f;
        break;
    case SEQRT_INIT_GLOROT_UNIFORM: /* sqrt(6 / (fan_in + fan_out)) */
        fill_uniform(w, n, sqrt(3.0 / fan_avg), rng);
        break;
    case SEQRT_INIT_HE_UNIFORM: /* sqrt(6 / fan_in) */
        fill_uniform(w, n, sqrt(6.0 / fan_in_d), rng);
        break;
    case SEQRT_INIT_GLOROT_NORMAL:
        fill_truncated_normal(w, n, sqrt(1.0 / fan_avg) / SEQRT_TRUNC_STDDEV, rng);
        break;
    case SEQRT_INIT_HE_NORMAL:
        fill_truncated_normal(w, n, sqrt(2.0 / fan_in_d) / SEQRT_TRUNC_STDDEV, rng);
        break;
    case SEQRT_INIT_COUNT_:
    default:
        /* the compiler only emits known kinds: this is a bug, not input */
        fprintf(stderr, "seqrt_init: invalid initializer kind %d\n", (int)kind);
        abort();
    }
}
