/* test_optimizer.c: the first two steps of SGD (plain, momentum, Nesterov),
 * Adam, RMSprop, decoupled weight decay and clipping on values worked out
 * by hand or with NumPy, in Keras's forms. Each case uses
 * p0 = (1, -2), g1 = (0.5, 0.25), g2 = (-1, 2), lr 0.1 for SGD. */
#include "kernel_test.h"

#include "seqrt.h"

#include <math.h>

static const float g1[2] = {0.5f, 0.25f}, g2[2] = {-1.0f, 2.0f};

static void sgd_plain_two_steps(void **state)
{
    /* p -= lr g: (0.95, -2.025), then (1.05, -2.225); no velocity needed */
    float p[2] = {1, -2};
    seqrt_sgd_step(2, p, g1, NULL, 0.1f, 0.0f, 0);
    assert_close(p[0], 0.95, 1e-6);
    assert_close(p[1], -2.025, 1e-6);
    seqrt_sgd_step(2, p, g2, NULL, 0.1f, 0.0f, 0);
    assert_close(p[0], 1.05, 1e-6);
    assert_close(p[1], -2.225, 1e-6);
}

static void sgd_momentum_two_steps(void **state)
{
    /* v1 = -lr g1 = (-0.05, -0.025), p1 = (0.95, -2.025);
     * v2 = 0.9 v1 - lr g2 = (0.055, -0.2225), p2 = (1.005, -2.2475) */
    float p[2] = {1, -2}, v[2] = {0, 0};
    seqrt_sgd_step(2, p, g1, v, 0.1f, 0.9f, 0);
    assert_close(v[0], -0.05, 1e-7);
    assert_close(v[1], -0.025, 1e-7);
    assert_close(p[0], 0.95, 1e-6);
    assert_close(p[1], -2.025, 1e-6);
    seqrt_sgd_step(2, p, g2, v, 0.1f, 0.9f, 0);
    assert_close(v[0], 0.055, 1e-7);
    assert_close(v[1], -0.2225, 1e-7);
    assert_close(p[0], 1.005, 1e-6);
    assert_close(p[1], -2.2475, 1e-6);
}

static void sgd_nesterov_two_steps(void **state)
{
    /* v as with momentum; p += 0.9 v - lr g:
     * p1 = (1 - 0.045 - 0.05, -2 - 0.0225 - 0.025) = (0.905, -2.0475)
     * p2 = (0.905 + 0.0495 + 0.1, -2.0475 - 0.20025 - 0.2)
     *    = (1.0545, -2.44775) */
    float p[2] = {1, -2}, v[2] = {0, 0};
    seqrt_sgd_step(2, p, g1, v, 0.1f, 0.9f, 1);
    assert_close(p[0], 0.905, 1e-6);
    assert_close(p[1], -2.0475, 1e-6);
    seqrt_sgd_step(2, p, g2, v, 0.1f, 0.9f, 1);
    assert_close(v[0], 0.055, 1e-7);
    assert_close(v[1], -0.2225, 1e-7);
    assert_close(p[0], 1.0545, 1e-6);
    assert_close(p[1], -2.44775, 1e-6);
}

static void adam_two_steps(void **state)
{
    /* Keras defaults lr 0.001, b1 0.9, b2 0.999, eps 1e-7.
     * step 1: m = 0.1 g1 = (0.05, 0.025), v = 0.001 g1^2 = (2.5e-4, 6.25e-5),
     *   alpha_1 = 0.001 sqrt(0.001)/0.1, so p moves by almost exactly
     *   lr sign(g): p1 = (0.99900000632, -2.00099998735).
     * step 2: m = 0.9 m + 0.1 g2 = (-0.055, 0.2225),
     *   v = 0.999 v + 0.001 g2^2 = (1.24975e-3, 4.0624375e-3),
     *   alpha_2 = 0.001 sqrt(1 - 0.999^2)/(1 - 0.9^2),
     *   p2 = p1 - alpha_2 m/(sqrt v + eps) = (0.99936611, -2.00182145).
     * 1 - b2 is 9.99987e-4 in float (as in TF), so v is checked to about
     * 1e-5 relative. */
    float p[2] = {1, -2}, m[2] = {0, 0}, v[2] = {0, 0};
    seqrt_adam_step(2, p, g1, m, v, 1, 0.001f, 0.9f, 0.999f, 1e-7f);
    assert_close(m[0], 0.05, 1e-7);
    assert_close(m[1], 0.025, 1e-7);
    assert_close(v[0], 2.5e-4, 1e-8);
    assert_close(v[1], 6.25e-5, 1e-8);
    assert_close(p[0], 0.9990000063245154, 2e-7);
    assert_close(p[1], -2.0009999873510496, 3e-7);
    seqrt_adam_step(2, p, g2, m, v, 2, 0.001f, 0.9f, 0.999f, 1e-7f);
    assert_close(m[0], -0.055, 1e-7);
    assert_close(m[1], 0.2225, 1e-7);
    assert_close(v[0], 1.24975e-3, 1e-7);
    assert_close(v[1], 4.0624375e-3, 1e-7);
    assert_close(p[0], 0.9993661088159534, 2e-7);
    assert_close(p[1], -2.0018214518205535, 3e-7);
}

static void adam_epsilon_matters(void **state)
{
    /* With a tiny gradient eps dominates the denominator: g = 1e-7 from
     * p = 0 moves p by -lr sqrt(.001) g / (sqrt(.001) g + 1e-7)
     * = -3.0653430e-05, not -lr; the eps is added to sqrt(v), not to v. */
    float p[1] = {0}, m[1] = {0}, v[1] = {0};
    const float g[1] = {1e-7f};
    seqrt_adam_step(1, p, g, m, v, 1, 0.001f, 0.9f, 0.999f, 1e-7f);
    assert_close(p[0], -3.065343003171551e-05, 1e-9);
}

static void sgd_and_adam_whole_buffer(void **state)
{
    /* one loop over the buffer: every element is updated, none skipped */
    enum { N = 1031 };
    static float p[N], q[N], g[N], v[N], m[N], s[N];
    for (int i = 0; i < N; i++) {
        p[i] = q[i] = 0.0f;
        g[i] = (float)(i % 7) - 3.0f + 0.5f;
        v[i] = m[i] = s[i] = 0.0f;
    }
    seqrt_sgd_step(N, p, g, v, 0.01f, 0.9f, 0);
    seqrt_adam_step(N, q, g, m, s, 1, 0.001f, 0.9f, 0.999f, 1e-7f);
    for (int i = 0; i < N; i++) {
        assert_close(p[i], -0.01 * g[i], 1e-7);
        assert_close(q[i], g[i] > 0 ? -0.001 : 0.001, 1e-7);
    }
}

/* Gradients so small that g*g and v are denormal (the model without
 * batchnorm has many): Adam flushes them inside its loop (optimizer.c),
 * the update is still the reference one to float precision, and the
 * caller's floating-point mode is left as it was: a denormal product
 * computed after the step is still denormal, not zero. */
static void adam_tiny_gradients(void **state)
{
    float p[3] = {0.5f, -0.25f, 1.0f}, g[3] = {1e-20f, -3e-21f, 0.0f};
    float m[3] = {0}, v[3] = {0};
    seqrt_adam_step(3, p, g, m, v, 1, 0.001f, 0.9f, 0.999f, 1e-7f);
    for (int i = 0; i < 3; i++) {
        /* step 1: alpha_1 = lr*sqrt(1-b2)/(1-b1); m = 0.1 g; v = 0.001 g^2
         * (flushed to 0 here); update = alpha_1 * m / (sqrt(v) + eps) */
        double alpha = 0.001 * sqrt(1 - 0.999) / (1 - 0.9);
        double mi = 0.1 * g[i];
        double want = (double)(i == 0 ? 0.5f : i == 1 ? -0.25f : 1.0f) - alpha * mi / 1e-7;
        assert_close(p[i], want, 1e-7);
        assert_true(isfinite(p[i]) && isfinite(m[i]) && isfinite(v[i]));
    }
    volatile float tiny = 1e-38f, half = 0.5f;
    float prod = tiny * half; /* 5e-39: denormal unless FTZ leaked */
    assert_true(prod > 0.0f);
}

/* ---------------------------------------------- RMSprop, decay, clipping */
/* Reference values computed with NumPy in float64 from Keras 3's
 * RMSprop.update_step (rmsprop.py, centered=False):
 *   v = rho v + (1-rho) g^2; inc = lr g / sqrt(v + eps);
 *   momentum > 0: m = momentum m + inc; p -= m, else p -= inc;
 * v and m start at 0; lr 0.01, rho 0.9, eps 1e-7, p0 = (1, -2). */
static void rmsprop_two_steps(void **state)
{
    float p[2] = {1, -2}, v[2] = {0, 0};
    seqrt_rmsprop_step(2, p, g1, v, NULL, 0.01f, 0.9f, 0.0f, 1e-7f);
    /* 1 - rho is 0.100000024 in float: v to about 1e-7 relative */
    assert_close(v[0], 0.025, 1e-8 + 0.025 * 3e-7);
    assert_close(v[1], 0.00625, 1e-9 + 0.00625 * 3e-7);
    assert_close(p[0], 0.9683772866436797, 1e-6);
    assert_close(p[1], -2.0316225236225067, 1e-6);
    seqrt_rmsprop_step(2, p, g2, v, NULL, 0.01f, 0.9f, 0.0f, 1e-7f);
    assert_close(v[0], 0.1225, 1e-7);
    assert_close(v[1], 0.405625, 3e-7);
    assert_close(p[0], 0.9969487035533079, 1e-6);
    assert_close(p[1], -2.063025266630753, 1e-6);
}

/* The same with momentum 0.5: the momentum buffer accumulates the
 * increments (Keras's form, not SGD's). */
static void rmsprop_momentum_two_steps(void **state)
{
    float p[2] = {1, -2}, v[2] = {0, 0}, m[2] = {0, 0};
    seqrt_rmsprop_step(2, p, g1, v, m, 0.01f, 0.9f, 0.5f, 1e-7f);
    assert_close(m[0], 0.031622713356320324, 1e-7);
    assert_close(m[1], 0.031622523622506726, 1e-7);
    assert_close(p[0], 0.9683772866436797, 1e-6);
    assert_close(p[1], -2.0316225236225067, 1e-6);
    seqrt_rmsprop_step(2, p, g2, v, m, 0.01f, 0.9f, 0.5f, 1e-7f);
    assert_close(m[0], -0.012760060231467966, 1e-7);
    assert_close(m[1], 0.04721400481949976, 1e-7);
    assert_close(p[0], 0.9811373468751476, 1e-6);
    assert_close(p[1], -2.0788365284420065, 1e-6);
}

/* AdamW as Keras 3 applies it: p -= lr wd p, then the Adam step (lr
 * 0.001, wd 0.1; NumPy float64). The decay alone moves p by 1e-4 p. */
static void adamw_two_steps(void **state)
{
    float p[2] = {1, -2}, m[2] = {0, 0}, v[2] = {0, 0};
    seqrt_weight_decay(2, p, 0.001f, 0.1f);
    seqrt_adam_step(2, p, g1, m, v, 1, 0.001f, 0.9f, 0.999f, 1e-7f);
    assert_close(p[0], 0.9989000063245154, 3e-7);
    assert_close(p[1], -2.0007999873510496, 3e-7);
    seqrt_weight_decay(2, p, 0.001f, 0.1f);
    seqrt_adam_step(2, p, g2, m, v, 2, 0.001f, 0.9f, 0.999f, 1e-7f);
    assert_close(p[0], 0.999166218815321, 3e-7);
    assert_close(p[1], -2.0014213718218183, 3e-7);
}

/* SGD momentum 0.9, lr 0.1, weight_decay 0.01 (decoupled: p -= lr wd p,
 * then v = 0.9 v - lr g; p += v): p1 = (0.949, -2.023),
 * p2 = (1.003051, -2.243477) (NumPy). */
static void sgd_weight_decay_two_steps(void **state)
{
    float p[2] = {1, -2}, v[2] = {0, 0};
    seqrt_weight_decay(2, p, 0.1f, 0.01f);
    seqrt_sgd_step(2, p, g1, v, 0.1f, 0.9f, 0);
    assert_close(p[0], 0.949, 1e-6);
    assert_close(p[1], -2.023, 1e-6);
    seqrt_weight_decay(2, p, 0.1f, 0.01f);
    seqrt_sgd_step(2, p, g2, v, 0.1f, 0.9f, 0);
    assert_close(p[0], 1.003051, 1e-6);
    assert_close(p[1], -2.243477, 1e-6);
}

/* clip_by_norm: (3, 4, 0) has norm 5; clipnorm 1 gives (0.6, 0.8, 0);
 * clipnorm 5 or more leaves it bit for bit; clipvalue 3.5 gives
 * (3, 3.5, 0) and (-3.5) for -4. */
static void clipping(void **state)
{
    float g[3] = {3, 4, 0};
    assert_close(seqrt_sum_squares(3, g), 25.0, 0);
    seqrt_clip_norm(3, g, 5.0f);
    assert_true(g[0] == 3.0f && g[1] == 4.0f && g[2] == 0.0f);
    seqrt_clip_norm(3, g, 1.0f);
    assert_close(g[0], 0.6, 1e-7);
    assert_close(g[1], 0.8, 1e-7);
    assert_true(g[2] == 0.0f);
    float h[3] = {3, 4, -4};
    seqrt_clip_value(3, h, 3.5f);
    assert_true(h[0] == 3.0f && h[1] == 3.5f && h[2] == -3.5f);
    float z[2] = {0, 0}; /* a zero gradient stays zero (no 0/0) */
    seqrt_clip_norm(2, z, 1.0f);
    assert_true(z[0] == 0.0f && z[1] == 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_plain_two_steps),
        cmocka_unit_test(sgd_momentum_two_steps),
        cmocka_unit_test(sgd_nesterov_two_steps),
        cmocka_unit_test(adam_two_steps),
        cmocka_unit_test(adam_epsilon_matters),
        cmocka_unit_test(sgd_and_adam_whole_buffer),
        cmocka_unit_test(adam_tiny_gradients),
        cmocka_unit_test(rmsprop_two_steps),
        cmocka_unit_test(rmsprop_momentum_two_steps),
        cmocka_unit_test(adamw_two_steps),
        cmocka_unit_test(sgd_weight_decay_two_steps),
        cmocka_unit_test(clipping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
