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
void seqrt_dropout_backward(size_t n, float rate, const float *mask,
                            const float *dy, float *dx);

/* ---------------------------------------------------------------- losses */
/* Labels are class indices in [0, classes). Losses return the mean over
 * the batch; gradients are already divided by the batch size. */

/* Softmax fused with sparse categorical cross-entropy, from logits:
 * probs = softmax(logits); loss = mean(logsumexp(z) - z[label]). */
float seqrt_softmax_xent_forward(int batch, int classes, const float *logits,
                                 const int32_t *labels, float *probs);
/* dlogits = (probs - onehot(label)) / batch */
void  seqrt_softmax_xent_backward(int batch, int classes, const float *probs,
                                  const int32_t *labels, float *dlogits);

/* Categorical cross-entropy on probabilities (output of a softmax, or of
 * any layer), targets one-hot from labels, clipped at 1e-7 as Keras does. */
float seqrt_xent_forward(int batch, int classes, const float *probs,
                         const int32_t *labels);
void  seqrt_xent_backward(int batch, int classes, const float *probs,
                          const int32_t *labels, float *dprobs);

/* Mean squared error against one-hot(label): mean over batch and classes. */
float seqrt_mse_forward(int batch, int classes, const float *pred,
                        const int32_t *labels);
void  seqrt_mse_backward(int batch, int classes, const float *pred,
                         const int32_t *labels, float *dpred);

/* Number of rows whose arg-max (first maximum) equals the label. */
int seqrt_accuracy_count(int batch, int classes, const float *scores,
                         const int32_t *labels);

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

/* ----------------------------------------------------------------- data */

/* A labelled dataset held as bytes: count samples of sample_size bytes
 * (rows*cols), labels one byte each. Floats are made one batch at a time.
 *
 * The loaders (libseqrt_data.a, also inside libseqrt.a: libc and zlib
 * only) return 0 and a whole dataset, or -1 with one message naming the
 * file and what is wrong, *out zeroed and nothing allocated. They keep no
 * state and write nothing but *out and *err, so they are safe to call on
 * any file (the fuzz targets do). The caller frees with
 * seqrt_dataset_free.
 *
 * Memory follows the bytes a file really holds, never a header's claim:
 * files, gzip or not, are read incrementally and buffers grow as bytes
 * arrive, so a header that announces more than the file holds is reported
 * as truncated ("header says N images, the file holds M") after reading
 * only what is there. A load that would hold more than opts->max_bytes
 * is refused with a message naming the limit and --max-data-bytes. */
typedef struct seqrt_dataset {
    size_t   count;
    int      rows, cols;     /* IDX image shape; CSV: rows = 1, cols = fields-1 */
    size_t   sample_size;    /* rows * cols */
    uint8_t *pixels;         /* count * sample_size */
    uint8_t *labels;         /* count */
    float    scale;          /* multiply a byte by this: 1/255 for IDX */
    char     source[256];    /* file the values came from, for messages */
    char     labels_source[256]; /* file the labels came from ("" = none) */
    size_t   first_line;     /* CSV: line of sample 0 (sample i is on line
                                first_line + i); 0 for IDX */
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
/* The bytes a loaded dataset holds: values and labels. */
size_t seqrt_dataset_bytes(const seqrt_dataset *d);

/* images.idx3 + labels.idx1, each plain or gzip (detected by content).
 * labels_path may be NULL: images only (for prediction), every label 0. */
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
/* CSV (plain or gzip): one sample per line, the label in the first
 * column, then the values, each an integer 0..255, separated by commas.
 * The header rule: a UTF-8 byte-order mark at the start is skipped; line
 * 1 is a header iff at least one of its cells is not a number as C's
 * strtod reads one ("label,x1" is a header; "3,0,7", "nan,1,2" and
 * "1.5,2,3" are data, and the last two are errors). No other line is
 * ever skipped: a cell that is not an integer 0..255 is an error naming
 * file, line and column. Blank lines are allowed only at the end. */
int  seqrt_load_csv(const char *path, seqrt_dataset *out, seqrt_error *err);
int  seqrt_load_csv_opts(const char *path, const seqrt_load_opts *opts,
                         seqrt_dataset *out, seqrt_error *err);
/* The same loaders on bytes in memory (plain, or gzip when they start
 * with its magic), read exactly as a file's: for the fuzz targets and for
 * callers that hold the bytes. The caller keeps the buffers; messages
 * name "<images>", "<labels>" or "<csv>". labels may be NULL as above. */
int  seqrt_load_idx_mem(const void *images, size_t images_len, const void *labels,
                        size_t labels_len, const seqrt_load_opts *opts,
                        seqrt_dataset *out, seqrt_error *err);
int  seqrt_load_csv_mem(const void *text, size_t len, const seqrt_load_opts *opts,
                        seqrt_dataset *out, seqrt_error *err);
void seqrt_dataset_free(seqrt_dataset *d);
/* Error when a label is >= classes (naming the labels file, and for a CSV
 * the line) or the sample size is not features. */
int  seqrt_dataset_check(const seqrt_dataset *d, int features, int classes,
                         seqrt_error *err);
/* Gather n samples order[start..start+n) into x[n,sample_size] (scaled)
 * and y[n]. order == NULL means the identity order. (In libseqrt.a, not
 * in libseqrt_data.a: it uses the runtime's threads.) */
void seqrt_dataset_batch(const seqrt_dataset *d, const uint32_t *order,
                         size_t start, int n, float *x, int32_t *y);
/* A hint, no value changes: starts loading the bytes of the samples that
 * seqrt_dataset_batch(d, order, start, n, ...) will read, each thread the
 * columns it will gather, so the next batch's cache misses overlap this
 * step's computation (added for issue #6). */
void seqrt_dataset_prefetch(const seqrt_dataset *d, const uint32_t *order,
                            size_t start, int n);

/* ------------------------------------------------------ the trainer's model */

/* The kinds' names, as a model file spells them, are in seqrt_names.h;
 * seqc's front end uses these enums and those names directly. */
typedef enum seqrt_optimizer_kind {
    SEQRT_OPT_SGD,
    SEQRT_OPT_ADAM,
    SEQRT_OPT_COUNT_
} seqrt_optimizer_kind;

typedef enum seqrt_loss_kind {
    SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_CATEGORICAL_CROSSENTROPY,
    SEQRT_LOSS_MSE,
    SEQRT_LOSS_COUNT_
} seqrt_loss_kind;

/* What one call of a generated forward/backward sees. */
typedef struct seqrt_step {
    int            n;        /* rows in this mini-batch, 1 <= n <= capacity */
    int            capacity; /* rows the arena was sized for */
    const float   *x;        /* [n, input_size] */
    const int32_t *y;        /* [n] class labels */
    float         *params;   /* trainable parameters, then non-trainable */
    float         *grads;    /* [trainable_count] */
    float         *arena;    /* activations and their gradients:
                                act_per_sample * capacity floats */
    seqrt_rng     *rng;      /* for dropout */
    /* outputs of forward_*: */
    float          loss;     /* mean loss over the n rows */
    int            correct;  /* rows whose arg-max equals the label */
    const float   *output;   /* [n, classes]: the model's output (probs) */
} seqrt_step;

/* One named block of parameters, so the loop can say which layer a value
 * belongs to (a non-finite weight, a checkpoint report). Names are the
 * ones `seqc summary` prints. */
typedef struct seqrt_param_block {
    const char *layer;   /* "dense", "batch_normalization_1", ... */
    const char *what;    /* "kernel", "bias", "gamma", "beta",
                            "moving_mean", "moving_variance" */
    int         line;    /* the layer's line in the model file */
    size_t      offset;  /* first float within params */
    size_t      count;   /* floats */
} seqrt_param_block;

/* Everything a generated trainer tells the shared training loop. */
typedef struct seqrt_model {
    const char *name;             /* model name from the file */
    const char *source;           /* the model file it was generated from */
    uint64_t    structure_hash;   /* hash of layers, shapes and parameters */
    int         input_rows, input_cols; /* input shape (cols=1 for vectors) */
    int         input_size;       /* features per sample */
    int         classes;          /* units of the output */
    size_t      param_count;      /* floats in params */
    size_t      trainable_count;  /* the first trainable_count of params */
    size_t      act_per_sample;   /* arena floats per row of capacity */
    size_t      opt_state_count;  /* floats of optimizer state (moments) */
    /* params as named blocks in offset order, covering [0, param_count);
     * block_count 0 when a trainer does not describe them */
    const seqrt_param_block *blocks;
    int         block_count;
    /* the recipe from the file (flags may override epochs, batch, lr, seed) */
    seqrt_optimizer_kind optimizer;
    float       lr, momentum, beta1, beta2, epsilon;
    int         nesterov;
    seqrt_loss_kind loss;
    int         epochs, batch, shuffle;
    uint64_t    seed;
    /* generated functions */
    void (*init)(float *params, seqrt_rng *rng);  /* initial weights */
    void (*forward_train)(seqrt_step *s);
    void (*forward_infer)(seqrt_step *s);
    void (*backward)(seqrt_step *s);   /* after forward_train, fills grads */
    /* one optimizer step over the trainable parameters; t counts steps
     * from 1, lr may differ from the file's when --lr is given */
    void (*update)(float *params, const float *grads, float *opt_state,
                   int64_t t, float lr);
} seqrt_model;

/* The trainer's whole command line: train (default), evaluate, predict,
 * --help. Returns the process exit status. */
int seqrt_main(int argc, char **argv, const seqrt_model *model);

/* Threads for OpenBLAS (and the runtime); 0 = leave as is. */
void seqrt_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* SEQRT_H */
