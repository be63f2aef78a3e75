/* test_activation.c: relu, leaky_relu, sigmoid, tanh, softmax and dropout:
 * forward on hand-computed values, backward against double-precision
 * finite differences, in-place backward, dropout's mask statistics and
 * seeding. */
#include "kernel_test.h"

#include "seqrt.h"

static const float hx[6] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f, 100.0f};

static void relu_forward_hand(void **state)
{
    const float want[6] = {0, 0, 0, 0.5f, 3, 100};
    float y[6];
    seqrt_relu_forward(6, hx, y);
    for (int i = 0; i < 6; i++)
        assert_close(y[i], want[i], 0.0);
}

static void leaky_relu_forward_hand(void **state)
{
    const float want[6] = {-0.6f, -0.15f, 0, 0.5f, 3, 100};
    float y[6];
    seqrt_leaky_relu_forward(6, 0.3f, hx, y);
    for (int i = 0; i < 6; i++)
        assert_close(y[i], want[i], 1e-7);
}

static void sigmoid_forward_hand(void **state)
{
    /* 1/(1+e^2) = 0.11920292202211755, 1/(1+e^-0.5) = 0.6224593312018546;
     * far tails are finite and in [0, 1] */
    const float x[6] = {-2.0f, 0.0f, 0.5f, 100.0f, -100.0f, -1000.0f};
    float y[6];
    seqrt_sigmoid_forward(6, x, y);
    assert_close(y[0], 0.11920292202211755, 1e-7);
    assert_close(y[1], 0.5, 0.0);
    assert_close(y[2], 0.6224593312018546, 1e-7);
    assert_close(y[3], 1.0, 0.0);
    assert_close(y[4], 3.720075976020836e-44, 1e-45);
    assert_close(y[5], 0.0, 0.0);
}

static void tanh_forward_hand(void **state)
{
    /* tanh(1) = 0.7615941559557649, tanh(-0.5) = -0.46211715726000974 */
    const float x[4] = {0.0f, 1.0f, -0.5f, 20.0f};
    float y[4];
    seqrt_tanh_forward(4, x, y);
    assert_close(y[0], 0.0, 0.0);
    assert_close(y[1], 0.7615941559557649, 1e-7);
    assert_close(y[2], -0.46211715726000974, 1e-7);
    assert_close(y[3], 1.0, 0.0);
}

static void softmax_forward_hand(void **state)
{
    /* softmax(1,2,3) = (0.09003057317038046, 0.24472847105479767,
     * 0.6652409557748219); a shift by 1000 must give the same (no
     * overflow), and a constant row gives 1/3 each */
    const float x[9] = {1, 2, 3, 1001, 1002, 1003, -5, -5, -5};
    float y[9];
    seqrt_softmax_forward(3, 3, x, y);
    const double want[3] = {0.09003057317038046, 0.24472847105479767, 0.6652409557748219};
    for (int j = 0; j < 3; j++) {
        assert_close(y[j], want[j], 1e-7);
        assert_close(y[3 + j], want[j], 1e-7);
        assert_close(y[6 + j], 1.0 / 3.0, 1e-7);
    }
}

/* dx may alias dy for every activation: compare in place to out of place */
static void activation_backward_in_place(void **state)
{
    enum { B = 3, C = 5, N = B * C };
    trand r = {31};
    float *x = frand(&r, N, -3, 3), *dy = frand(&r, N, -1, 1);
    float y[N], out[N], inplace[N];
    for (int kind = 0; kind < 5; kind++) {
        switch (kind) {
        case 0: seqrt_relu_forward(N, x, y); break;
        case 1: seqrt_leaky_relu_forward(N, 0.2f, x, y); break;
        case 2: seqrt_sigmoid_forward(N, x, y); break;
        case 3: seqrt_tanh_forward(N, x, y); break;
        default: seqrt_softmax_forward(B, C, x, y); break;
        }
        for (int i = 0; i < N; i++)
            inplace[i] = dy[i];
        switch (kind) {
        case 0:
            seqrt_relu_backward(N, x, y, dy, out);
            seqrt_relu_backward(N, x, y, inplace, inplace);
            break;
        case 1:
            seqrt_leaky_relu_backward(N, 0.2f, x, y, dy, out);
            seqrt_leaky_relu_backward(N, 0.2f, x, y, inplace, inplace);
            break;
        case 2:
            seqrt_sigmoid_backward(N, x, y, dy, out);
            seqrt_sigmoid_backward(N, x, y, inplace, inplace);
            break;
        case 3:
            seqrt_tanh_backward(N, x, y, dy, out);
            seqrt_tanh_backward(N, x, y, inplace, inplace);
            break;
        default:
            seqrt_softmax_backward(B, C, x, y, dy, out);
            seqrt_softmax_backward(B, C, x, y, inplace, inplace);
            break;
        }
        for (int i = 0; i < N; i++)
            assert_close(inplace[i], out[i], 0.0);
    }
    free(x);
    free(dy);
}

/* ------------------------------------------------------- gradient check */

enum act_kind { ACT_RELU, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX, ACT_DROPOUT };

typedef struct act_ctx {
    enum act_kind kind;
    int rows, cols;
    double alpha;
    double *x, *r;
    const float *mask; /* dropout: the fixed mask */
} act_ctx;

/* L = sum(r * f(x)), f in double */
static double act_ref(void *p)
{
    const act_ctx *c = p;
    size_t n = (size_t)c->rows * c->cols;
    double total = 0.0;
    if (c->kind == ACT_SOFTMAX) {
        for (int i = 0; i < c->rows; i++) {
            const double *xr = c->x + (size_t)i * c->cols;
            double max = xr[0], sum = 0.0;
            for (int j = 1; j < c->cols; j++)
                max = xr[j] > max ? xr[j] : max;
            for (int j = 0; j < c->cols; j++)
                sum += exp(xr[j] - max);
            for (int j = 0; j < c->cols; j++)
                total += c->r[(size_t)i * c->cols + j] * exp(xr[j] - max) / sum;
        }
        return total;
    }
    for (size_t i = 0; i < n; i++) {
        double x = c->x[i], y;
        switch (c->kind) {
        case ACT_RELU: y = x > 0 ? x : 0; break;
        case ACT_LEAKY: y = x > 0 ? x : c->alpha * x; break;
        case ACT_SIGMOID: y = 1.0 / (1.0 + exp(-x)); break;
        case ACT_TANH: y = tanh(x); break;
        default: y = x * c->mask[i]; break;
        }
        total += c->r[i] * y;
    }
    return total;
}

static void act_gradcheck(enum act_kind kind, const char *name)
{
    trand r = {32 + (uint64_t)kind};
    const float alpha = 0.3f;
    double worst = 0.0;
    for (size_t s = 0; s < GC_NSHAPES; s++) {
        int rows = gc_shapes[s][0], cols = gc_shapes[s][1];
        size_t n = (size_t)rows * cols;
        float *x = frand(&r, n, -3, 3), *dy = frand(&r, n, -1, 1);
        float *y = falloc(n), *dx = falloc(n), *mask = falloc(n);
        /* keep away from the kinks so the differences do not straddle one */
        for (size_t i = 0; i < n; i++)
            if (fabsf(x[i]) < 0.05f)
                x[i] += x[i] < 0 ? -0.05f : 0.05f;
        seqrt_rng rng;
        seqrt_rng_seed(&rng, 7 + s);
        switch (kind) {
        case ACT_RELU:
            seqrt_relu_forward(n, x, y);
            seqrt_relu_backward(n, x, y, dy, dx);
            break;
        case ACT_LEAKY:
            seqrt_leaky_relu_forward(n, alpha, x, y);
            seqrt_leaky_relu_backward(n, alpha, x, y, dy, dx);
            break;
        case ACT_SIGMOID:
            seqrt_sigmoid_forward(n, x, y);
            seqrt_sigmoid_backward(n, x, y, dy, dx);
            break;
        case ACT_TANH:
            seqrt_tanh_forward(n, x, y);
            seqrt_tanh_backward(n, x, y, dy, dx);
            break;
        case ACT_SOFTMAX:
            seqrt_softmax_forward(rows, cols, x, y);
            seqrt_softmax_backward(rows, cols, x, y, dy, dx);
            break;
        case ACT_DROPOUT:
            seqrt_dropout_forward_train(n, 0.4f, x, y, mask, &rng);
            seqrt_dropout_backward(n, 0.4f, mask, dy, dx);
            break;
        }
        act_ctx c = {kind, rows, cols, alpha, widen(x, n), widen(dy, n), mask};
        double *num = dalloc(n);
        gc_numeric(act_ref, &c, c.x, n, num);
        double e = gc_rel_err(dx, num, n);
        worst = e > worst ? e : worst;
        free(num);
        free(c.x); free(c.r);
        free(x); free(dy); free(y); free(dx); free(mask);
    }
    gc_report(name, worst);
}

static void relu_gradcheck(void **state) { act_gradcheck(ACT_RELU, "relu.dx"); }
static void leaky_relu_gradcheck(void **state) { act_gradcheck(ACT_LEAKY, "leaky_relu.dx"); }
static void sigmoid_gradcheck(void **state) { act_gradcheck(ACT_SIGMOID, "sigmoid.dx"); }
static void tanh_gradcheck(void **state) { act_gradcheck(ACT_TANH, "tanh.dx"); }
static void softmax_gradcheck(void **state) { act_gradcheck(ACT_SOFTMAX, "softmax.dx"); }
static void dropout_gradcheck(void **state) { act_gradcheck(ACT_DROPOUT, "dropout.dx"); }

/* ---------------------------------------------------------------- dropout */

static void dropout_mask_statistics(void **state)
{
    enum { N = 20000 };
    static float x[N], y[N], mask[N];
    trand r = {33};
    for (int i = 0; i < N; i++)
        x[i] = trand_range(&r, -1, 1);
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 42);
    const float rate = 0.25f;
    seqrt_dropout_forward_train(N, rate, x, y, mask, &rng);
    int dropped = 0;
    for (int i = 0; i < N; i++) {
        if (mask[i] == 0.0f)
            dropped++;
        else
            assert_close(mask[i], 1.0 / (1.0 - rate), 1e-6); /* inverted */
        assert_close(y[i], x[i] * mask[i], 0.0);
    }
    /* binomial(20000, 0.25): sd ~ 61, so 5000 +- 300 is ~5 sd */
    assert_in_range(dropped, 4700, 5300);
}

static void dropout_seeded(void **state)
{
    enum { N = 257 };
    float x[N], y[N], m1[N], m2[N], m3[N];
    for (int i = 0; i < N; i++)
        x[i] = 1.0f + (float)i;
    seqrt_rng a, b, c;
    seqrt_rng_seed(&a, 5);
    seqrt_rng_seed(&b, 5);
    seqrt_rng_seed(&c, 6);
    seqrt_dropout_forward_train(N, 0.5f, x, y, m1, &a);
    seqrt_dropout_forward_train(N, 0.5f, x, y, m2, &b);
    seqrt_dropout_forward_train(N, 0.5f, x, y, m3, &c);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        assert_close(m1[i], m2[i], 0.0);
        differ += m1[i] != m3[i];
    }
    assert_true(differ > 0);
    /* the rng advanced: a second call from a gives a different mask */
    seqrt_dropout_forward_train(N, 0.5f, x, y, m2, &a);
    differ = 0;
    for (int i = 0; i < N; i++)
        differ += m1[i] != m2[i];
    assert_true(differ > 0);
}

static void dropout_rate_zero_is_identity(void **state)
{
    const float x[5] = {-1, 0, 1, 2.5f, -3};
    float y[5], mask[5], dx[5];
    const float dy[5] = {1, 2, 3, 4, 5};
    seqrt_rng rng;
    seqrt_rng_seed(&rng, 1);
    seqrt_dropout_forward_train(5, 0.0f, x, y, mask, &rng);
    seqrt_dropout_backward(5, 0.0f, mask, dy, dx);
    for (int i = 0; i < 5; i++) {
        assert_close(y[i], x[i], 0.0);
        assert_close(dx[i], dy[i], 0.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relu_forward_hand),
        cmocka_unit_test(leaky_relu_forward_hand),
        cmocka_unit_test(sigmoid_forward_hand),
        cmocka_unit_test(tanh_forward_hand),
        cmocka_unit_test(softmax_forward_hand),
        cmocka_unit_test(activation_backward_in_place),
        cmocka_unit_test(relu_gradcheck),
        cmocka_unit_test(leaky_relu_gradcheck),
        cmocka_unit_test(sigmoid_gradcheck),
        cmocka_unit_test(tanh_gradcheck),
        cmocka_unit_test(softmax_gradcheck),
        cmocka_unit_test(dropout_gradcheck),
        cmocka_unit_test(dropout_mask_statistics),
        cmocka_unit_test(dropout_seeded),
        cmocka_unit_test(dropout_rate_zero_is_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
