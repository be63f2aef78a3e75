/*
 * test_loop_progress.c: the Keras-style progress line
 * (runtime/src/loop/progress.c), compared whole with what Keras prints.
 */
#include "testutil.h"

#include "loop/progress.h"

#include <string.h>

static void test_final_line_is_keras_format(void **state)
{
    (void)state;
    seqrt_progress_line l = {.current = 250, .target = 250, .final = 1, .elapsed = 1.2,
                             .per_step = 0.0021, .loss = 0.08494, .accuracy = 0.97381,
                             .has_val = 1, .val_loss = 0.08456, .val_accuracy = 0.9732};
    char buf[512];
    size_t n = seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "250/250 [==============================] - 1s 2ms/step - "
                             "loss: 0.0849 - accuracy: 0.9738 - val_loss: 0.0846 - "
                             "val_accuracy: 0.9732");
    assert_int_equal(n, strlen(buf));
}

static void test_live_line_has_arrow_and_eta(void **state)
{
    (void)state;
    seqrt_progress_line l = {.current = 125, .target = 250, .eta = 75.4,
                             .loss = 0.5, .accuracy = 0.25};
    char buf[512];
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "125/250 [==============>...............] - ETA: 1:15 - "
                             "loss: 0.5000 - accuracy: 0.2500");

    l.current = 3;
    l.eta = 4.9;
    seqrt_progress_format(buf, sizeof buf, &l);
    assert_string_equal(buf, "  3/250 [..............................] - ETA: 4s - "
                             "loss: 0.5000 - accuracy: 0.2500");
}

static void test_time_units_and_small_metrics(void **state)
{
    (void)state;
    seqrt_progress_line l = {.current = 1875, .target = 1875, .final = 1, .elapsed = 0.9,
                             .per_step = 0.00048, .loss = 0.0005, .accuracy = 1.0,
                             .has_val = 1, .val_loss = 2.5, .val_accuracy = 0.5};
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
    seqrt_progress_line l = {.current = 1, .target = 2, .loss = 1, .accuracy = 1};
    char buf[16];
    memset(buf, 'x', sizeof buf);
    size_t n = seqrt_progress_format(buf, 10, &l);
    assert_int_equal(n, 9);
    assert_int_equal(buf[9], '\0');
    assert_int_equal(buf[10], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_line_is_keras_format),
        cmocka_unit_test(test_live_line_has_arrow_and_eta),
        cmocka_unit_test(test_time_units_and_small_metrics),
        cmocka_unit_test(test_format_never_overflows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
