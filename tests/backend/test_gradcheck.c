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
 */
#define SEQRT_NO_MAIN
#include GRADCHECK_C

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
    for (int i = 0; i < BATCH; i++)
        y[i] = (int32_t)seqrt_rng_below(&rng, (uint32_t)m->outputs);

    /* the same classes as target rows, for the losses that read rows */
    float *t = calloc((size_t)BATCH * (size_t)m->outputs, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < BATCH; i++)
        t[(size_t)i * (size_t)m->outputs + (size_t)y[i]] = 1.0f;
    seqrt_step s = {.n = BATCH, .capacity = BATCH, .x = x, .y = y, .t = t, .params = params,
                    .grads = grads, .arena = arena, .rng = &rng};
    m->forward_train(&s);
    assert_true(isfinite(s.loss));
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
