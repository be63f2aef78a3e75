/* optimizer.c: SGD (with momentum and Nesterov) and Adam in Keras's forms,
 * each one loop over a contiguous parameter buffer. Their state (velocity,
 * moments) lives in caller-owned buffers so it can be checkpointed; the
 * step count t is the caller's too. */
#include "seqrt.h"

#include <math.h>

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

/* param, grad, m, v [n]; t >= 1 is the step count after this step.
 * The bias corrections are folded into one step size alpha_t, computed in
 * double since beta2^t is close to 1 for small t. */
void seqrt_adam_step(size_t n, float *param, const float *grad, float *m,
                     float *v, int64_t t, float lr, float beta1, float beta2,
                     float eps)
{
    double td = (double)t;
    float alpha = (float)((double)lr * sqrt(1.0 - pow((double)beta2, td)) /
                          (1.0 - pow((double)beta1, td)));
    float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    for (size_t i = 0; i < n; i++) {
        float g = grad[i];
        float mi = beta1 * m[i] + c1 * g;
        float vi = beta2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}
