/* batchnorm_sync.c: synchronized batchnorm (seqrt.h, "Synchronized
 * batchnorm"): the statistics of every rank's rows together, through the
 * seqrt_comm the loop hands over. With no comm, or one rank, each call
 * is the single-process kernel itself, so a one-process run has the same
 * bits whichever the generated code calls. */
#include "seqrt.h"

#include <stdio.h>
#include <stdlib.h>

static int single(const seqrt_comm *comm)
{
    return comm == NULL || comm->size <= 1;
}

/* (the multi-rank path is being written) */
static void multi_rank_missing(const char *what)
{
    fprintf(stderr, "seqrt: %s over several ranks is not built yet\n", what);
    abort();
}

void seqrt_sync_batchnorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                        const float *x, const float *gamma, const float *beta,
                                        float *moving_mean, float *moving_var, float momentum,
                                        float eps, float *y, float *xhat, float *inv_std)
{
    if (!single(comm))
        multi_rank_missing("batchnorm");
    seqrt_batchnorm_forward_train(batch, features, x, gamma, beta, moving_mean, moving_var,
                                  momentum, eps, y, xhat, inv_std);
}

void seqrt_sync_batchnorm_backward(const seqrt_comm *comm, int batch, int features,
                                   const float *xhat, const float *gamma, const float *inv_std,
                                   const float *dy, float *dx, float *dgamma, float *dbeta)
{
    if (!single(comm))
        multi_rank_missing("batchnorm");
    seqrt_batchnorm_backward(batch, features, xhat, gamma, inv_std, dy, dx, dgamma, dbeta);
}

void seqrt_sync_batchnorm_renorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                               const float *x, const float *gamma,
                                               const float *beta, float *moving_mean,
                                               float *moving_var, float momentum, float eps,
                                               float rmax, float dmax, float *y, float *xhat,
                                               float *stats)
{
    if (!single(comm))
        multi_rank_missing("batchnorm renorm");
    seqrt_batchnorm_renorm_forward_train(batch, features, x, gamma, beta, moving_mean,
                                         moving_var, momentum, eps, rmax, dmax, y, xhat, stats);
}

void seqrt_sync_batchnorm_renorm_backward(const seqrt_comm *comm, int batch, int features,
                                          const float *xhat, const float *gamma,
                                          const float *stats, const float *dy, float *dx,
                                          float *dgamma, float *dbeta)
{
    if (!single(comm))
        multi_rank_missing("batchnorm renorm");
    seqrt_batchnorm_renorm_backward(batch, features, xhat, gamma, stats, dy, dx, dgamma, dbeta);
}

void seqrt_sync_bn_relu_maxpool_forward_train(const seqrt_comm *comm, int batch,
                                              const seqrt_pool2d_shape *p, const float *x,
                                              const float *gamma, const float *beta,
                                              float *moving_mean, float *moving_var,
                                              float momentum, float eps, float *y,
                                              int32_t *argmax, float *stats, float *scratch)
{
    if (!single(comm))
        multi_rank_missing("batchnorm; relu; maxpool2d");
    seqrt_bn_relu_maxpool_forward_train(batch, p, x, gamma, beta, moving_mean, moving_var,
                                        momentum, eps, y, argmax, stats, scratch);
}

void seqrt_sync_bn_relu_maxpool_backward(const seqrt_comm *comm, int batch,
                                         const seqrt_pool2d_shape *p, const float *x,
                                         const float *gamma, const float *stats,
                                         const int32_t *argmax, const float *dy, float *dx,
                                         float *dgamma, float *dbeta, float *scratch)
{
    if (!single(comm))
        multi_rank_missing("batchnorm; relu; maxpool2d");
    seqrt_bn_relu_maxpool_backward(batch, p, x, gamma, stats, argmax, dy, dx, dgamma, dbeta,
                                   scratch);
}
