/* test_preprocess.c: the rescale and normalize kernels (Keras's Rescaling
 * and Normalization layers): values against NumPy in float32, which
 * computes them as Keras does, to the bit; gradients against
 * double-precision finite differences at widths 1, 3 and 7; the backward
 * passes in place (dx aliasing dy). */
#include "kernel_test.h"

#include "seqrt.h"

static void assert_bits(const float *got, const float *want, int n)
{
    for (int i = 0; i < n; i++)
        if (!(got[i] == want[i]))
            fail_msg("element %d: %.9g, want %.9g", i, (double)got[i], (double)want[i]);
}

static void rescale_numpy(void **state)
{
    /* /usr/bin/python3: f = np.float32; x = np.array(X, dtype=f);
     * y = x * s + o, with s = f(1)/f(255), o = f(0); s = f(2), o = f(-1);
     * s = f(1)/f(127.5), o = f(-1) (Keras's Rescaling(1/127.5, -1)) */
    const float x[6] = {0, 1, 127, 255, 3.5f, -2};
    const float want1[6] = {0, 0.00392156886f, 0.498039246f, 1, 0.0137254912f,
                            -0.00784313772f};
    const float want2[6] = {-1, 1, 253, 509, 6, -5};
    const float want3[6] = {-1, -0.992156863f, -0.00392150879f, 1, -0.972549021f,
                            -1.01568627f};
    float y[6];
    seqrt_rescale_forward(6, 1.0f / 255.0f, 0.0f, x, y);
    assert_bits(y, want1, 6);
    seqrt_rescale_forward(6, 2.0f, -1.0f, x, y);
    assert_bits(y, want2, 6);
    seqrt_rescale_forward(6, 1.0f / 127.5f, -1.0f, x, y);
    assert_bits(y, want3, 6);
}

static void normalize_numpy(void **state)
{
    /* /usr/bin/python3, float32 throughout, as Keras's Normalization:
     * y = (x - mean) / np.maximum(np.sqrt(var), f(1e-7)); feature 1 has
     * variance 0 and feature 2 a standard deviation of 1e-8: both are
     * divided by 1e-7 */
    const float x[12] = {1, 2, 3, 4, -1, 0.5f, 1e-6f, 10, 5, 5, 5, 5};
    const float mean[4] = {0.5f, 2, 0, 4};
    const float var[4] = {4, 0, 1e-16f, 2.25f};
    const float want[12] = {0.25f, 0, 30000000, 0, -0.75f, -15000000,
                            10, 4, 2.25f, 30000000, 50000000, 0.666666687f};
    float y[12];
    seqrt_normalize_forward(12, 4, mean, var, x, y);
    assert_bits(y, want, 12);
}

/* ------------------------------------------------------- gradient check */

typedef struct pre_ctx {
    int normalize;
    size_t n;
    int features;
    double *x;
    const double *w, *mean, *var;
    double scale, offset;
} pre_ctx;

/* sum_i w_i y_i, so its gradient in x is the backward pass of dy = w */
static double pre_ref(void *p)
{
    const pre_ctx *c = p;
    double total = 0.0;
    for (size_t i = 0; i < c->n; i++) {
        double y;
        if (c->normalize) {
            size_t f = i % (size_t)c->features;
            double sd = sqrt(c->var[f]);
            y = (c->x[i] - c->mean[f]) / (sd > (double)1e-7f ? sd : (double)1e-7f);
        } else {
            y = c->x[i] * c->scale + c->offset;
        }
        total += c->w[i] * y;
    }
    return total;
}

static void pre_gradcheck(int normalize, const char *name)
{
    static const int shapes[][2] = {{1, 1}, {5, 1}, {1, 3}, {4, 3}, {1, 7}, {6, 7}};
    trand r = {500 + (uint64_t)normalize};
    double worst = 0.0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int rows = shapes[s][0], features = shapes[s][1];
        size_t n = (size_t)rows * features;
        float *x = frand(&r, n, -3, 3), *w = frand(&r, n, -1, 1);
        float *mean = frand(&r, (size_t)features, -1, 1);
        float *var = frand(&r, (size_t)features, 0.1, 4);
        if (features > 1)
            var[1] = 0.0f; /* the 1e-7 floor */
        float scale = trand_range(&r, -2, 2), offset = trand_range(&r, -1, 1);
        float *dx = falloc(n), *inplace = falloc(n);
        for (size_t i = 0; i < n; i++)
            inplace[i] = w[i];
        if (normalize) {
            seqrt_normalize_backward(n, features, var, w, dx);
            seqrt_normalize_backward(n, features, var, inplace, inplace);
        } else {
            seqrt_rescale_backward(n, scale, w, dx);
            seqrt_rescale_backward(n, scale, inplace, inplace);
        }
        for (size_t i = 0; i < n; i++)
            assert_close(inplace[i], dx[i], 0.0);
        double *wd = widen(w, n), *md = widen(mean, (size_t)features);
        double *vd = widen(var, (size_t)features);
        pre_ctx c = {normalize, n, features, widen(x, n), wd, md, vd, scale, offset};
        /* the forward against the double reference, element by element */
        float *y = falloc(n);
        if (normalize)
            seqrt_normalize_forward(n, features, mean, var, x, y);
        else
            seqrt_rescale_forward(n, scale, offset, x, y);
        for (size_t i = 0; i < n; i++) {
            size_t f = i % (size_t)features;
            double sd = sqrt(vd[f]);
            double ref = normalize ? (c.x[i] - md[f]) / (sd > (double)1e-7f ? sd : (double)1e-7f)
                                   : c.x[i] * scale + offset;
            assert_close(y[i], ref, 1e-6 * (1.0 + fabs(ref)));
        }
        double *num = dalloc(n);
        gc_numeric(pre_ref, &c, c.x, n, num);
        double e = gc_rel_err(dx, num, n);
        worst = e > worst ? e : worst;
        free(num); free(c.x); free(wd); free(md); free(vd); free(y);
        free(x); free(w); free(mean); free(var); free(dx); free(inplace);
    }
    gc_report(name, worst);
}

static void rescale_gradcheck(void **state) { pre_gradcheck(0, "rescale.dx"); }
static void normalize_gradcheck(void **state) { pre_gradcheck(1, "normalize.dx"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rescale_numpy),
        cmocka_unit_test(normalize_numpy),
        cmocka_unit_test(rescale_gradcheck),
        cmocka_unit_test(normalize_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
