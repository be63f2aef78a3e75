/* optimizer.c: SGD (with momentum and Nesterov), Adam and RMSprop in Keras's forms,
 * decoupled weight decay and gradient clipping (clipnorm, clipvalue),
 * each one loop over a contiguous parameter buffer. Their state (velocity,
 * moments) lives in caller-owned buffers so it can be checkpointed; the
 * step count t is the caller's too. */
#include "seqrt.h"

#include "kernels/parts.h"
#include "kernels/simd.h"

#include <math.h>

#if defined(__SSE2__) && (defined(__x86_64__) || defined(__i386__))
#include <xmmintrin.h>
#define SEQRT_FLUSH_DENORMALS 1
#else
#define SEQRT_FLUSH_DENORMALS 0
#endif

/* param, grad, velocity [n]; velocity may be NULL when momentum == 0. */
void seqrt_sgd_step(size_t n, float *param, const float *grad, float *velocity,
                    float lr, float momentum, int nesterov)
{
    if (momentum == 0.0f) {
        for (size_t i = 0; i < n; i++)
            param[i] -= lr * grad[i];
        return;
    }
    if (nesterov) {
        for (size_t i = 0; i < n; i++) {
            float v = momentum * velocity[i] - lr * grad[i];
            velocity[i] = v;
            param[i] += momentum * v - lr * grad[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float v = momentum * velocity[i] - lr * grad[i];
            velocity[i] = v;
            param[i] += v;
        }
    }
}

typedef struct adam_job {
    size_t       n;
    float       *param, *m, *v;
    const float *grad;
    float        alpha, beta1, beta2, eps;
} adam_job;

/* The Adam loop over [lo, hi). Built -O3 -fno-math-errno (CMakeLists.txt),
 * GCC vectorizes it (sqrtf and the division are single instructions);
 * -O2 with errno-setting sqrtf ran it scalar: 220 us per step for the
 * tutorial's 110k parameters, 57 us vectorized with SSE2, 21 us with the
 * AVX-512 clone (simd.h); the parts of a split run on both cores'
 * caches. Elementwise, so the split changes no bit. */
SEQRT_CLONES static void adam_loop(const adam_job *j, size_t lo, size_t hi)
{
    float *restrict param = j->param, *restrict m = j->m, *restrict v = j->v;
    const float *restrict grad = j->grad;
    const float alpha = j->alpha, beta1 = j->beta1, beta2 = j->beta2, eps = j->eps;
    const float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    for (size_t i = lo; i < hi; i++) {
        float g = grad[i];
        float mi = beta1 * m[i] + c1 * g;
        float vi = beta2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

/*
 * One part of the step, with denormals flushed to zero (x86: MXCSR's FTZ
 * and DAZ bits, set for this loop only and restored after). Without
 * batchnorm many gradients are tiny, g*g and the second moment v fall
 * below FLT_MIN, and every operation on such a float took a microcode
 * assist: the step over the tutorial's model without batchnorm took 46 us
 * against 21 us with it. Flushed, a v below 1.2e-38 counts as 0 next to
 * eps = 1e-7 (sqrt(1e-38) = 1e-19), and an m that small moves a weight by
 * less than 1e-30: no update changes in practice, and the result is as
 * deterministic as before. TensorFlow, Keras's back end, runs its CPU
 * kernels with the same two bits set.
 */
static void adam_part(void *arg, int part, int parts)
{
    const adam_job *j = arg;
    size_t lo, hi;
    seqrt_parallel_range(j->n, 16, part, parts, &lo, &hi);
#if SEQRT_FLUSH_DENORMALS
    unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#endif
    adam_loop(j, lo, hi);
#if SEQRT_FLUSH_DENORMALS
    _mm_setcsr(csr);
#endif
}

/* Parameters below which the step runs on the calling thread alone. */
#define ADAM_SPLIT_MIN ((size_t)1 << 14)

/* param, grad, m, v [n]; t >= 1 is the step count after this step.
 * The bias corrections are folded into one step size alpha_t, computed in
 * double since beta2^t is close to 1 for small t. */
void seqrt_adam_step(size_t n, float *param, const float *grad, float *m,
                     float *v, int64_t t, float lr, float beta1, float beta2,
                     float eps)
{
    double td = (double)t;
    adam_job j = {.n = n, .param = param, .m = m, .v = v, .grad = grad,
                  .alpha = (float)((double)lr * sqrt(1.0 - pow((double)beta2, td)) /
                                   (1.0 - pow((double)beta1, td))),
                  .beta1 = beta1, .beta2 = beta2, .eps = eps};
    if (n >= ADAM_SPLIT_MIN && seqrt_parallel_parts() > 1)
        seqrt_parallel(adam_part, &j);
    else
        adam_part(&j, 0, 1);
}

/* Keras 3 RMSprop, not centered (seqrt.h). Elementwise, one pass. */
void seqrt_rmsprop_step(size_t n, float *param, const float *grad, float *velocity,
                        float *mom, float lr, float rho, float momentum, float eps)
{
    const float c = 1.0f - rho;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i];
        float v = rho * velocity[i] + c * (g * g);
        velocity[i] = v;
        float inc = lr * g / sqrtf(v + eps);
        if (momentum > 0.0f) {
            float m = momentum * mom[i] + inc;
            mom[i] = m;
            param[i] -= m;
        } else {
            param[i] -= inc;
        }
    }
}

/* p -= lr * wd * p, as Keras's _apply_weight_decay (decoupled). */
void seqrt_weight_decay(size_t n, float *param, float lr, float wd)
{
    const float k = lr * wd;
    for (size_t i = 0; i < n; i++)
        param[i] -= k * param[i];
}

double seqrt_sum_squares(size_t n, const float *g)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * (double)g[i];
    return s;
}

/* g *= clipnorm / max(norm, clipnorm): unchanged when norm <= clipnorm. */
void seqrt_clip_scale(size_t n, float *g, double norm, float clipnorm)
{
    if (!(norm > (double)clipnorm))
        return;
    const float k = (float)((double)clipnorm / norm);
    for (size_t i = 0; i < n; i++)
        g[i] *= k;
}

void seqrt_clip_norm(size_t n, float *g, float clipnorm)
{
    seqrt_clip_scale(n, g, sqrt(seqrt_sum_squares(n, g)), clipnorm);
}

void seqrt_clip_value(size_t n, float *g, float clipvalue)
{
    for (size_t i = 0; i < n; i++)
        g[i] = g[i] > clipvalue ? clipvalue : g[i] < -clipvalue ? -clipvalue : g[i];
}
