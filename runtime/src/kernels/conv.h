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

#include "kernels/gemm.h"

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

/* ------------------------------ Winograd F(2x2, 3x3) (conv_winograd.c) */

/* 1 when conv.c runs this call's forward (dx = 0), its dx (dx = 1) or
 * its dW (dx = 2, which implies 1) through Winograd F(2x2, 3x3): the shape qualifies
 * (seqrt_winograd_shape_ok) and the transformed weights and the buffers
 * fit in the call's scratch, a rule of the shape and batch only (conv.c
 * has the layout). For the tests, which must know which path they test. */
int seqrt_conv2d_winograd(const seqrt_conv2d_shape *c, int batch, int dx);

/* The shape alone: the kernels g on the AVX-512 path, a 3x3 kernel,
 * stride 1, no dilation, cin and cout multiples of 16; and Winograd not
 * turned off. */
int seqrt_winograd_shape_ok(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c);

/* Off (0) or on (1, the default): for the tests and bench/conv_paths.c,
 * which compare the im2col-order paths bit for bit or time the paths
 * against each other. Not to be called while a kernel runs. */
void seqrt_winograd_enable(int on);

/* Tiles of one sample's output (2x2 each, partial at odd edges); floats
 * of one sample's working buffer (V and M for `chunk` tiles at a time,
 * forward or dx); floats of the transformed weights U (16 blocks of
 * cin * cout). */
size_t seqrt_winograd_tiles(const seqrt_conv2d_shape *c);
size_t seqrt_winograd_buffer_floats(const seqrt_conv2d_shape *c, size_t chunk);
size_t seqrt_winograd_weights_floats(const seqrt_conv2d_shape *c);
/* floats of one sample's buffer for dW with dx (seqrt_winograd_dw_sample):
 * dx's V and M and the input's V, `chunk` tiles at a time */
size_t seqrt_winograd_dw_buffer_floats(const seqrt_conv2d_shape *c, size_t chunk);

/* u[e] (e = 0..15, each a [cin, cout] block) = G g G^T of w[3, 3, cin,
 * cout] for the forward (transposed = 0); for dx (transposed = 1) each
 * block transposed, [cout, cin]. */
void seqrt_winograd_weights(const seqrt_conv2d_shape *c, const float *w, int transposed,
                            float *const u[16]);

/* y[oh, ow, cout] = one sample's convolution x[h, w, cin] with the
 * weights transformed as u (+ b when not NULL), c the layer's shape,
 * `chunk` (>= 1) tiles at a time; buf:
 * seqrt_winograd_buffer_floats(c, chunk) floats. The chunk changes no
 * bit of y. */
void seqrt_winograd_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                           const float *x, const float *const u[16], const float *b,
                           float *y, float *buf, size_t chunk);

/* dx[h, w, cin] (overwritten) = one sample's input gradient from dy[oh,
 * ow, cout], c the layer's shape, ut from seqrt_winograd_weights(c, w, 1,
 * ut); buf: seqrt_winograd_buffer_floats(c, chunk) floats. The chunk
 * changes no bit of dx. */
void seqrt_winograd_dx_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *dy, const float *const ut[16], float *dx,
                              float *buf, size_t chunk);

/* One sample's dW through Winograd: du[16][cin][cout] = (add ? du : 0)
 * + sum over the tiles of (B^T d B)[e]^T (A dY A^T)[e], x's tiles and
 * dy's, `chunk` tiles at a time in raster order (each chunk's product
 * summed from 0, then added: so the chunk changes the bits of du), and,
 * when dx is not NULL, dx (overwritten) as seqrt_winograd_dx_sample from
 * the same dY transforms. buf: seqrt_winograd_dw_buffer_floats(c, chunk)
 * floats. */
void seqrt_winograd_dw_sample(const seqrt_gemm_ops *g, const seqrt_conv2d_shape *c,
                              const float *x, const float *dy, const float *const ut[16],
                              float *dx, float *du, int add, float *buf, size_t chunk);

/* dw[3, 3, cin, cout] (overwritten) = G^T du G per (ci, co): a sum of
 * seqrt_winograd_dw_sample's du back to the kernel's layout */
void seqrt_winograd_dw_finish(const seqrt_conv2d_shape *c, const float *du, float *dw);

#endif /* SEQRT_CONV_H */
