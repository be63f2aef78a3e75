/*
 * conv.h: conv2d's building blocks (private to the runtime), for the
 * tests and bench/conv_paths.c, which compare the ways of cutting the
 * work that conv.c chose between.
 *
 * Layouts as seqrt.h: x[batch, h, w, cin], w[kh, kw, cin, cout],
 * y[batch, oh, ow, cout]. K = kh*kw*cin, P = oh*ow.
 */
#ifndef SEQRT_CONV_H
#define SEQRT_CONV_H

#include "seqrt.h"

/* One sample's im2col: col[P, K], row p = (oy, ox) holds the receptive
 * field in the weights' order (ky, kx, ci); padded cells are 0. So the
 * convolution is col[P, K] w[K, cout]. */
void seqrt_conv2d_im2col(const seqrt_conv2d_shape *c, const float *x, float *col);

/* The inverse scatter: dx[h, w, cin] = the sum of every dcol entry read
 * from that cell (overwritten; padded cells dropped), added from 0 in the
 * order of the output positions, whether scattered or gathered. */
void seqrt_conv2d_col2im(const seqrt_conv2d_shape *c, const float *dcol, float *dx);

/* 1 when the im2col of a sample is the sample itself (1x1 kernel,
 * stride 1, no padding): conv.c then multiplies x in place. */
int seqrt_conv2d_is_pointwise(const seqrt_conv2d_shape *c);

/* seqrt_conv2d_backward with dW (and db) summed in `groups` fixed groups
 * of samples (at most batch) instead of conv.c's choice: each group's
 * partial sum adds its samples' products in order, and the groups are
 * added in order. For bench/conv_paths.c; the result depends on
 * `groups` (the order of the sums), never on the thread count. */
void seqrt_conv2d_backward_groups(int batch, const seqrt_conv2d_shape *c, const float *x,
                                  const float *w, const float *dy, float *dx, float *dw,
                                  float *db, float *scratch, int groups);

#endif /* SEQRT_CONV_H */
