/* test_metrics.c: the metrics module (runtime/src/loop/metrics.h): each
 * metric on small fixed inputs (values by hand, NumPy and sklearn, the
 * script quoted above each), AUC with ties and micro-averaged over
 * columns, batches accumulated equal to one batch, and the NaN cases. */
#include "kernel_test.h"

#include "loop/metrics.h"
#include "seqrt.h"

#include <string.h>

/* a model that has what the metrics read: outputs and the metrics line */
static seqrt_model model_of(int outputs, const seqrt_metric *metrics, int count)
{
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.outputs = outputs;
    m.metrics = metrics;
    m.metric_count = count;
    return m;
}

static void init_ok(seqrt_metrics *a, const seqrt_model *m, size_t rows)
{
    seqrt_error err = {{0}};
    if (seqrt_metrics_init(a, m, rows, &err) != 0)
        fail_msg("seqrt_metrics_init: %s", err.msg);
    seqrt_metrics_reset(a);
}

static void accuracy_labels_and_rows(void **state)
{
    const seqrt_metric mt[] = {{SEQRT_METRIC_ACCURACY, "accuracy", 0}};
    seqrt_model m = model_of(3, mt, 1);
    seqrt_metrics a;
    init_ok(&a, &m, 4);
    /* arg-max (first maximum): 1, 0 (tie of 3 and 3), 2, 0 */
    const float out[12] = {0.1f, 0.7f, 0.2f, 3, 3, 1, -1, -2, -0.5f, 5, 5, 5};
    const int32_t labels[4] = {1, 1, 2, 2};
    seqrt_metrics_add(&a, 4, out, labels, NULL);
    assert_close(seqrt_metrics_value(&a, 0), 0.5, 0.0);
    /* target rows: their arg-max, 1, 0, 0 (soft), 2 */
    const float t[12] = {0, 1, 0, 0.5f, 0.3f, 0.2f, 0.4f, 0.35f, 0.25f, 0, 0, 1};
    seqrt_metrics_reset(&a);
    seqrt_metrics_add(&a, 4, out, NULL, t);
    assert_close(seqrt_metrics_value(&a, 0), 0.5, 0.0);
    seqrt_metrics_free(&a);
}

static void binary_accuracy_numpy(void **state)
{
    /* np.mean((P > 0.5) == (T > 0.5)) = 6/9: a probability of exactly 0.5
     * predicts 0, as Keras's threshold (y_pred > 0.5) */
    const seqrt_metric mt[] = {{SEQRT_METRIC_BINARY_ACCURACY, "accuracy", 0}};
    seqrt_model m = model_of(3, mt, 1);
    seqrt_metrics a;
    init_ok(&a, &m, 3);
    const float p[9] = {0.7f, 0.2f, 0.5f, 0.51f, 0.49f, 0.9f, 0.1f, 0.6f, 0.3f};
    const float t[9] = {1, 0, 1, 0, 0, 1, 0, 1, 1};
    seqrt_metrics_add(&a, 3, p, NULL, t);
    assert_close(seqrt_metrics_value(&a, 0), 6.0 / 9.0, 1e-15);
    /* one output column and class numbers: the class is the target */
    const seqrt_metric mt1[] = {{SEQRT_METRIC_BINARY_ACCURACY, "accuracy", 0}};
    seqrt_model m1 = model_of(1, mt1, 1);
    seqrt_metrics b;
    init_ok(&b, &m1, 4);
    const float p1[4] = {0.9f, 0.2f, 0.6f, 0.4f};
    const int32_t y1[4] = {1, 0, 0, 1};
    seqrt_metrics_add(&b, 4, p1, y1, NULL);
    assert_close(seqrt_metrics_value(&b, 0), 0.5, 0.0);
    seqrt_metrics_free(&a);
    seqrt_metrics_free(&b);
}

/* in_top_k's rule: in when fewer than k outputs are strictly greater, so
 * every class tied at the k-th place is in */
static void top_k_ties(void **state)
{
    const seqrt_metric mt[] = {{SEQRT_METRIC_TOP_K, "top_2", 2},
                               {SEQRT_METRIC_TOP_K, "top_1", 1}};
    seqrt_model m = model_of(4, mt, 2);
    seqrt_metrics a;
    init_ok(&a, &m, 6);
    const float out[24] = {
        0.5f, 0.2f, 0.2f, 0.1f, /* class 2: one above (0.5), tie at 2nd: top-2 in, top-1 out */
        0.5f, 0.2f, 0.2f, 0.1f, /* class 3: three above: out, out */
        0.3f, 0.3f, 0.3f, 0.1f, /* class 2: none above: in, in (a tie at the 1st) */
        0.1f, 0.2f, 0.3f, 0.4f, /* class 3: in, in */
        0.1f, 0.2f, 0.3f, 0.4f, /* class 1: two above: out, out */
        0.4f, 0.3f, 0.2f, NAN,  /* class 3, NaN: out, out */
    };
    const int32_t labels[6] = {2, 3, 2, 3, 1, 3};
    seqrt_metrics_add(&a, 6, out, labels, NULL);
    assert_close(seqrt_metrics_value(&a, 0), 3.0 / 6.0, 1e-15);
    assert_close(seqrt_metrics_value(&a, 1), 2.0 / 6.0, 1e-15);
    seqrt_metrics_free(&a);
}

static void regression_two_batches(void **state)
{
    /* p = [[1.5,-2],[0.25,3]] then [[0.5,-0.75]], t = [[1,0.5],[0.25,-1]]
     * then [[0.75,2]]; NumPy on the three rows together:
     * mean(|p-t|) = 1.6666666666666667, mean((p-t)^2) = 5.020833333333333,
     * sqrt of that = 2.2407216099581255 (the row-weighted mean of the two
     * batches' rmse would be 2.2319929697430774) */
    const seqrt_metric mt[] = {{SEQRT_METRIC_MAE, "mae", 0},
                               {SEQRT_METRIC_MSE, "mse", 0},
                               {SEQRT_METRIC_RMSE, "rmse", 0}};
    seqrt_model m = model_of(2, mt, 3);
    seqrt_metrics a;
    init_ok(&a, &m, 3);
    const float p1[4] = {1.5f, -2.0f, 0.25f, 3.0f}, t1[4] = {1.0f, 0.5f, 0.25f, -1.0f};
    const float p2[2] = {0.5f, -0.75f}, t2[2] = {0.75f, 2.0f};
    seqrt_metrics_add(&a, 2, p1, NULL, t1);
    seqrt_metrics_add(&a, 1, p2, NULL, t2);
    assert_close(seqrt_metrics_value(&a, 0), 1.6666666666666667, 1e-15);
    assert_close(seqrt_metrics_value(&a, 1), 5.020833333333333, 1e-15);
    assert_close(seqrt_metrics_value(&a, 2), 2.2407216099581255, 1e-15);
    seqrt_metrics_free(&a);
}

static void auc_sklearn(void **state)
{
    const seqrt_metric mt[] = {{SEQRT_METRIC_AUC, "auc", 0}};
    /* sklearn.metrics.roc_auc_score(y, s) = 0.68: ties within and across
     * the classes (0.4 three times, 0.35 and 0.1 twice) */
    seqrt_model m1 = model_of(1, mt, 1);
    seqrt_metrics a;
    init_ok(&a, &m1, 20);
    const float s[10] = {0.1f, 0.4f, 0.35f, 0.8f, 0.4f, 0.4f, 0.9f, 0.1f, 0.65f, 0.35f};
    const int32_t y[10] = {0, 0, 1, 1, 1, 0, 1, 0, 0, 1};
    seqrt_metrics_add(&a, 10, s, y, NULL);
    assert_close(seqrt_metrics_value(&a, 0), 0.68, 1e-15);
    /* rng = np.random.default_rng(3); s = np.round(rng.random(20), 1);
     * y = (rng.random(20) < 0.4): roc_auc_score(y, s) = 0.5808080808080809,
     * in three batches, as target rows */
    const float s20[20] = {0.1f, 0.2f, 0.8f, 0.6f, 0.1f, 0.4f, 0.5f, 0.2f, 0.7f, 0.1f,
                           0.4f, 0.5f, 0.4f, 0.6f, 0.7f, 1.0f, 0.3f, 0.6f, 0.7f, 0.3f};
    const float y20[20] = {1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1};
    seqrt_metrics_reset(&a);
    seqrt_metrics_add(&a, 7, s20, NULL, y20);
    seqrt_metrics_add(&a, 6, s20 + 7, NULL, y20 + 7);
    seqrt_metrics_add(&a, 7, s20 + 13, NULL, y20 + 13);
    assert_close(seqrt_metrics_value(&a, 0), 0.5808080808080809, 1e-15);
    /* asking twice changes nothing (the sort happens in place) */
    assert_close(seqrt_metrics_value(&a, 0), 0.5808080808080809, 1e-15);
    seqrt_metrics_free(&a);

    /* two columns, micro-averaged: roc_auc_score(T.ravel(), P.ravel()) = 0.8 */
    seqrt_model m2 = model_of(2, mt, 1);
    init_ok(&a, &m2, 5);
    const float p[10] = {0.2f, 0.7f, 0.6f, 0.6f, 0.9f, 0.1f, 0.6f, 0.3f, 0.05f, 0.7f};
    const float t[10] = {0, 1, 1, 0, 1, 1, 0, 0, 0, 1};
    seqrt_metrics_add(&a, 5, p, NULL, t);
    assert_close(seqrt_metrics_value(&a, 0), 0.8, 1e-15);
    seqrt_metrics_free(&a);
}

static void nan_cases(void **state)
{
    const seqrt_metric mt[] = {{SEQRT_METRIC_AUC, "auc", 0}, {SEQRT_METRIC_MAE, "mae", 0}};
    seqrt_model m = model_of(1, mt, 2);
    seqrt_metrics a;
    init_ok(&a, &m, 4);
    /* nothing added */
    assert_true(isnan(seqrt_metrics_value(&a, 0)));
    assert_true(isnan(seqrt_metrics_value(&a, 1)));
    /* one class only: AUC undefined (sklearn raises), mae is not */
    const float s[3] = {0.2f, 0.9f, 0.4f}, ones[3] = {1, 1, 1};
    seqrt_metrics_add(&a, 3, s, NULL, ones);
    assert_true(isnan(seqrt_metrics_value(&a, 0)));
    assert_close(seqrt_metrics_value(&a, 1), (0.8 + 0.1 + 0.6) / 3, 1e-7);
    /* a second class makes it defined: 0.2 < 0.3 < 0.4 < 0.9, one
     * negative at 0.3 beats one positive of three */
    const float s2[1] = {0.3f}, zero[1] = {0};
    seqrt_metrics_add(&a, 1, s2, NULL, zero);
    assert_close(seqrt_metrics_value(&a, 0), 2.0 / 3.0, 1e-15);
    /* beyond the rows init made room for: NaN, never a write past the end */
    seqrt_metrics_add(&a, 1, s2, NULL, ones);
    assert_true(isnan(seqrt_metrics_value(&a, 0)));
    /* reset forgets it; a NaN score makes AUC NaN */
    seqrt_metrics_reset(&a);
    const float sn[2] = {NAN, 0.5f}, t01[2] = {0, 1};
    seqrt_metrics_add(&a, 2, sn, NULL, t01);
    assert_true(isnan(seqrt_metrics_value(&a, 0)));
    seqrt_metrics_reset(&a);
    seqrt_metrics_add(&a, 2, s, NULL, t01);
    assert_close(seqrt_metrics_value(&a, 0), 1.0, 0.0); /* negative 0.2 < positive 0.9 */
    seqrt_metrics_free(&a);
}

/* Every metric of a random set, added in batches of 7, equals the same
 * set added at once (sums in double: the same to ~1e-15). */
static void batches_equal_one_batch(void **state)
{
    enum { N = 53, W = 3 };
    const seqrt_metric mt[] = {
        {SEQRT_METRIC_ACCURACY, "accuracy", 0}, {SEQRT_METRIC_BINARY_ACCURACY, "binary_accuracy", 0},
        {SEQRT_METRIC_TOP_K, "top_2", 2},       {SEQRT_METRIC_MAE, "mae", 0},
        {SEQRT_METRIC_MSE, "mse", 0},           {SEQRT_METRIC_RMSE, "rmse", 0},
        {SEQRT_METRIC_AUC, "auc", 0},
    };
    const int count = (int)(sizeof mt / sizeof mt[0]);
    seqrt_model m = model_of(W, mt, count);
    trand r = {9};
    /* scores on a coarse grid, so AUC meets ties */
    float out[N * W], t[N * W];
    for (int i = 0; i < N * W; i++) {
        out[i] = (float)(int)(trand_unit(&r) * 10) / 10.0f;
        t[i] = trand_unit(&r) < 0.5 ? 0.0f : 1.0f;
    }
    seqrt_metrics one, many;
    init_ok(&one, &m, N);
    init_ok(&many, &m, N);
    seqrt_metrics_add(&one, N, out, NULL, t);
    for (int i = 0; i < N; i += 7)
        seqrt_metrics_add(&many, N - i < 7 ? N - i : 7, out + i * W, NULL, t + i * W);
    /* AUC by its definition, every (positive, negative) pair: 1 when the
     * positive scores higher, 0.5 on a tie */
    double wins = 0.0, pairs = 0.0;
    for (int i = 0; i < N * W; i++)
        for (int j = 0; j < N * W; j++)
            if (t[i] == 1.0f && t[j] == 0.0f) {
                wins += out[i] > out[j] ? 1.0 : out[i] == out[j] ? 0.5 : 0.0;
                pairs += 1.0;
            }
    assert_close(seqrt_metrics_value(&one, count - 1), wins / pairs, 1e-15);
    for (int e = 0; e < count; e++) {
        double v = seqrt_metrics_value(&one, e);
        assert_true(isfinite(v));
        assert_close(seqrt_metrics_value(&many, e), v, 1e-14);
    }
    seqrt_metrics_free(&one);
    seqrt_metrics_free(&many);
}

static void init_refuses_too_many_metrics(void **state)
{
    seqrt_metric mt[SEQRT_MAX_METRICS + 1];
    for (int i = 0; i <= SEQRT_MAX_METRICS; i++)
        mt[i] = (seqrt_metric){SEQRT_METRIC_MAE, "mae", 0};
    seqrt_model m = model_of(1, mt, SEQRT_MAX_METRICS + 1);
    seqrt_metrics a;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_metrics_init(&a, &m, 10, &err), -1);
    assert_string_equal(err.msg, "metrics: 9 metrics asked for, at most 8");
    seqrt_metrics_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accuracy_labels_and_rows),
        cmocka_unit_test(binary_accuracy_numpy),
        cmocka_unit_test(top_k_ties),
        cmocka_unit_test(regression_two_batches),
        cmocka_unit_test(auc_sklearn),
        cmocka_unit_test(nan_cases),
        cmocka_unit_test(batches_equal_one_batch),
        cmocka_unit_test(init_refuses_too_many_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
