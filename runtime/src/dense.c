/* dense.c: the fully connected layer, y = x W + b, forward and backward,
 * through CBLAS (OpenBLAS) sgemm. All matrices row-major. */
#include "seqrt.h"

#include <cblas.h>

/* x[batch,in], w[in,out], b[out] or NULL, y[batch,out].
 * With a bias, y is first filled with b row by row and sgemm accumulates
 * into it (beta = 1): the bias costs one write pass and no read-back. */
void seqrt_dense_forward(int batch, int in, int out, const float *x,
                         const float *w, const float *b, float *y)
{
    float beta = 0.0f;
    if (b) {
        for (int i = 0; i < batch; i++) {
            float *row = y + (size_t)i * out;
            for (int j = 0; j < out; j++)
                row[j] = b[j];
        }
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, out, in,
                1.0f, x, in, w, out, beta, y, out);
}

/* x[batch,in], w[in,out], dy[batch,out];
 * dx[batch,in] or NULL, dw[in,out], db[out] or NULL. */
void seqrt_dense_backward(int batch, int in, int out, const float *x,
                          const float *w, const float *dy, float *dx,
                          float *dw, float *db)
{
    /* dw = x^T dy */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, batch,
                1.0f, x, in, dy, out, 0.0f, dw, out);

    /* db = column sums of dy, read row by row (contiguous) */
    if (db) {
        for (int j = 0; j < out; j++)
            db[j] = 0.0f;
        for (int i = 0; i < batch; i++) {
            const float *row = dy + (size_t)i * out;
            for (int j = 0; j < out; j++)
                db[j] += row[j];
        }
    }

    /* dx = dy w^T */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, in, out,
                    1.0f, dy, out, w, out, 0.0f, dx, in);
}
