/* layernorm.c: the per-sample normalizations, Keras's LayerNormalization
 * (axis=-1: each row of the last axis on its own) and GroupNormalization
 * (channels last: each sample's positions and the channels of one group
 * together). Neither keeps moving statistics: training and inference
 * compute the same thing, so inference passes NULL for the saved tensors.
 * gamma NULL is scale=false (1), beta NULL center=false (0).
 *
 * Statistics are two-pass (mean, then the mean squared deviation) in
 * double: a row or a group is a few thousand values at most, and double
 * keeps the variance of values far from 0 exact enough for float output.
 * No kernel allocates. */
#include "seqrt.h"

#include "kernels/simd.h"

#include <math.h>

/* x[rows, cols] -> y; xhat[rows, cols] and inv_std[rows] saved when not NULL */
SEQRT_CLONES void seqrt_layernorm_forward(int rows, int cols, const float *x, const float *gamma,
                                         const float *beta, float eps, float *y, float *xhat,
                                         float *inv_std)
{
    const size_t C = (size_t)cols;
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * C;
        float *yr = y + (size_t)i * C;
        double mu = 0.0, var = 0.0;
        for (size_t c = 0; c < C; c++)
            mu += xr[c];
        mu /= (double)C;
        for (size_t c = 0; c < C; c++)
            var += ((double)xr[c] - mu) * ((double)xr[c] - mu);
        var /= (double)C;
        float inv = (float)(1.0 / sqrt(var + (double)eps));
        float m = (float)mu;
        if (inv_std)
            inv_std[i] = inv;
        for (size_t c = 0; c < C; c++) {
            float h = (xr[c] - m) * inv;
            if (xhat)
                xhat[(size_t)i * C + c] = h;
            yr[c] = (gamma ? gamma[c] : 1.0f) * h + (beta ? beta[c] : 0.0f);
        }
    }
}

/* Backward of one normalized set of m values xhat (stride-free), each
 * with its channel's gamma: g = dy * gamma,
 *   dx = inv_std / m * (m g - sum(g) - xhat sum(g xhat)). */
static void norm_dx(size_t m, const float *xhat, const float *dy, const float *gamma_row,
                    float inv_std, float *dx, size_t cols)
{
    double sg = 0.0, sgh = 0.0;
    for (size_t j = 0; j < m; j++) {
        double g = (double)dy[j] * (gamma_row ? gamma_row[j % cols] : 1.0f);
        sg += g;
        sgh += g * xhat[j];
    }
    /* in double: g - a - xhat b cancels to about eps/var when a row has
     * few values (two values normalize to nearly +-1 whatever x is) */
    double a = sg / (double)m, b = sgh / (double)m;
    for (size_t j = 0; j < m; j++) {
        double g = (double)dy[j] * (gamma_row ? gamma_row[j % cols] : 1.0f);
        dx[j] = (float)((double)inv_std * (g - a - xhat[j] * b));
    }
}

/* dgamma[c] = sum dy*xhat, dbeta[c] = sum dy over every row (either NULL) */
static void affine_grads(size_t rows, size_t C, const float *xhat, const float *dy,
                         float *dgamma, float *dbeta)
{
    for (size_t c = 0; c < C; c++) {
        if (dgamma)
            dgamma[c] = 0.0f;
        if (dbeta)
            dbeta[c] = 0.0f;
    }
    for (size_t i = 0; i < rows; i++) {
        const float *hr = xhat + i * C, *gr = dy + i * C;
        if (dbeta)
            for (size_t c = 0; c < C; c++)
                dbeta[c] += gr[c];
        if (dgamma)
            for (size_t c = 0; c < C; c++)
                dgamma[c] += gr[c] * hr[c];
    }
}

SEQRT_CLONES void seqrt_layernorm_backward(int rows, int cols, const float *xhat,
                                          const float *gamma, const float *inv_std,
                                          const float *dy, float *dx, float *dgamma,
                                          float *dbeta)
{
    const size_t C = (size_t)cols;
    affine_grads((size_t)rows, C, xhat, dy, dgamma, dbeta);
    if (!dx)
        return;
    for (int i = 0; i < rows; i++)
        norm_dx(C, xhat + (size_t)i * C, dy + (size_t)i * C, gamma, inv_std[i],
                dx + (size_t)i * C, C);
}

/* One sample is per rows (positions) of ch channels; group g holds channels
 * [g*cpg, (g+1)*cpg) of every position. */
SEQRT_CLONES void seqrt_groupnorm_forward(int n, int per, int ch, int groups, const float *x,
                                         const float *gamma, const float *beta, float eps,
                                         float *y, float *xhat, float *inv_std)
{
    const size_t C = (size_t)ch, P = (size_t)per, cpg = C / (size_t)groups;
    const double m = (double)(P * cpg);
    for (int s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * P * C;
        float *ys = y + (size_t)s * P * C;
        for (int g = 0; g < groups; g++) {
            size_t c0 = (size_t)g * cpg;
            double mu = 0.0, var = 0.0;
            for (size_t p = 0; p < P; p++)
                for (size_t c = c0; c < c0 + cpg; c++)
                    mu += xs[p * C + c];
            mu /= m;
            for (size_t p = 0; p < P; p++)
                for (size_t c = c0; c < c0 + cpg; c++)
                    var += ((double)xs[p * C + c] - mu) * ((double)xs[p * C + c] - mu);
            var /= m;
            float inv = (float)(1.0 / sqrt(var + (double)eps)), mf = (float)mu;
            if (inv_std)
                inv_std[(size_t)s * (size_t)groups + (size_t)g] = inv;
            for (size_t p = 0; p < P; p++)
                for (size_t c = c0; c < c0 + cpg; c++) {
                    float h = (xs[p * C + c] - mf) * inv;
                    if (xhat)
                        xhat[(size_t)s * P * C + p * C + c] = h;
                    ys[p * C + c] = (gamma ? gamma[c] : 1.0f) * h + (beta ? beta[c] : 0.0f);
                }
        }
    }
}

SEQRT_CLONES void seqrt_groupnorm_backward(int n, int per, int ch, int groups,
                                          const float *xhat, const float *gamma,
                                          const float *inv_std, const float *dy, float *dx,
                                          float *dgamma, float *dbeta)
{
    const size_t C = (size_t)ch, P = (size_t)per, cpg = C / (size_t)groups;
    affine_grads((size_t)n * P, C, xhat, dy, dgamma, dbeta);
    if (!dx)
        return;
    const double m = (double)(P * cpg);
    for (int s = 0; s < n; s++) {
        size_t base = (size_t)s * P * C;
        for (int g = 0; g < groups; g++) {
            size_t c0 = (size_t)g * cpg;
            double sg = 0.0, sgh = 0.0;
            for (size_t p = 0; p < P; p++)
                for (size_t c = c0; c < c0 + cpg; c++) {
                    size_t j = base + p * C + c;
                    double gv = (double)dy[j] * (gamma ? gamma[c] : 1.0f);
                    sg += gv;
                    sgh += gv * xhat[j];
                }
            float inv = inv_std[(size_t)s * (size_t)groups + (size_t)g];
            double a = sg / m, b = sgh / m; /* in double: see norm_dx */
            for (size_t p = 0; p < P; p++)
                for (size_t c = c0; c < c0 + cpg; c++) {
                    size_t j = base + p * C + c;
                    double gv = (double)dy[j] * (gamma ? gamma[c] : 1.0f);
                    dx[j] = (float)((double)inv * (gv - a - xhat[j] * b));
                }
        }
    }
}
