/*
 * conv_block.h: the passes of the fused `batchnorm; relu; maxpool2d`
 * block (conv_block.c) apart, private to the runtime, so that the
 * synchronized block (batchnorm_sync.c) can put the statistics of every
 * rank between them. seqrt_bn_relu_maxpool_forward_train and _backward
 * are these calls with the batch's own statistics in between.
 */
#ifndef SEQRT_CONV_BLOCK_H
#define SEQRT_CONV_BLOCK_H

#include "seqrt.h"

/* forward pass 1: scratch[n] = (S_n[c], M2_n[c]) of sample n (its channel
 * sums and squared deviations about its own mean), and each window's
 * chosen x in y, its cell in argmax (batch >= 1) */
void seqrt_bn_relu_maxpool_partials(int batch, const seqrt_pool2d_shape *p, const float *x,
                                    const float *gamma, float *y, int32_t *argmax,
                                    float *scratch);
/* forward pass 2: y = relu(gamma (x - mean) inv_std + beta) of the chosen
 * cells, argmax -1 where relu passes nothing; stats[2c] = mean, inv_std */
void seqrt_bn_relu_maxpool_finish(int batch, const seqrt_pool2d_shape *p, const float *gamma,
                                  const float *beta, const float *stats, float *y,
                                  int32_t *argmax);
/* backward pass A: dgamma = sum dz xhat, dbeta = sum dz over these batch
 * samples (0 when batch <= 0); scratch as the forward's */
void seqrt_bn_relu_maxpool_backward_sums(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *stats,
                                         const int32_t *argmax, const float *dy,
                                         float *dgamma, float *dbeta, float *scratch);
/* backward pass B: dx = k (dz - inv_rows (dbeta + xhat dgamma)), k = gamma
 * inv_std, with the totals dgamma/dbeta[c] and 1/N given (batch >= 1) */
void seqrt_bn_relu_maxpool_backward_dx(int batch, const seqrt_pool2d_shape *p, const float *x,
                                       const float *gamma, const float *stats,
                                       const int32_t *argmax, const float *dy,
                                       const float *dgamma, const float *dbeta, float inv_rows,
                                       float *dx);

/* 1 when these passes take their AVX-512 path for c channels: the CPU
 * has AVX-512F, c is a multiple of 16, and it is allowed (the default);
 * seqrt_bn_relu_maxpool_fast_allow(0) makes every call take the portable
 * path (tests: both paths on the same data). Not to be called while a
 * pass runs. */
int  seqrt_bn_relu_maxpool_fast(int c);
void seqrt_bn_relu_maxpool_fast_allow(int allow);

#endif /* SEQRT_CONV_BLOCK_H */
