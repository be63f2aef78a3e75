/*
 * seqrt.h: the public interface of libseqrt, the runtime every trainer that
 * seqc generates links against.
 *
 * Conventions (all kernels):
 *   - float32, row-major, activations are [batch, features];
 *   - the caller hands in every buffer; no kernel allocates;
 *   - forward and backward take their common arguments in the same order;
 *   - gradients are written (overwritten), never accumulated, unless a
 *     function says otherwise;
 *   - sizes are int for the GEMM-facing dimensions (CBLAS takes int) and
 *     size_t for flat element counts.
 *
 * Errors that come from user input (files, flags) are reported through a
 * seqrt_error: a function returns 0 on success and -1 on failure after
 * writing one human-readable line ("FILE: what is wrong") into err->msg.
 */
#ifndef SEQRT_H
#define SEQRT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEQRT_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

typedef struct seqrt_error {
    char msg[512];
} seqrt_error;

/* printf-style; always returns -1 so callers can `return seqrt_fail(...)`. */
int seqrt_fail(seqrt_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* --------------------------------------------------------- output files */
/*
 * The one safe way to write an output file (runtime/src/data/outfile.c):
 * a regular file is replaced atomically (TARGET.seqc-tmp.PID beside it,
 * fsync, rename, fsync of the directory), so a crash never costs the
 * previous file; a symlink is written through to its final target; an
 * existing device or FIFO is written in place with every error reported;
 * a directory or a missing parent directory is refused; SIGXFSZ is
 * ignored so a size limit is an error, not a kill; temporaries of dead
 * writers for the same target are removed (so a process writes one file
 * per target at a time). Errors read "cannot write PATH: REASON".
 */
#define SEQRT_PATH_MAX 4096

typedef struct seqrt_outfile {
    FILE *f;                       /* write the contents here */
    char  path[SEQRT_PATH_MAX];    /* as given, for messages */
    char  target[SEQRT_PATH_MAX];  /* path with symlinks followed */
    char  tmp[SEQRT_PATH_MAX];     /* the temporary; "" when written in place */
    int   error;                   /* first errno of a failed seqrt_outfile_write */
    int   fd_lock;                 /* after commit(want_lock): a descriptor holding
                                      flock(LOCK_EX) on the new file, or -1 */
} seqrt_outfile;

/* Would path be writable? The checks of open, nothing written; also
 * removes stale temporaries. For checking every output before work starts. */
int  seqrt_outfile_check(const char *path, seqrt_error *err);
int  seqrt_outfile_open(seqrt_outfile *o, const char *path, seqrt_error *err);
/* fwrite that remembers the first errno for commit's message */
int  seqrt_outfile_write(seqrt_outfile *o, const void *data, size_t n);
/* Flush, sync, close, rename into place. want_lock: leave o->fd_lock
 * holding an exclusive flock on the new file (the caller closes it).
 * On failure the previous file is untouched and the temporary removed. */
int  seqrt_outfile_commit(seqrt_outfile *o, int want_lock, seqrt_error *err);
/* Give up: close and remove the temporary; the previous file stays. */
void seqrt_outfile_abort(seqrt_outfile *o);
/* open, writer(f, ctx) (0 on success), commit: the whole file in one call */
int  seqrt_write_file(const char *path, int (*writer)(FILE *f, const void *ctx),
                      const void *ctx, seqrt_error *err);

/* ------------------------------------------------------------ generator */

/* xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every machine. The state is plain data so a checkpoint can
 * save and restore it. */
typedef struct seqrt_rng {
    uint64_t s[4];
} seqrt_rng;

void     seqrt_rng_seed(seqrt_rng *rng, uint64_t seed);
uint64_t seqrt_rng_next(seqrt_rng *rng);
/* uniform in [0, 1) with 24 random bits */
float    seqrt_rng_uniform(seqrt_rng *rng);
/* standard normal (Box-Muller, no cached value: state is only s[4]) */
float    seqrt_rng_normal(seqrt_rng *rng);
/* uniform integer in [0, n), unbiased */
uint32_t seqrt_rng_below(seqrt_rng *rng, uint32_t n);
/* Fisher-Yates shuffle of order[0..n) */
void     seqrt_rng_shuffle(seqrt_rng *rng, uint32_t *order, size_t n);

/* ---------------------------------------------------------- initializers */

typedef enum seqrt_init_kind {
    SEQRT_INIT_ZEROS,
    SEQRT_INIT_ONES,
    SEQRT_INIT_GLOROT_UNIFORM,
    SEQRT_INIT_GLOROT_NORMAL, /* truncated normal, as Keras */
    SEQRT_INIT_HE_UNIFORM,
    SEQRT_INIT_HE_NORMAL,     /* truncated normal, as Keras */
    SEQRT_INIT_COUNT_
} seqrt_init_kind;

/* Fill w[0..n) for a weight of fan_in inputs and fan_out outputs. */
void seqrt_init(float *w, size_t n, seqrt_init_kind kind, int fan_in,
                int fan_out, seqrt_rng *rng);

/* ----------------------------------------------------------------- dense */

/* y[batch,out] = x[batch,in] * w[in,out] (+ b[out] when b != NULL) */
void seqrt_dense_forward(int batch, int in, int out, const float *x,
                         const float *w, const float *b, float *y);
/* dw[in,out] = x^T dy; db[out] = sum_rows dy (skipped when db == NULL);
 * dx[batch,in] = dy w^T (skipped when dx == NULL, e.g. the first layer). */
void seqrt_dense_backward(int batch, int in, int out, const float *x,
                          const float *w, const float *dy, float *dx,
                          float *dw, float *db);

/* ------------------------------------------------- processes (MPI) */

/*
 * The processes (MPI ranks) that train one model together, as the kernels
 * and the training loop see them: libseqrt never calls MPI itself;
 * libseqrt_mpi (runtime/src/loop/mpi.c) fills this in. NULL wherever a
 * seqrt_comm is taken means one process.
 *
 * sum: buf[0..n) on every rank becomes the sum over the ranks of every
 * rank's buf[0..n), with the same bits on every rank (so that the ranks'
 * parameters never drift apart). It is a collective call: every rank
 * makes the same calls in the same order.
 */
typedef struct seqrt_comm {
    int   rank, size;
    int   local_size; /* ranks on this machine, sharing its cores */
    void (*sum)(const struct seqrt_comm *c, double *buf, size_t n);
    void (*sum_float)(const struct seqrt_comm *c, float *buf, size_t n);
    /* Ranks other than 0 keep their stderr until asked (the ranks fail
     * alike, so rank 0's message is every rank's); the loop calls this on
     * a rank that failed alone, to show its messages. May be NULL. */
    void (*show_stderr)(const struct seqrt_comm *c);
    void *impl;
} seqrt_comm;

/* ------------------------------------------------------------- batchnorm */

/*
 * Training mode: per-feature batch mean mu and biased variance var,
 *   xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta,
 *   moving_mean = moving_mean * momentum + mu  * (1 - momentum)
 *   moving_var  = moving_var  * momentum + var * (1 - momentum)
 * xhat[batch,features] and inv_std[features] are saved for backward.
 * A batch of one sample has var = 0 and x - mu = 0: xhat is 0 and y is
 * exactly beta, finite for any eps > 0.
 */
void seqrt_batchnorm_forward_train(int batch, int features, const float *x,
                                   const float *gamma, const float *beta,
                                   float *moving_mean, float *moving_var,
                                   float momentum, float eps, float *y,
                                   float *xhat, float *inv_std);
/* Inference mode: normalizes with the moving statistics. */
void seqrt_batchnorm_forward_infer(int batch, int features, const float *x,
                                   const float *gamma, const float *beta,
                                   const float *moving_mean,
                                   const float *moving_var, float eps,
                                   float *y);
/* dx = gamma*inv_std/N * (N*dy - sum(dy) - xhat*sum(dy*xhat));
 * dgamma = sum(dy*xhat); dbeta = sum(dy). dx may be NULL. */
void seqrt_batchnorm_backward(int batch, int features, const float *xhat,
                              const float *gamma, const float *inv_std,
                              const float *dy, float *dx, float *dgamma,
                              float *dbeta);

/* gamma may be NULL (scale=false: 1) and beta NULL (center=false: 0) in
 * every batchnorm, layernorm and groupnorm call; dgamma/dbeta NULL then. */

/* frozen=true: training uses the moving statistics (the inference call
 * above), so backward is the affine map dx = dy * gamma /
 * sqrt(moving_var + eps); nothing is trained. dx may alias dy. */
void seqrt_batchnorm_frozen_backward(int batch, int features, const float *gamma,
                                     const float *moving_var, float eps,
                                     const float *dy, float *dx);

/*
 * Ghost batches (virtual_batch=vb): the n samples of x[n*per, features]
 * (per rows each) split into groups of vb samples, each normalized with its
 * own statistics; a batch vb does not divide puts the remainder into the
 * last group (one of vb..2vb-1 samples), a batch smaller than vb is one
 * group. The moving statistics follow the unweighted mean of the groups'
 * means and biased variances, as Keras:
 *   moving = moving * momentum + (1 - momentum) * mean over groups
 * xhat[n*per, features] and inv_std[groups, features] (at most n rows)
 * are saved for backward.
 */
void seqrt_batchnorm_ghost_forward_train(int n, int per, int features, int vb,
                                         const float *x, const float *gamma,
                                         const float *beta, float *moving_mean,
                                         float *moving_var, float momentum, float eps,
                                         float *y, float *xhat, float *inv_std);
void seqrt_batchnorm_ghost_backward(int n, int per, int features, int vb,
                                    const float *xhat, const float *gamma,
                                    const float *inv_std, const float *dy, float *dx,
                                    float *dgamma, float *dbeta);

/*
 * Batch renormalization (renorm=true, Ioffe 2017): training normalizes
 * with the batch's statistics, then corrects towards the moving ones,
 *   r = clip(sqrt(var + eps) / sqrt(moving_var + eps), 1/rmax, rmax)
 *   d = clip((mu - moving_mean) / sqrt(moving_var + eps), -dmax, dmax)
 *   y = gamma * (r * xhat + d) + beta
 * with the moving statistics before this step's update (then updated as
 * batchnorm's). stats[3, features] saves inv_std, r and d; backward treats
 * r and d as constants. Inference is seqrt_batchnorm_forward_infer.
 */
void seqrt_batchnorm_renorm_forward_train(int batch, int features, const float *x,
                                          const float *gamma, const float *beta,
                                          float *moving_mean, float *moving_var,
                                          float momentum, float eps, float rmax, float dmax,
                                          float *y, float *xhat, float *stats);
void seqrt_batchnorm_renorm_backward(int batch, int features, const float *xhat,
                                     const float *gamma, const float *stats, const float *dy,
                                     float *dx, float *dgamma, float *dbeta);

/*
 * Synchronized batchnorm (batchnorm sync=true, the default; runs as the
 * calls above when comm is NULL or has one rank, with the same bits).
 * Each rank holds `batch` rows of the global batch; the statistics are
 * those of all the ranks' rows together: forward takes one comm->sum per
 * layer (per-feature count, sum and sum of squares, in double, shifted by
 * the moving mean, which every rank holds identically), so the moving
 * statistics stay identical on every rank; backward one comm->sum of
 * sum(dy) and sum(dy*xhat). dgamma and dbeta are this rank's own sums
 * (the loop sums every gradient over the ranks afterwards); dx uses the
 * global sums and the global row count. Arguments as the calls above.
 */
void seqrt_sync_batchnorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                        const float *x, const float *gamma, const float *beta,
                                        float *moving_mean, float *moving_var, float momentum,
                                        float eps, float *y, float *xhat, float *inv_std);
void seqrt_sync_batchnorm_backward(const seqrt_comm *comm, int batch, int features,
                                   const float *xhat, const float *gamma, const float *inv_std,
                                   const float *dy, float *dx, float *dgamma, float *dbeta);
void seqrt_sync_batchnorm_renorm_forward_train(const seqrt_comm *comm, int batch, int features,
                                               const float *x, const float *gamma,
                                               const float *beta, float *moving_mean,
                                               float *moving_var, float momentum, float eps,
                                               float rmax, float dmax, float *y, float *xhat,
                                               float *stats);
void seqrt_sync_batchnorm_renorm_backward(const seqrt_comm *comm, int batch, int features,
                                          const float *xhat, const float *gamma,
                                          const float *stats, const float *dy, float *dx,
                                          float *dgamma, float *dbeta);

/* ------------------------------------------------- layernorm, groupnorm */

/*
 * Layer normalization (Keras LayerNormalization, axis=-1): each row of
 * x[rows, cols] (a sample, or a position of an image) by its own mean and
 * biased variance, then gamma[cols], beta[cols]. xhat[rows, cols] and
 * inv_std[rows] are saved when not NULL (training); inference passes NULL.
 * Backward: dx = inv_std/C * (C g - sum(g) - xhat sum(g xhat)), g = dy*gamma;
 * dgamma = sum(dy*xhat), dbeta = sum(dy). dx may be NULL.
 */
void seqrt_layernorm_forward(int rows, int cols, const float *x, const float *gamma,
                             const float *beta, float eps, float *y, float *xhat,
                             float *inv_std);
void seqrt_layernorm_backward(int rows, int cols, const float *xhat, const float *gamma,
                              const float *inv_std, const float *dy, float *dx,
                              float *dgamma, float *dbeta);
/*
 * Group normalization (Keras GroupNormalization, channels last): a sample
 * of x[n, per, ch] (per positions, 1 once flat) is normalized per group of
 * ch/groups channels over all its positions; xhat[n, per, ch] and
 * inv_std[n, groups] saved when not NULL. groups divides ch.
 */
void seqrt_groupnorm_forward(int n, int per, int ch, int groups, const float *x,
                             const float *gamma, const float *beta, float eps, float *y,
                             float *xhat, float *inv_std);
void seqrt_groupnorm_backward(int n, int per, int ch, int groups, const float *xhat,
                              const float *gamma, const float *inv_std, const float *dy,
                              float *dx, float *dgamma, float *dbeta);

/* ------------------------------------------------- convolution, pooling */
/*
 * Images are NHWC (channels last, Keras's default): x[batch, h, w, c].
 * conv2d weights are Keras's layout [kh, kw, cin, cout], bias [cout].
 * Padding as Keras/TensorFlow: `valid` pads nothing; `same` gives
 * out = ceil(in / stride) and pads total = max((out - 1) * stride +
 * (k - 1) * dilation + 1 - in, 0), top/left = total / 2 (the extra row or
 * column goes to the bottom/right). The compiler computes every field.
 */
typedef struct seqrt_conv2d_shape {
    int h, w, cin;          /* input */
    int kh, kw, cout;       /* kernel and filters */
    int sh, sw;             /* strides */
    int dh, dw;             /* dilations */
    int pad_top, pad_left;  /* zeros before the first row / column */
    int oh, ow;             /* output */
} seqrt_conv2d_shape;

/* Scratch floats a conv2d call may use per sample of the batch (e.g. an
 * im2col buffer); the caller provides scratch_per_sample * capacity. */
size_t seqrt_conv2d_scratch_per_sample(const seqrt_conv2d_shape *c);
/* The same figure from the sizes alone, the one formula the compiler's
 * memory plan and the kernels share: a sample's column matrix (positions
 * = oh * ow rows of patch = kh * kw * cin) and a slot of partial sums of
 * dW and db (patch * cout + cout). Saturates at UINT64_MAX, so the
 * compiler may ask before it has refused impossible sizes. */
static inline uint64_t seqrt_conv2d_scratch_floats(uint64_t positions, uint64_t patch,
                                                   uint64_t cout)
{
    uint64_t col = patch && positions > UINT64_MAX / patch ? UINT64_MAX : positions * patch;
    uint64_t slot = cout && patch > UINT64_MAX / cout - 1 ? UINT64_MAX : (patch + 1) * cout;
    return col > UINT64_MAX - slot ? UINT64_MAX : col + slot;
}
/* y[batch, oh, ow, cout] = conv(x, w) (+ b when b != NULL) */
void seqrt_conv2d_forward(int batch, const seqrt_conv2d_shape *c, const float *x,
                          const float *w, const float *b, float *y, float *scratch);
/* dw, db (db skipped when NULL) overwritten; dx (skipped when NULL, the
 * first layer) overwritten. */
void seqrt_conv2d_backward(int batch, const seqrt_conv2d_shape *c, const float *x,
                           const float *w, const float *dy, float *dx, float *dw,
                           float *db, float *scratch);

typedef struct seqrt_pool2d_shape {
    int h, w, c;            /* input */
    int ph, pw;             /* pool size */
    int sh, sw;             /* strides (default: the pool size) */
    int pad_top, pad_left;  /* `same` padding, as conv2d; padded cells never win
                               a max and are not counted in an average (Keras) */
    int oh, ow;             /* output */
} seqrt_pool2d_shape;

/* argmax[batch, oh, ow, c]: the index within the sample's input (h*w*c
 * flat) of each maximum, saved for backward (first maximum on ties). */
void seqrt_maxpool2d_forward(int batch, const seqrt_pool2d_shape *p, const float *x,
                             float *y, int32_t *argmax);
void seqrt_maxpool2d_backward(int batch, const seqrt_pool2d_shape *p,
                              const int32_t *argmax, const float *dy, float *dx);
void seqrt_avgpool2d_forward(int batch, const seqrt_pool2d_shape *p, const float *x,
                             float *y);
void seqrt_avgpool2d_backward(int batch, const seqrt_pool2d_shape *p, const float *dy,
                              float *dx);
/* Over all hw = h*w positions of each channel: y[batch, c]. */
void seqrt_global_avgpool2d_forward(int batch, int hw, int c, const float *x, float *y);
void seqrt_global_avgpool2d_backward(int batch, int hw, int c, const float *dy, float *dx);
void seqrt_global_maxpool2d_forward(int batch, int hw, int c, const float *x, float *y,
                                    int32_t *argmax);
void seqrt_global_maxpool2d_backward(int batch, int hw, int c, const int32_t *argmax,
                                     const float *dy, float *dx);

/* ------------------------- batchnorm + relu + maxpool2d, fused (conv_block.c) */
/*
 * `batchnorm; relu; maxpool2d` on an image x[batch, h, w, c] as one call
 * each way: batchnorm per channel with the batch statistics (as
 * seqrt_batchnorm_forward_train on [batch*h*w, c]), relu, then the max
 * over windows that do not overlap (p: stride = pool size, no padding).
 * Saved for backward: stats[2c] (the batch mean, then inv_std) and
 * argmax[batch, oh, ow, c] (the input cell of each maximum within its
 * sample, -1 where relu passed no gradient). scratch: 2c floats per
 * sample of the batch (seqrt_bn_relu_maxpool_scratch_per_sample).
 */
size_t seqrt_bn_relu_maxpool_scratch_per_sample(int c);
void seqrt_bn_relu_maxpool_forward_train(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *gamma,
                                         const float *beta, float *moving_mean,
                                         float *moving_var, float momentum, float eps,
                                         float *y, int32_t *argmax, float *stats,
                                         float *scratch);
/* Inference: the moving statistics, no argmax. */
void seqrt_bn_relu_maxpool_forward_infer(int batch, const seqrt_pool2d_shape *p,
                                         const float *x, const float *gamma,
                                         const float *beta, const float *moving_mean,
                                         const float *moving_var, float eps, float *y,
                                         float *scratch);
/* dgamma, dbeta overwritten; dx[batch, h, w, c] overwritten (skipped when
 * NULL). x is the forward's input. */
void seqrt_bn_relu_maxpool_backward(int batch, const seqrt_pool2d_shape *p, const float *x,
                                    const float *gamma, const float *stats,
                                    const int32_t *argmax, const float *dy, float *dx,
                                    float *dgamma, float *dbeta, float *scratch);
/* Synchronized over comm's ranks, as seqrt_sync_batchnorm_*: the same
 * calls when comm is NULL or has one rank. */
void seqrt_sync_bn_relu_maxpool_forward_train(const seqrt_comm *comm, int batch,
                                              const seqrt_pool2d_shape *p, const float *x,
                                              const float *gamma, const float *beta,
                                              float *moving_mean, float *moving_var,
                                              float momentum, float eps, float *y,
                                              int32_t *argmax, float *stats, float *scratch);
void seqrt_sync_bn_relu_maxpool_backward(const seqrt_comm *comm, int batch,
                                         const seqrt_pool2d_shape *p, const float *x,
                                         const float *gamma, const float *stats,
                                         const int32_t *argmax, const float *dy, float *dx,
                                         float *dgamma, float *dbeta, float *scratch);

/* ----------------------------------------------------------- activations */
/* Elementwise over n values. Backward takes x and y (forward's input and
 * output) so each activation uses whichever is cheaper; dx may alias dy. */

void seqrt_relu_forward(size_t n, const float *x, float *y);
void seqrt_relu_backward(size_t n, const float *x, const float *y,
                         const float *dy, float *dx);
void seqrt_leaky_relu_forward(size_t n, float alpha, const float *x, float *y);
void seqrt_leaky_relu_backward(size_t n, float alpha, const float *x,
                               const float *y, const float *dy, float *dx);
void seqrt_sigmoid_forward(size_t n, const float *x, float *y);
void seqrt_sigmoid_backward(size_t n, const float *x, const float *y,
                            const float *dy, float *dx);
void seqrt_tanh_forward(size_t n, const float *x, float *y);
void seqrt_tanh_backward(size_t n, const float *x, const float *y,
                         const float *dy, float *dx);
/* Row-wise softmax of x[batch,classes] (max-subtracted). */
void seqrt_softmax_forward(int batch, int classes, const float *x, float *y);
void seqrt_softmax_backward(int batch, int classes, const float *x,
                            const float *y, const float *dy, float *dx);

/* Inverted dropout: mask[i] = 0 with probability rate, else 1/(1-rate);
 * y = x * mask. At inference dropout is the identity (the generated code
 * simply does not call it). */
void seqrt_dropout_forward_train(size_t n, float rate, const float *x,
                                 float *y, float *mask, seqrt_rng *rng);
/* The same for rows [row0, row0 + n) of a batch of `rows` rows of `width`
 * values (a rank's shard, seqrt_step): draws the mask values of all the
 * rows in order and keeps its own, so the generator and the masks are
 * those of one process training the whole batch (row0 0 and rows n: the
 * call above). */
void seqrt_dropout_rows_forward_train(int n, int row0, int rows, size_t width, float rate,
                                      const float *x, float *y, float *mask, seqrt_rng *rng);
void seqrt_dropout_backward(size_t n, float rate, const float *mask,
                            const float *dy, float *dx);

/* ---------------------------------------------------------------- losses */
/* Every loss returns the mean over the batch (and, for the element-wise
 * losses, over the width, as Keras); every gradient is already divided
 * by what the mean divides by: `total` rows, which is `batch` except for
 * a shard of a larger batch (seqrt_step.rows under MPI), whose gradient
 * is its part of the whole batch's mean. Sums are taken in double.
 *
 * Targets come in two forms:
 *   labels  int32 [batch]: class numbers in [0, classes) (sparse losses);
 *   t       float [batch, width]: one row of targets per sample (one-hot
 *           or probability rows for categorical_crossentropy, 0/1 or
 *           probabilities for binary_crossentropy, real values for the
 *           regression losses). */

/* Softmax fused with sparse categorical cross-entropy, from logits:
 * probs = softmax(logits); loss = mean(logsumexp(z) - z[label]). */
float seqrt_softmax_xent_forward(int batch, int classes, const float *logits,
                                 const int32_t *labels, float *probs);
/* dlogits = (probs - onehot(label)) / total */
void  seqrt_softmax_xent_backward(int batch, int total, int classes, const float *probs,
                                  const int32_t *labels, float *dlogits);

/* Sparse categorical cross-entropy on probabilities, clipped at 1e-7 as
 * Keras does: loss = mean(-log(clip(p[label]))). */
float seqrt_xent_forward(int batch, int classes, const float *probs,
                         const int32_t *labels);
void  seqrt_xent_backward(int batch, int total, int classes, const float *probs,
                          const int32_t *labels, float *dprobs);

/* Categorical cross-entropy on probabilities against target rows t:
 * loss = mean_rows(-sum_j t_j log(clip(p_j))); dprobs = -t/(N clip(p)),
 * 0 where the clip is active. */
float seqrt_cce_forward(int batch, int classes, const float *probs, const float *t);
void  seqrt_cce_backward(int batch, int total, int classes, const float *probs, const float *t,
                         float *dprobs);
/* The same from logits, fused with softmax (from_logits=true, or a softmax
 * the compiler fused): probs = softmax(z);
 * dlogits = (probs * sum_j t_j - t) / N. */
float seqrt_softmax_cce_forward(int batch, int classes, const float *logits,
                                const float *t, float *probs);
void  seqrt_softmax_cce_backward(int batch, int total, int classes, const float *probs,
                                 const float *t, float *dlogits);

/* Binary cross-entropy on probabilities, K independent outputs per row:
 * loss = mean over rows and columns of -(t log p + (1-t) log(1-p)),
 * p clipped to [1e-7, 1 - 1e-7] (Keras). */
float seqrt_bce_forward(int batch, int width, const float *probs, const float *t);
void  seqrt_bce_backward(int batch, int total, int width, const float *probs, const float *t,
                         float *dprobs);
/* From logits, fused with the sigmoid (numerically stable:
 * max(z,0) - z t + log1p(exp(-|z|))); probs = sigmoid(z);
 * dlogits = (probs - t) / (N width). */
float seqrt_sigmoid_bce_forward(int batch, int width, const float *logits,
                                const float *t, float *probs);
void  seqrt_sigmoid_bce_backward(int batch, int total, int width, const float *probs,
                                 const float *t, float *dlogits);

/* Regression, mean over rows and columns: (pred - t)^2; |pred - t|
 * (gradient sign(pred - t), 0 at 0); Huber with delta: 0.5 d^2 when
 * |d| <= delta, else delta (|d| - 0.5 delta) (Keras). */
float seqrt_mse_forward(int batch, int width, const float *pred, const float *t);
void  seqrt_mse_backward(int batch, int total, int width, const float *pred, const float *t,
                         float *dpred);
float seqrt_mae_forward(int batch, int width, const float *pred, const float *t);
void  seqrt_mae_backward(int batch, int total, int width, const float *pred, const float *t,
                         float *dpred);
float seqrt_huber_forward(int batch, int width, const float *pred, const float *t,
                          float delta);
void  seqrt_huber_backward(int batch, int total, int width, const float *pred, const float *t,
                           float delta, float *dpred);

/* Number of rows whose arg-max (first maximum) equals the label. */
int seqrt_accuracy_count(int batch, int classes, const float *scores,
                         const int32_t *labels);

/* ------------------------------------------------------ preprocessing */
/* Keras's Rescaling and Normalization layers, element-wise over n values
 * of `features` per row (the last axis). */

/* y = x * scale + offset;  dx = dy * scale (dx may alias dy) */
void seqrt_rescale_forward(size_t n, float scale, float offset, const float *x, float *y);
void seqrt_rescale_backward(size_t n, float scale, const float *dy, float *dx);
/* y = (x - mean[f]) / max(sqrt(var[f]), 1e-7) per feature f = i % features
 * (Keras Normalization); dx = dy / max(sqrt(var[f]), 1e-7). */
void seqrt_normalize_forward(size_t n, int features, const float *mean,
                             const float *var, const float *x, float *y);
void seqrt_normalize_backward(size_t n, int features, const float *var,
                              const float *dy, float *dx);

/* ------------------------------------------------------------ optimizers */
/* One loop over a contiguous parameter buffer. State lives in buffers the
 * caller owns so it can be checkpointed. */

/* Keras SGD: v = momentum*v - lr*g; p += v   (momentum == 0: p -= lr*g,
 * velocity untouched and may be NULL);
 * nesterov: p += momentum*v - lr*g (after updating v). */
void seqrt_sgd_step(size_t n, float *param, const float *grad, float *velocity,
                    float lr, float momentum, int nesterov);

/* Keras Adam, step t >= 1 (the count after this step):
 * m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 * alpha_t = lr*sqrt(1-b2^t)/(1-b1^t); p -= alpha_t*m/(sqrt(v)+eps). */
void seqrt_adam_step(size_t n, float *param, const float *grad, float *m,
                     float *v, int64_t t, float lr, float beta1, float beta2,
                     float eps);

/* Keras RMSprop (not centered): velocity and the momentum buffer start at
 * 0 (Keras 3);
 *   velocity = rho*velocity + (1-rho)*g*g;
 *   increment = lr*g / sqrt(velocity + eps)        (eps inside the root);
 *   momentum > 0: mom = momentum*mom + increment; p -= mom
 *   momentum == 0: p -= increment (mom untouched, may be NULL). */
void seqrt_rmsprop_step(size_t n, float *param, const float *grad, float *velocity,
                        float *mom, float lr, float rho, float momentum, float eps);

/* Decoupled weight decay, as every Keras 3 optimizer's weight_decay
 * (AdamW's): p -= lr*wd*p, applied before the optimizer's own step. */
void seqrt_weight_decay(size_t n, float *param, float lr, float wd);

/* Gradient clipping with Keras's names and semantics:
 * clipnorm: each variable's gradient g (one parameter block) is scaled by
 * clipnorm / max(||g||, clipnorm) (tf.clip_by_norm), so its norm is at
 * most clipnorm; global_clipnorm: every gradient by the same factor, from
 * the norm of all of them together (tf.clip_by_global_norm); clipvalue:
 * each value clipped to [-clipvalue, clipvalue]. Norms in double. */
double seqrt_sum_squares(size_t n, const float *g);
void   seqrt_clip_scale(size_t n, float *g, double norm, float clipnorm);
void   seqrt_clip_norm(size_t n, float *g, float clipnorm);
void   seqrt_clip_value(size_t n, float *g, float clipvalue);

/* ------------------------------------------------------ learning rates */
/*
 * The learning rate of each epoch (runtime/src/loop/schedule.c), from the
 * base rate lr (the file's, or --lr). Epochs count from 1. With warmup W
 * > 0, epoch e <= W trains at lr * e / W (linear, from lr/W up to lr),
 * and the schedule itself starts after it: its epoch k = e - W - 1 counts
 * from 0 over T = epochs - W epochs (T at least 1). Then:
 *   constant      lr
 *   step          lr * factor^floor(k / every)         (PyTorch StepLR)
 *   exponential   lr * factor^k                        (ExponentialLR)
 *   cosine        min_lr + (lr - min_lr) * (1 + cos(pi * k / T)) / 2
 *                                            (CosineAnnealingLR, T_max T)
 *   plateau       the plateau's current rate: lr, multiplied by factor
 *                 (never below min_lr) after `patience` epochs without
 *                 improvement of the monitored value (Keras
 *                 ReduceLROnPlateau; waiting starts after the warmup).
 * Computed in double, rounded once to float.
 */
typedef enum seqrt_schedule_kind {
    SEQRT_SCHED_CONSTANT,
    SEQRT_SCHED_STEP,
    SEQRT_SCHED_EXPONENTIAL,
    SEQRT_SCHED_COSINE,
    SEQRT_SCHED_PLATEAU,
    SEQRT_SCHED_COUNT_
} seqrt_schedule_kind;

/* A value a callback watches after each epoch: the loss or metric i,
 * of the training epoch or of the validation set. */
typedef struct seqrt_monitor {
    int metric;   /* -1: the loss; else an index into seqrt_model.metrics */
    int val;      /* 1: the validation set's value (val_...) */
    int maximize; /* 1: larger is better (accuracy, auc), Keras mode=auto */
} seqrt_monitor;

typedef struct seqrt_schedule {
    seqrt_schedule_kind kind;
    int    every;      /* step */
    double factor;     /* step, exponential, plateau */
    double min_lr;     /* cosine, plateau */
    int    warmup;     /* epochs; 0 none */
    int    patience;   /* plateau */
    double min_delta;  /* plateau (Keras default 1e-4) */
    seqrt_monitor monitor; /* plateau */
} seqrt_schedule;

/* Where a plateau schedule stands (checkpointed). */
typedef struct seqrt_plateau_state {
    float    lr;    /* the current rate (after warmup) */
    uint32_t wait;  /* epochs since the last improvement */
    double   best;  /* best monitored value so far (+-inf before any) */
} seqrt_plateau_state;

/* The rate of epoch `epoch` of `epochs`; plateau_lr: the plateau's
 * current rate (read for SEQRT_SCHED_PLATEAU only). */
float seqrt_schedule_lr(const seqrt_schedule *s, float lr, long epoch, long epochs,
                        float plateau_lr);
/* A fresh plateau state at base rate lr. */
void  seqrt_plateau_start(const seqrt_schedule *s, seqrt_plateau_state *st, float lr);
/* After epoch `epoch` with the monitored value: Keras's rule (improvement:
 * better than best by more than min_delta; else wait += 1 and at
 * `patience` the rate becomes max(lr * factor, min_lr) when lr > min_lr,
 * and wait restarts). Epochs of the warmup are not watched. Returns 1
 * when the rate was reduced. */
int   seqrt_plateau_update(const seqrt_schedule *s, seqrt_plateau_state *st, long epoch,
                           double value);
/* Is value better than best by more than min_delta in the monitor's
 * direction? NaN never is. */
int   seqrt_monitor_improves(const seqrt_monitor *m, double value, double best,
                             double min_delta);
/* The starting "best": +inf when smaller is better, -inf when larger. */
double seqrt_monitor_worst(const seqrt_monitor *m);

/* Keras EarlyStopping: after each epoch wait += 1; an improvement (by
 * more than min_delta) makes the epoch the best and wait 0; when wait
 * reaches patience (not after the first epoch) training stops. */
typedef struct seqrt_early_stopping {
    int           enabled;
    seqrt_monitor monitor;
    int           patience;
    double        min_delta;
    int           restore_best; /* after training, the best epoch's weights */
} seqrt_early_stopping;

/* The best epoch and early stopping's count (checkpointed). */
typedef struct seqrt_best_state {
    double   best;       /* the best monitored value (seqrt_monitor_worst before any) */
    uint32_t best_epoch; /* 0: none yet */
    uint32_t wait;       /* epochs since the best */
    uint32_t stopped;    /* the epoch early stopping stopped at; 0: not */
} seqrt_best_state;

/* After epoch `epoch` (from 1) with the monitored value, Keras's
 * EarlyStopping.on_epoch_end: wait += 1; an improvement by more than
 * min_delta makes the epoch the best and wait 0 (returns 1: keep its
 * weights); otherwise, when es is enabled and wait >= patience and the
 * epoch is not the first, stopped = epoch. Returns 0 when not the best. */
int seqrt_best_update(const seqrt_monitor *m, double min_delta, const seqrt_early_stopping *es,
                      seqrt_best_state *st, long epoch, double value);

/* ----------------------------------------------------------------- data */

/*
 * A dataset: count samples of sample_size input values, and (optionally)
 * y_width target values per sample.
 *
 * Inputs are held as the file stored them where that is bytes (IDX ubyte,
 * NumPy uint8: xtype SEQRT_X_U8, multiplied by `scale` = 1/255 when a
 * batch is made: the tutorial's convention, documented in docs/data.md),
 * and as float32 otherwise (every other IDX and NumPy dtype, CSV text:
 * xtype SEQRT_X_F32, never scaled). Targets are always float32 rows of
 * y_width values: a class number (y_width 1, an integer stored exactly),
 * a one-hot or probability row, or real values. Which of these a model
 * needs is its loss's business (seqrt_dataset_check).
 *
 * The loaders (libseqrt_data.a, also inside libseqrt.a: libc, zlib and
 * libzip only) return 0 and a whole dataset, or -1 with one message naming
 * the file and what is wrong, *out zeroed and nothing allocated. They keep
 * no state and write nothing but *out and *err, so they are safe to call
 * on any file (the fuzz targets do). The caller frees with
 * seqrt_dataset_free.
 *
 * Memory follows the bytes a file really holds, never a header's claim:
 * files, gzip or not, are read incrementally and buffers grow as bytes
 * arrive, so a header that announces more than the file holds is reported
 * as truncated ("header says N images, the file holds M") after reading
 * only what is there. A load that would hold more than opts->max_bytes
 * is refused with a message naming the limit and --max-data-bytes.
 */
#define SEQRT_MAX_SAMPLE_DIMS 4

typedef enum seqrt_xtype { SEQRT_X_U8, SEQRT_X_F32 } seqrt_xtype;

typedef struct seqrt_dataset {
    size_t      count;
    int         ndims;                        /* one sample's shape, */
    int64_t     dims[SEQRT_MAX_SAMPLE_DIMS];  /* without the N axis */
    size_t      sample_size;                  /* product of dims */
    seqrt_xtype xtype;
    uint8_t    *pixels;   /* SEQRT_X_U8: count * sample_size bytes */
    float      *values;   /* SEQRT_X_F32: count * sample_size floats */
    float       scale;    /* SEQRT_X_U8: a byte times scale (1/255) */
    int         y_width;  /* targets per sample; 0: none (inputs only) */
    float      *targets;  /* count * y_width */
    char        source[256];        /* file the inputs came from, for messages */
    char        labels_source[256]; /* file the targets came from ("" = source) */
    size_t      first_line; /* CSV: line of sample 0 (sample i is on line
                               first_line + i); 0 otherwise */
} seqrt_dataset;

/* Limits of a load; NULL (or zeroed) means the defaults. */
typedef struct seqrt_load_opts {
    size_t max_bytes;  /* data in memory at most, 0 = the default:
                          seqrt_default_max_data_bytes() */
    size_t used_bytes; /* bytes earlier loads already hold (the training set
                          when loading the test set): counted against
                          max_bytes, so the limit covers all the data */
} seqrt_load_opts;

/* Half of the physical memory (sysconf), SIZE_MAX when unknown. */
size_t seqrt_default_max_data_bytes(void);
/* "N", "NK", "NM", "NG", "NT" (powers of 1024; "MB", "MiB" also read) ->
 * *out; -1 when s is not such a size or is 0. For --max-data-bytes. */
int    seqrt_parse_bytes(const char *s, size_t *out);
/* The bytes a loaded dataset holds: inputs and targets. */
size_t seqrt_dataset_bytes(const seqrt_dataset *d);

/* images.idx + labels.idx, each plain or gzip (detected by content), of
 * any IDX element type (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int,
 * 0x0D float, 0x0E double; big-endian as the format says). Images of
 * type ubyte stay bytes (SEQRT_X_U8, scale 1/255); every other type is
 * read as float32. Labels: one value per sample (a 1-D file, y_width 1)
 * or a 2-D file (N, K) of target rows. labels_path may be NULL: inputs
 * only (y_width 0). */
int  seqrt_load_idx(const char *images_path, const char *labels_path,
                    seqrt_dataset *out, seqrt_error *err);
int  seqrt_load_idx_opts(const char *images_path, const char *labels_path,
                         const seqrt_load_opts *opts, seqrt_dataset *out,
                         seqrt_error *err);
/* DIR/<prefix>-images-idx3-ubyte[.gz] and DIR/<prefix>-labels-idx1-ubyte[.gz],
 * prefix "train" or "t10k". */
int  seqrt_load_mnist_dir(const char *dir, const char *prefix,
                          seqrt_dataset *out, seqrt_error *err);
int  seqrt_load_mnist_dir_opts(const char *dir, const char *prefix,
                               const seqrt_load_opts *opts, seqrt_dataset *out,
                               seqrt_error *err);

/* How a CSV file's columns become inputs and targets. */
typedef struct seqrt_csv_opts {
    const char *target;    /* "NAME[,NAME...]": the target columns by header
                              name (with no_header: by number from 0);
                              NULL: the last column */
    int         no_header; /* line 1 is data; columns are numbered from 0 */
    int         no_target; /* every column is an input (predict on a file
                              without targets); target must be NULL */
} seqrt_csv_opts;

/* CSV (plain or gzip): line 1 is a header of column names (unless
 * no_header); every later line is one sample, every cell a number as
 * strtod reads it (integers, decimals, exponents; "nan"/"inf" are read
 * and refused later by seqrt_dataset_check). RFC 4180 quoting ("a,b",
 * "" inside quotes), CRLF line ends and a UTF-8 byte-order mark are
 * handled. No line is ever skipped: a cell that is not a number, or a row
 * with the wrong number of cells, is an error naming file, line and
 * column. Blank lines are allowed only at the end. Inputs are float32
 * (SEQRT_X_F32, never scaled), ndims 1. */
int  seqrt_load_csv(const char *path, const seqrt_csv_opts *csv,
                    const seqrt_load_opts *opts, seqrt_dataset *out,
                    seqrt_error *err);

/* NumPy's .npz (np.savez, stored, or np.savez_compressed, deflate), read
 * with libzip: the arrays x_<split> and y_<split> (split "train", "test"
 * or "val"; the ".npy" members). .npy versions 1, 2 and 3, little- or
 * big-endian, C order; dtypes uint8 (kept as bytes, scale 1/255), int8,
 * int16, int32, int64, float32, float64 (read as float32). Fortran order,
 * object arrays, structured dtypes and a member that is not there are
 * errors naming the file and the member. y of shape (N,) gives y_width
 * 1, (N, K) y_width K. Returns 1 (not -1) with *out zeroed when the
 * archive simply has no x_<split> (an optional split such as val). */
int  seqrt_load_npz(const char *path, const char *split, const seqrt_load_opts *opts,
                    seqrt_dataset *out, seqrt_error *err);

/* The same loaders on bytes in memory, read exactly as a file's: for the
 * fuzz targets and for callers that hold the bytes. The caller keeps the
 * buffers; messages name "<images>", "<labels>", "<csv>" or "<npz>". */
int  seqrt_load_idx_mem(const void *images, size_t images_len, const void *labels,
                        size_t labels_len, const seqrt_load_opts *opts,
                        seqrt_dataset *out, seqrt_error *err);
int  seqrt_load_csv_mem(const void *text, size_t len, const seqrt_csv_opts *csv,
                        const seqrt_load_opts *opts, seqrt_dataset *out,
                        seqrt_error *err);
int  seqrt_load_npz_mem(const void *zip, size_t len, const char *split,
                        const seqrt_load_opts *opts, seqrt_dataset *out,
                        seqrt_error *err);
/* One .npy array on its own (for the npz loader's fuzz target and for
 * tests): parses the header and converts the values as above. */
typedef struct seqrt_array {
    int      ndims;
    int64_t  dims[SEQRT_MAX_SAMPLE_DIMS + 1];
    size_t   count;   /* product of dims */
    int      is_u8;   /* values held as bytes in u8, else as floats in f32 */
    uint8_t *u8;
    float   *f32;
} seqrt_array;
int  seqrt_load_npy_mem(const void *npy, size_t len, const char *name,
                        const seqrt_load_opts *opts, seqrt_array *out,
                        seqrt_error *err);
void seqrt_array_free(seqrt_array *a);

void seqrt_dataset_free(seqrt_dataset *d);

/*
 * Where a command's data comes from (the trainer's and seqc compare's
 * --data, --test, --target, --no-header), and the sets it gives:
 *   DIR (a directory): IDX, train-* for training, t10k-* for test;
 *   FILE.npz: x_train/y_train, x_test/y_test when present, x_val/y_val
 *             when present;
 *   FILE.csv[.gz] (any other file): the training set; --test FILE.csv
 *             the test set, read with the same columns.
 * seqrt_load_data loads every set there is; test and val are left empty
 * (count 0) when the source has none.
 */
typedef struct seqrt_data_spec {
    const char    *data;   /* --data */
    const char    *test;   /* --test (CSV only; an error with DIR or .npz) */
    seqrt_csv_opts csv;    /* --target, --no-header */
} seqrt_data_spec;

typedef struct seqrt_data_sets {
    seqrt_dataset train, val, test;
} seqrt_data_sets;

int  seqrt_load_data(const seqrt_data_spec *spec, const seqrt_load_opts *opts,
                     seqrt_data_sets *out, seqrt_error *err);
void seqrt_data_sets_free(seqrt_data_sets *s);

/* Keras's validation_split: moves the samples from
 * split_at = floor(count * (1 - fraction)) on (as stored, before any
 * shuffle) into *val (a new dataset; d keeps the first split_at). An error when either part
 * would be empty. 0 < fraction < 1. */
int  seqrt_dataset_split(seqrt_dataset *d, double fraction, seqrt_dataset *val,
                         seqrt_error *err);

/* What a model needs of a dataset's targets, from its loss. */
typedef enum seqrt_target_kind {
    SEQRT_TARGET_CLASS,     /* y_width 1, integers 0..outputs-1
                               (sparse_categorical_crossentropy) */
    SEQRT_TARGET_ROWS,      /* y_width == outputs, rows of values >= 0;
                               or y_width 1 of class numbers, one-hot
                               encoded per batch (categorical_crossentropy) */
    SEQRT_TARGET_BINARY,    /* y_width == outputs, values in [0, 1]
                               (binary_crossentropy) */
    SEQRT_TARGET_VALUES     /* y_width == outputs, finite reals (mse, mae,
                               huber) */
} seqrt_target_kind;

/* Every check a dataset must pass before the first epoch: samples exist;
 * sample_size == input_size (the message shows both shapes); every input
 * finite; targets present (unless need_targets is 0) and of the kind
 * above, naming the file (and for a CSV the line) of the first bad one.
 * One message, naming the file and what is wrong. */
int  seqrt_dataset_check(const seqrt_dataset *d, int input_size, int outputs,
                         seqrt_target_kind kind, int need_targets, seqrt_error *err);

/* Gather n samples order[start..start+n) (order NULL: the identity) into
 * x[n, sample_size] (bytes scaled; skipped when x is NULL), and their
 * targets: labels[n] (the
 * class numbers, (int32)targets[k*y_width]; skipped when labels is NULL
 * or y_width != 1) and t[n, t_width] (skipped when t is NULL): the target
 * rows when t_width == y_width, or one-hot rows of the class numbers when
 * y_width == 1 and t_width > 1. (In libseqrt.a, not in libseqrt_data.a:
 * it uses the runtime's threads.) */
void seqrt_dataset_batch(const seqrt_dataset *d, const uint32_t *order,
                         size_t start, int n, float *x, int32_t *labels,
                         float *t, int t_width);
/* A hint, no value changes: starts loading the bytes of the samples that
 * seqrt_dataset_batch(d, order, start, n, ...) will read, each thread the
 * columns it will gather, so the next batch's cache misses overlap this
 * step's computation. */
void seqrt_dataset_prefetch(const seqrt_dataset *d, const uint32_t *order,
                            size_t start, int n);

/* ------------------------------------------------------ the trainer's model */

/* The kinds' names, as a model file spells them, are in seqrt_names.h;
 * seqc's front end uses these enums and those names directly. */
typedef enum seqrt_optimizer_kind {
    SEQRT_OPT_SGD,
    SEQRT_OPT_ADAM,
    SEQRT_OPT_RMSPROP,
    SEQRT_OPT_COUNT_
} seqrt_optimizer_kind;

typedef enum seqrt_loss_kind {
    SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_BINARY_CROSSENTROPY,
    SEQRT_LOSS_MSE,
    SEQRT_LOSS_MAE,
    SEQRT_LOSS_HUBER,
    SEQRT_LOSS_COUNT_
} seqrt_loss_kind;

/* The targets a loss reads (seqrt_dataset_check, the loop's batches). */
seqrt_target_kind seqrt_loss_targets(seqrt_loss_kind k);

/* Metrics, as Keras names them in `metrics` (seqrt_names.h). The
 * compiler resolves `accuracy` by the loss, as Keras does: sparse or
 * categorical accuracy (arg-max against the class, or against the
 * target row's arg-max) for the cross-entropies, binary_accuracy for
 * binary_crossentropy (printed as "accuracy" then: seqrt_metric.name). */
typedef enum seqrt_metric_kind {
    SEQRT_METRIC_ACCURACY,        /* arg-max == class (or target row's arg-max) */
    SEQRT_METRIC_BINARY_ACCURACY, /* mean over columns of (p > 0.5) == (t > 0.5) */
    SEQRT_METRIC_TOP_K,           /* sparse_top_k_categorical_accuracy, k */
    SEQRT_METRIC_MAE,
    SEQRT_METRIC_MSE,
    SEQRT_METRIC_RMSE,            /* sqrt of the epoch's mean squared error */
    SEQRT_METRIC_AUC,             /* ROC AUC over the epoch, exact (ties
                                     counted half), binary targets */
    SEQRT_METRIC_COUNT_
} seqrt_metric_kind;

#define SEQRT_MAX_METRICS 8 /* entries of a `metrics` line (seqc check) */

typedef struct seqrt_metric {
    seqrt_metric_kind kind;
    const char       *name; /* the column: "accuracy", "mae", "top_5"... as
                               history and progress print it (val_ + name) */
    int               k;    /* SEQRT_METRIC_TOP_K */
} seqrt_metric;

/* What one call of a generated forward/backward sees. */
typedef struct seqrt_step {
    int            n;        /* rows in this mini-batch, 1 <= n <= capacity */
    int            capacity; /* rows the arena was sized for */
    const float   *x;        /* [n, input_size] */
    const int32_t *y;        /* [n] class numbers: for a SEQRT_TARGET_CLASS loss */
    const float   *t;        /* [n, outputs] target rows: for every other loss */
    float         *params;   /* trainable parameters, then non-trainable */
    float         *grads;    /* [trainable_count] */
    float         *arena;    /* activations and their gradients:
                                act_per_sample * capacity floats */
    seqrt_rng     *rng;      /* for dropout: the loop's dropout stream, not
                                the one that draws weights and shuffles */
    /* The global mini-batch this step is a shard of. In one process:
     * comm NULL, row0 0, rows n. Under MPI each rank holds rows
     * [row0, row0 + n) of the `rows` rows all ranks train on together:
     * loss gradients are divided by rows, dropout draws every row's mask
     * and keeps its own, synchronized batchnorm sums over comm. */
    const seqrt_comm *comm;
    int            row0, rows;
    int            bn_average; /* 0: batchnorm layers update their moving
                                statistics with their own momentum; k > 0:
                                this is the k-th batch of a recalibration
                                and they use momentum (k-1)/k, which makes
                                the moving statistics the plain average of
                                the k batches' statistics (PyTorch's
                                update_bn, "precise BN") */
    /* outputs of forward_*: */
    float          loss;     /* mean loss over the n rows; 0 when y and t
                                are both NULL (prediction) */
    const float   *output;   /* [n, outputs]: what the model's last layer
                                gives, with the loss's link applied when
                                from_logits (probabilities), so metrics and
                                predict see probabilities or values */
} seqrt_step;

/* The momentum a batchnorm layer whose own is `own` uses in step s
 * (seqrt_step.bn_average). */
static inline float seqrt_bn_momentum(const seqrt_step *s, float own)
{
    return s->bn_average > 0 ? (float)(s->bn_average - 1) / (float)s->bn_average : own;
}

/* One named block of parameters, so the loop can say which layer a value
 * belongs to (a non-finite weight, a checkpoint report). Names are the
 * ones `seqc summary` prints. */
typedef struct seqrt_param_block {
    const char *layer;   /* "dense", "batch_normalization_1", ... */
    const char *what;    /* "kernel", "bias", "gamma", "beta",
                            "moving_mean", "moving_variance", "mean",
                            "variance" */
    int         line;    /* the layer's line in the model file */
    size_t      offset;  /* first float within params */
    size_t      count;   /* floats */
} seqrt_param_block;

/* A `normalize` layer (Keras Normalization): its mean and variance,
 * `features` floats each at params[mean_offset] and params[var_offset]
 * (non-trainable), are learned from the training set before the first
 * epoch (not when resuming: the checkpoint has them). The layer's input
 * is the data's input times `scale` plus `offset` (the `rescale` layers
 * before it); statistics are per feature over the last axis, each sample
 * giving size/features rows. */
typedef struct seqrt_normalize_spec {
    size_t mean_offset, var_offset;
    int    features;
    float  scale, offset;
} seqrt_normalize_spec;

/* Everything a generated trainer tells the shared training loop. */
typedef struct seqrt_model {
    const char *name;             /* model name from the file */
    const char *source;           /* the model file it was generated from */
    uint64_t    structure_hash;   /* hash of layers, shapes and parameters */
    int         input_ndims;      /* input shape as the model file gives it */
    int64_t     input_dims[SEQRT_MAX_SAMPLE_DIMS];
    int         input_size;       /* features per sample */
    int         outputs;          /* width of the model's output */
    size_t      param_count;      /* floats in params */
    size_t      trainable_count;  /* the first trainable_count of params */
    size_t      act_per_sample;   /* arena floats per row of capacity */
    size_t      opt_state_count;  /* floats of optimizer state (moments) */
    /* params as named blocks in offset order, covering [0, param_count);
     * block_count 0 when a trainer does not describe them */
    const seqrt_param_block *blocks;
    int         block_count;
    const seqrt_normalize_spec *normalize; /* NULL: no normalize layer */
    int         batch_stats_layers; /* layers whose training output depends
                                     on the batch's own statistics
                                     (batchnorm): with any, a training
                                     batch of one sample is meaningless */
    /* the recipe from the file (flags may override epochs, batch, lr, seed,
     * validation_split) */
    seqrt_optimizer_kind optimizer;
    float       lr, momentum, beta1, beta2, epsilon;
    int         nesterov;
    float       rho;              /* rmsprop */
    float       weight_decay;     /* informational: update applies it */
    /* the learning-rate schedule; a history gets an `lr` column when
     * has_schedule (the file has a `schedule` line) */
    int         has_schedule;
    seqrt_schedule schedule;      /* zero: constant */
    seqrt_early_stopping early_stopping;
    int         save_best;        /* --save's weights (evaluate, predict)
                                     are the best epoch's */
    seqrt_monitor best_monitor;   /* what "best" means for restore_best and
                                     save_best: early_stopping's monitor */
    double      best_min_delta;
    seqrt_loss_kind loss;
    int         from_logits;      /* the loss applies softmax/sigmoid itself */
    const seqrt_metric *metrics;  /* the `metrics` line, in its order */
    int         metric_count;
    double      validation_split; /* 0: none; a double, so that the split
                                     point is Keras's int(N * (1 - F)) */
    int         epochs, batch, shuffle;
    uint64_t    seed;
    /* batchnorm controls from the train block (flags may turn them on) */
    int         drop_last;        /* drop every partial final batch */
    int         recalibrate_bn;   /* recompute the moving statistics over
                                     the training set after the last epoch */
    /* generated functions */
    void (*init)(float *params, seqrt_rng *rng);  /* initial weights */
    void (*forward_train)(seqrt_step *s);
    void (*forward_infer)(seqrt_step *s);
    void (*backward)(seqrt_step *s);   /* after forward_train, fills grads */
    /* one optimizer step over the trainable parameters; t counts steps
     * from 1, lr is the epoch's rate (the schedule's, from the file's or
     * --lr's base rate). grads may be clipped in place (clipnorm,
     * clipvalue); weight decay is applied here too, to the blocks the
     * compiler chose. */
    void (*update)(float *params, float *grads, float *opt_state,
                   int64_t t, float lr);
} seqrt_model;

/* The trainer's whole command line: train (default), evaluate, predict,
 * --help. Returns the process exit status. */
int seqrt_main(int argc, char **argv, const seqrt_model *model);
/* The same, as one of comm's ranks training together (NULL: seqrt_main):
 * the global batch split over the ranks, gradients and synchronized
 * batchnorm summed over them, rank 0 alone printing and writing
 * (docs/scale-out.md). libseqrt_mpi's seqrt_mpi_main calls it. */
int seqrt_main_comm(int argc, char **argv, const seqrt_model *model, const seqrt_comm *comm);
/* Defined in libseqrt_mpi.a (runtime/src/loop/mpi.c): MPI_Init,
 * seqrt_main_comm over MPI_COMM_WORLD's ranks, MPI_Finalize: the main of
 * a trainer built by `seqc build --mpi` (compiled with -DSEQRT_MPI). */
int seqrt_mpi_main(int argc, char **argv, const seqrt_model *model);

/* Threads for OpenBLAS (and the runtime); 0 = leave as is. */
void seqrt_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* SEQRT_H */
