/*
 * test_loop_progress.c: the Keras-style progress line
 * (runtime/src/loop/progress.c), compared whole with what Keras prints,
 * for a model with no metrics, one (accuracy) and two.
 */
#include "testutil.h"

#include "loop/progress.h"

#include <string.h>

static const char *const acc_name[] = {"accuracy"};

static void test_final_line_is_keras_format(void **state)
{
    (void)state;
    const double acc = 0.97381, val_acc = 0.9732;
    seqrt_progress_line l = {.current = 250, .target = 250, .final = 1, .elapsed = 1.2,
                             .per_step = 0.0021, .loss = 0.08494, .metric_count = 1,
                             .names = acc_name, .values = &acc,
                             .has_val = 1, .val_loss = 0.08456, .val_values = &val_acc};
    char buf[512];
    size_t n = seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "250/250 [==============================] - 1s 2ms/step - "
                             "loss: 0.0849 - accuracy: 0.9738 - val_loss: 0.0846 - "
                             "val_accuracy: 0.9732");
    assert_int_equal(n, strlen(buf));
}

/* Keras prints the metrics of the `metrics` list in its order, nothing
 * more: no metric, only the loss; without validation, no val_ part. */
static void test_metrics_are_the_models(void **state)
{
    (void)state;
    seqrt_progress_line l = {.current = 10, .target = 10, .final = 1, .elapsed = 0.2,
                             .per_step = 0.02, .loss = 12.5, .has_val = 1, .val_loss = 13.25};
    char buf[512];
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "10/10 [==============================] - 0s 20ms/step - "
                             "loss: 12.5000 - val_loss: 13.2500");

    static const char *const two[] = {"mae", "rmse"};
    const double v[] = {2.75, 3.5}, vv[] = {2.875, 0.0002};
    l.metric_count = 2;
    l.names = two;
    l.values = v;
    l.val_values = vv;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "10/10 [==============================] - 0s 20ms/step - "
                             "loss: 12.5000 - mae: 2.7500 - rmse: 3.5000 - val_loss: 13.2500 - "
                             "val_mae: 2.8750 - val_rmse: 2.0000e-04");
    l.has_val = 0;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "10/10 [==============================] - 0s 20ms/step - "
                             "loss: 12.5000 - mae: 2.7500 - rmse: 3.5000");
}

static void test_live_line_has_arrow_and_eta(void **state)
{
    (void)state;
    const double acc = 0.25;
    seqrt_progress_line l = {.current = 125, .target = 250, .eta = 75.4, .loss = 0.5,
                             .metric_count = 1, .names = acc_name, .values = &acc};
    char buf[512];
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "125/250 [==============>...............] - ETA: 1:15 - "
                             "loss: 0.5000 - accuracy: 0.2500");

    l.current = 3;
    l.eta = 4.9;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "  3/250 [..............................] - ETA: 4s - "
                             "loss: 0.5000 - accuracy: 0.2500");
    /* a live line never shows validation, even when told it exists */
    l.has_val = 1;
    l.val_values = &acc;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_null(strstr(buf, "val_"));
}

static void test_time_units_and_small_metrics(void **state)
{
    (void)state;
    const double acc = 1.0, val_acc = 0.5;
    seqrt_progress_line l = {.current = 1875, .target = 1875, .final = 1, .elapsed = 0.9,
                             .per_step = 0.00048, .loss = 0.0005, .metric_count = 1,
                             .names = acc_name, .values = &acc,
                             .has_val = 1, .val_loss = 2.5, .val_values = &val_acc};
    char buf[512];
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "1875/1875 [==============================] - 1s 480us/step - "
                             "loss: 5.0000e-04 - accuracy: 1.0000 - val_loss: 2.5000 - "
                             "val_accuracy: 0.5000");
    l.per_step = 2.0;
    l.elapsed = 3750;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_non_null(strstr(buf, "] - 3750s 2s/step - "));
}

static void test_format_never_overflows(void **state)
{
    (void)state;
    const double acc = 1;
    seqrt_progress_line l = {.current = 1, .target = 2, .loss = 1, .metric_count = 1,
                             .names = acc_name, .values = &acc};
    char buf[16];
    memset(buf, 'x', sizeof buf);
    size_t n = seqrt_progress_format(buf, 10, &l);
    assert_int_equal(n, 9);
    assert_int_equal(buf[9], '\0');
    assert_int_equal(buf[10], 'x');
}

/* Off a terminal nothing is drawn live, so the caller never computes
 * running metrics for it; quiet draws nothing at all. */
static void test_due_only_when_drawn(void **state)
{
    (void)state;
    seqrt_progress p;
    seqrt_progress_begin(&p, 0, 1, 1, 1, 5, acc_name, 1);
    assert_false(seqrt_progress_due(&p, 1));
    assert_false(seqrt_progress_due(&p, 5));
    p.live = 1;
    p.quiet = 0;
    assert_true(seqrt_progress_due(&p, 1)); /* the first step is drawn */
    p.last_draw = seqrt_clock_seconds() + 60;
    assert_false(seqrt_progress_due(&p, 2));
    assert_true(seqrt_progress_due(&p, 5)); /* the last step always */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_line_is_keras_format),
        cmocka_unit_test(test_metrics_are_the_models),
        cmocka_unit_test(test_live_line_has_arrow_and_eta),
        cmocka_unit_test(test_time_units_and_small_metrics),
        cmocka_unit_test(test_format_never_overflows),
        cmocka_unit_test(test_due_only_when_drawn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
