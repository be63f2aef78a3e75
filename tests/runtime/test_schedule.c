/*
 * test_schedule.c: the learning rate of each epoch (schedule.c), Keras's
 * ReduceLROnPlateau and the early-stopping comparison. The expected rates
 * were computed independently in Python (float64) from the formulas of
 * docs/language.md: base 0.1, 10 epochs; step every=3 factor=0.5;
 * exponential factor=0.5; cosine min_lr=0.001 (with and without warmup=2);
 * step every=3 factor=0.5 warmup=3. The plateau and early-stopping
 * sequences are worked by hand from Keras's callbacks (comments below).
 */
#include "testutil.h"

#include "seqrt.h"

#include <math.h>

enum { EPOCHS = 10 };

static void check_rates(const seqrt_schedule *s, const double *want)
{
    for (int e = 1; e <= EPOCHS; e++) {
        float got = seqrt_schedule_lr(s, 0.1f, e, EPOCHS, 0.0f);
        /* each is one rounding of the double to float */
        assert_true(got == (float)want[e - 1] || fabs(got - want[e - 1]) < 1e-8);
    }
}

static void constant_rates(void **state)
{
    (void)state;
    seqrt_schedule s = {.kind = SEQRT_SCHED_CONSTANT};
    for (int e = 1; e <= EPOCHS; e++)
        assert_true(seqrt_schedule_lr(&s, 0.1f, e, EPOCHS, 0.0f) == 0.1f);
}

static void step_rates(void **state)
{
    (void)state;
    static const double want[] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025,
                                  0.0125};
    seqrt_schedule s = {.kind = SEQRT_SCHED_STEP, .every = 3, .factor = 0.5};
    check_rates(&s, want);
}

static void exponential_rates(void **state)
{
    (void)state;
    static const double want[] = {0.1,      0.05,      0.025,        0.0125,        0.00625,
                                  0.003125, 0.0015625, 0.00078125, 0.000390625, 0.0001953125};
    seqrt_schedule s = {.kind = SEQRT_SCHED_EXPONENTIAL, .factor = 0.5};
    check_rates(&s, want);
}

static void cosine_rates(void **state)
{
    (void)state;
    static const double want[] = {0.1,
                                  0.09757729755661011,
                                  0.0905463412215599,
                                  0.07959536998847742,
                                  0.0657963412215599,
                                  0.0505,
                                  0.03520365877844011,
                                  0.021404630011522586,
                                  0.010453658778440109,
                                  0.0034227024433899004};
    seqrt_schedule s = {.kind = SEQRT_SCHED_COSINE, .min_lr = 0.001};
    check_rates(&s, want);
}

static void cosine_after_warmup(void **state)
{
    (void)state;
    static const double want[] = {0.05,
                                  0.1,
                                  0.1,
                                  0.0962320368593087,
                                  0.0855017856687341,
                                  0.06944282990207196,
                                  0.0505,
                                  0.03155717009792806,
                                  0.0154982143312659,
                                  0.004767963140691307};
    seqrt_schedule s = {.kind = SEQRT_SCHED_COSINE, .min_lr = 0.001, .warmup = 2};
    check_rates(&s, want);
}

static void step_after_warmup(void **state)
{
    (void)state;
    static const double want[] = {0.03333333333333333, 0.06666666666666667, 0.1, 0.1, 0.1, 0.1,
                                  0.05, 0.05, 0.05, 0.025};
    seqrt_schedule s = {.kind = SEQRT_SCHED_STEP, .every = 3, .factor = 0.5, .warmup = 3};
    check_rates(&s, want);
}

/* ReduceLROnPlateau(monitor=val_loss, patience=2, factor=0.5,
 * min_lr=0.02, min_delta=0.01) on the values below, worked by hand from
 * Keras's on_epoch_end:
 *   e1 1.0  best 1.0            wait 0  lr 0.1
 *   e2 0.995 (not by > 0.01)    wait 1
 *   e3 0.99                     wait 2 -> lr 0.05, wait 0
 *   e4 0.5  best                wait 0
 *   e5 0.6                      wait 1
 *   e6 0.6                      wait 2 -> lr 0.025
 *   e7 0.6                      wait 1
 *   e8 0.6                      wait 2 -> max(0.0125, 0.02) = 0.02
 *   e9 0.6                      wait 1
 *   e10 0.6                     wait 2, but lr 0.02 is not > min_lr: it
 *                               stays, and so does wait (Keras resets it
 *                               only on a reduction) */
static void plateau_decisions(void **state)
{
    (void)state;
    seqrt_schedule s = {.kind = SEQRT_SCHED_PLATEAU, .factor = 0.5, .patience = 2,
                        .min_lr = 0.02, .min_delta = 0.01,
                        .monitor = {.metric = -1, .val = 1, .maximize = 0}};
    seqrt_plateau_state st;
    seqrt_plateau_start(&s, &st, 0.1f);
    static const double values[] = {1.0, 0.995, 0.99, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6};
    static const int reduced[] = {0, 0, 1, 0, 0, 1, 0, 1, 0, 0};
    static const float lr_after[] = {0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f, 0.025f,
                                     0.02f, 0.02f, 0.02f};
    for (int e = 1; e <= EPOCHS; e++) {
        assert_true(seqrt_schedule_lr(&s, 0.1f, e, EPOCHS, st.lr) == st.lr);
        assert_int_equal(seqrt_plateau_update(&s, &st, e, values[e - 1]), reduced[e - 1]);
        assert_true(fabsf(st.lr - lr_after[e - 1]) < 1e-9f);
    }
    assert_int_equal(st.wait, 2);
    assert_true(st.best == 0.5);
}

/* The warmup's epochs are not watched: a plateau with warmup=2 and
 * patience 1 does not reduce during them, and the rate ramps up. */
static void plateau_waits_for_the_warmup(void **state)
{
    (void)state;
    seqrt_schedule s = {.kind = SEQRT_SCHED_PLATEAU, .factor = 0.5, .patience = 1,
                        .warmup = 2, .monitor = {.metric = -1, .val = 1}};
    seqrt_plateau_state st;
    seqrt_plateau_start(&s, &st, 0.1f);
    assert_true(seqrt_schedule_lr(&s, 0.1f, 1, EPOCHS, st.lr) == 0.05f);
    assert_int_equal(seqrt_plateau_update(&s, &st, 1, 1.0), 0);
    assert_int_equal(seqrt_plateau_update(&s, &st, 2, 2.0), 0);
    assert_int_equal(st.wait, 0);
    assert_int_equal(seqrt_plateau_update(&s, &st, 3, 1.0), 0); /* the first value watched */
    assert_int_equal(seqrt_plateau_update(&s, &st, 4, 1.0), 1);
    assert_true(st.lr == 0.05f);
}

/* Keras mode=auto: accuracy up, loss down; min_delta strict; NaN never. */
static void monitor_direction(void **state)
{
    (void)state;
    seqrt_monitor loss = {.metric = -1, .val = 1, .maximize = 0};
    seqrt_monitor acc = {.metric = 0, .val = 1, .maximize = 1};
    assert_true(isinf(seqrt_monitor_worst(&loss)) && seqrt_monitor_worst(&loss) > 0);
    assert_true(isinf(seqrt_monitor_worst(&acc)) && seqrt_monitor_worst(&acc) < 0);
    assert_true(seqrt_monitor_improves(&loss, 0.4, 0.5, 0.0));
    assert_false(seqrt_monitor_improves(&loss, 0.5, 0.5, 0.0));
    assert_false(seqrt_monitor_improves(&loss, 0.45, 0.5, 0.05)); /* not by more than */
    assert_true(seqrt_monitor_improves(&loss, 0.44, 0.5, 0.05));
    assert_true(seqrt_monitor_improves(&acc, 0.91, 0.9, 0.0));
    assert_false(seqrt_monitor_improves(&acc, 0.89, 0.9, 0.0));
    assert_false(seqrt_monitor_improves(&loss, NAN, INFINITY, 0.0));
    assert_true(seqrt_monitor_improves(&loss, 3.0, seqrt_monitor_worst(&loss), 0.0));
}

/* EarlyStopping(monitor=val_loss, patience=2, min_delta=0.01), worked by
 * hand from Keras's on_epoch_end:
 *   e1 0.50  best (vs inf)       wait 0
 *   e2 0.45  best                wait 0
 *   e3 0.445 not by > 0.01       wait 1
 *   e4 0.30  best                wait 0
 *   e5 0.31                      wait 1
 *   e6 0.295 not by > 0.01       wait 2 >= patience: stop at epoch 6,
 *                                best epoch 4 (0.30) */
static void early_stopping_decisions(void **state)
{
    (void)state;
    seqrt_early_stopping es = {.enabled = 1, .monitor = {.metric = -1, .val = 1},
                               .patience = 2, .min_delta = 0.01};
    seqrt_best_state st = {.best = seqrt_monitor_worst(&es.monitor)};
    static const double values[] = {0.50, 0.45, 0.445, 0.30, 0.31, 0.295};
    static const int best[] = {1, 1, 0, 1, 0, 0};
    static const uint32_t waits[] = {0, 0, 1, 0, 1, 2};
    for (int e = 1; e <= 6; e++) {
        assert_int_equal(seqrt_best_update(&es.monitor, es.min_delta, &es, &st, e,
                                           values[e - 1]),
                         best[e - 1]);
        assert_int_equal(st.wait, waits[e - 1]);
        assert_int_equal(st.stopped, e == 6 ? 6 : 0);
    }
    assert_int_equal(st.best_epoch, 4);
    assert_true(st.best == 0.30);
}

/* Accuracy goes up; patience 0 stops at the first epoch without
 * improvement, but never after the first epoch (Keras's epoch > 0), even
 * when that epoch's value is NaN; without early stopping (save_best
 * alone) the best epoch is tracked and nothing stops. */
static void early_stopping_edges(void **state)
{
    (void)state;
    seqrt_early_stopping es = {.enabled = 1, .monitor = {.metric = 0, .val = 1, .maximize = 1},
                               .patience = 0};
    seqrt_best_state st = {.best = seqrt_monitor_worst(&es.monitor)};
    assert_int_equal(seqrt_best_update(&es.monitor, 0, &es, &st, 1, NAN), 0);
    assert_int_equal(st.stopped, 0);
    assert_int_equal(seqrt_best_update(&es.monitor, 0, &es, &st, 2, 0.8), 1);
    assert_int_equal(seqrt_best_update(&es.monitor, 0, &es, &st, 3, 0.9), 1);
    assert_int_equal(seqrt_best_update(&es.monitor, 0, &es, &st, 4, 0.9), 0);
    assert_int_equal(st.stopped, 4);
    assert_int_equal(st.best_epoch, 3);

    seqrt_early_stopping off = {.enabled = 0};
    seqrt_best_state b = {.best = seqrt_monitor_worst(&es.monitor)};
    for (int e = 1; e <= 5; e++)
        seqrt_best_update(&es.monitor, 0, &off, &b, e, e == 2 ? 0.95 : 0.5);
    assert_int_equal(b.best_epoch, 2);
    assert_int_equal(b.wait, 3);
    assert_int_equal(b.stopped, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constant_rates),      cmocka_unit_test(step_rates),
        cmocka_unit_test(exponential_rates),   cmocka_unit_test(cosine_rates),
        cmocka_unit_test(cosine_after_warmup), cmocka_unit_test(step_after_warmup),
        cmocka_unit_test(plateau_decisions),   cmocka_unit_test(plateau_waits_for_the_warmup),
        cmocka_unit_test(monitor_direction),   cmocka_unit_test(early_stopping_decisions),
        cmocka_unit_test(early_stopping_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
