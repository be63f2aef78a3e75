/*
 * test_gradcheck.c: a whole generated model against finite differences.
 *
 * GRADCHECK_C names a trainer that `seqc emit` wrote at build time; it is
 * included here with SEQRT_NO_MAIN, so its init, forward_train and
 * backward are callable. For EVERY trainable parameter p (weights, biases,
 * gammas, betas of every layer), backward()'s gradient is compared with
 * (L(p+h) - L(p-h)) / 2h of forward_train's loss, in float. forward_train
 * also moves the batchnorm moving statistics; they do not enter the
 * training-mode loss, so the differences are unaffected.
 *
 * The targets are what the model's loss reads (seqrt_loss_targets):
 * class numbers for sparse_categorical_crossentropy, else rows of
 * targets: probability rows (categorical), values in [0, 1] (binary),
 * reals (regression). A normalize layer's mean and variance are set to
 * values away from the identity, as if learned from data.
 */
#define SEQRT_NO_MAIN
#include GRADCHECK_C

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { BATCH = 6 };

static float loss_at(seqrt_step *s)
{
    model.forward_train(s);
    return s->loss;
}

static void test_gradients_match_finite_differences(void **state)
{
    (void)state;
    const seqrt_model *m = &model;
    float *params = calloc(m->param_count, sizeof *params);
    float *grads = calloc(m->trainable_count, sizeof *grads);
    float *arena = calloc(m->act_per_sample * BATCH, sizeof *arena);
    float *x = calloc((size_t)m->input_size * BATCH, sizeof *x);
    int32_t y[BATCH];
    const int width = m->outputs;
    float *t = calloc((size_t)width * BATCH, sizeof *t);
    assert_non_null(t);
    assert_non_null(params);
    assert_non_null(grads);
    assert_non_null(arena);
    assert_non_null(x);

    seqrt_rng rng;
    seqrt_rng_seed(&rng, 7);
    m->init(params, &rng);
    /* move every trainable value off its initial constant (gamma 1, zero
     * biases) so each has a gradient of its own */
    for (size_t i = 0; i < m->trainable_count; i++)
        params[i] += 0.3f * (seqrt_rng_uniform(&rng) - 0.5f);
    for (size_t i = 0; i < (size_t)m->input_size * BATCH; i++)
        x[i] = seqrt_rng_uniform(&rng);
    if (m->normalize) {
        const seqrt_normalize_spec *nz = m->normalize;
        for (int f = 0; f < nz->features; f++) {
            params[nz->mean_offset + (size_t)f] = seqrt_rng_uniform(&rng) - 0.5f;
            params[nz->var_offset + (size_t)f] = 0.5f + 1.5f * seqrt_rng_uniform(&rng);
        }
    }
    bool labels = m->loss == SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    for (int i = 0; i < BATCH; i++) {
        y[i] = (int32_t)seqrt_rng_below(&rng, (uint32_t)width);
        float sum = 0;
        for (int j = 0; j < width; j++) {
            float u = seqrt_rng_uniform(&rng);
            float *v = &t[(size_t)i * (size_t)width + (size_t)j];
            switch (m->loss) {
            case SEQRT_LOSS_CATEGORICAL_CROSSENTROPY: *v = 0.05f + u; sum += *v; break;
            case SEQRT_LOSS_BINARY_CROSSENTROPY:      *v = u; break;
            default:                                  *v = 2.0f * u - 1.0f; break;
            }
        }
        for (int j = 0; sum > 0 && j < width; j++) /* a probability row */
            t[(size_t)i * (size_t)width + (size_t)j] /= sum;
    }

    seqrt_step s = {.n = BATCH, .rows = BATCH, .capacity = BATCH, .x = x, .y = labels ? y : NULL,
                    .t = labels ? NULL : t, .params = params, .grads = grads, .arena = arena,
                    .rng = &rng};
    m->forward_train(&s);
    assert_true(isfinite(s.loss));
    assert_true(s.loss > 0);
    assert_non_null(s.output);
    m->backward(&s);

    const float h = 1e-2f;
    size_t nonzero = 0, bad = 0;
    for (size_t i = 0; i < m->trainable_count; i++) {
        float v = params[i];
        params[i] = v + h;
        float lp = loss_at(&s);
        params[i] = v - h;
        float lm = loss_at(&s);
        params[i] = v;
        float fd = (lp - lm) / (2 * h);
        float g = grads[i];
        if (fabsf(g - fd) > 1e-3f + 0.03f * fabsf(fd)) {
            if (bad++ < 10)
                print_error("param %zu: backward %.6g, finite difference %.6g\n", i,
                            (double)g, (double)fd);
        }
        if (fabsf(g) > 1e-3f)
            nonzero++;
    }
    assert_int_equal(bad, 0);
    /* a model whose gradients all vanished would pass the check above */
    assert_true(nonzero * 2 > m->trainable_count);

    free(params);
    free(grads);
    free(arena);
    free(x);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
