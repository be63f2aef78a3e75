/*
 * checkpoint.h: private to libseqrt. Saving and loading a trainer's state
 * (weights, moving statistics, optimizer state, step, epoch, generator) in
 * the binary format described at the top of checkpoint.c and in
 * docs/checkpoint.md.
 */
#ifndef SEQRT_CHECKPOINT_H
#define SEQRT_CHECKPOINT_H

#include "seqrt.h"

/* Version 4: the training recipe's state (plateau, early stopping, the
 * best epoch and its weights); version 3 files are refused with that
 * reason. Version 3: the dropout generator's state (issue #12: dropout has its
 * own stream); version 2 files are refused with that reason. Version 2:
 * the structure hash no longer counts the model file's comments; version
 * 1 files are refused with that reason. */
#define SEQRT_CHECKPOINT_VERSION 4u

/* The ranges a trainer accepts for --epochs and --batch, and so the
 * ranges a checkpoint's fields must be in. */
#define SEQRT_MAX_EPOCHS 1000000
#define SEQRT_MAX_BATCH  (1 << 20)

/* Everything in a checkpoint besides the two float arrays. */
typedef struct seqrt_checkpoint_meta {
    int64_t   step;     /* optimizer steps taken so far (Adam's t) */
    uint32_t  epoch;    /* epochs completed */
    uint32_t  epochs;   /* epochs the saving run was asked for */
    uint64_t  seed;     /* the run's seed (informational: rng holds the state) */
    seqrt_rng rng;      /* generator state after `epoch` epochs: the stream
                           that drew the weights and draws the shuffles */
    seqrt_rng dropout_rng; /* the dropout stream's state, the same way */
    uint32_t  batch;    /* batch size the run trained with */
    float     lr;       /* base learning rate the run trained with (the
                           file's or --lr; the schedule starts from it) */
    /* version 4: the recipe's state after `epoch` epochs */
    float     plateau_lr;   /* a plateau schedule's current rate; 0: none */
    uint32_t  plateau_wait; /* its epochs without improvement */
    double    plateau_best; /* its best monitored value (+-inf: none yet) */
    uint32_t  es_wait;      /* early stopping's epochs without improvement */
    uint32_t  best_epoch;   /* the best epoch so far (0: none, or not tracked) */
    double    best;         /* its monitored value (+-inf: none yet) */
    uint32_t  stopped;      /* the epoch early stopping stopped at; 0: not */
    uint32_t  flags;        /* SEQRT_CKPT_* */
    /* save: with SEQRT_CKPT_HAS_BEST, param_count floats of the best
     * epoch's weights (load leaves it NULL: see seqrt_checkpoint_load_best) */
    const float *best_params;
} seqrt_checkpoint_meta;

/* seqrt_checkpoint_meta.flags */
enum {
    SEQRT_CKPT_HAS_BEST = 1u, /* the best epoch's weights follow the optimizer state */
    SEQRT_CKPT_USE_BEST = 2u  /* evaluate and predict use them (save_best,
                                 early_stopping restore_best=true) */
};

/* An flock held on the checkpoint a trainer saves, so that a second
 * trainer saving to the same path is refused instead of the two silently
 * overwriting each other's epochs. */
typedef struct seqrt_checkpoint_lock {
    int fd; /* holds the lock on the file at the path, or -1 */
} seqrt_checkpoint_lock;

void seqrt_checkpoint_lock_init(seqrt_checkpoint_lock *lk);
/* Lock the file now at path (none there, or a device: nothing to lock).
 * Returns 0, or -1 with err set when another process holds it. */
int  seqrt_checkpoint_lock_acquire(seqrt_checkpoint_lock *lk, const char *path, seqrt_error *err);
void seqrt_checkpoint_lock_release(seqrt_checkpoint_lock *lk);

/*
 * Write params[model->param_count], opt_state[model->opt_state_count] and
 * meta to `path` through seqrt_outfile: `path` is always either the old
 * file or the new one, never half-written; a symlink is written through,
 * a device in place. lk (may be NULL): checked first (another trainer's
 * file at path is refused), then moved to the new file before it appears
 * at path. Returns 0, or -1 with err set.
 */
int seqrt_checkpoint_save(const char *path, const seqrt_model *model,
                          const float *params, const float *opt_state,
                          const seqrt_checkpoint_meta *meta, seqrt_checkpoint_lock *lk,
                          seqrt_error *err);

/*
 * Read `path` written for `model`, never more bytes than a checkpoint of
 * the model can have. Checks, in this order: magic, format version, size,
 * checksum, that it belongs to this model (name, structure hash, counts),
 * that every field is in range (epochs, steps, generator states, batch,
 * learning rate), that every value is finite and moving variances are not
 * negative. Only when every check passes are params (param_count floats)
 * and opt_state (opt_state_count floats; may be NULL to skip) overwritten.
 * meta may be NULL. Returns 0, or -1 with err set (one line per problem).
 */
int seqrt_checkpoint_load(const char *path, const seqrt_model *model,
                          float *params, float *opt_state,
                          seqrt_checkpoint_meta *meta, seqrt_error *err);
/* The same, for --resume: params get the last epoch's weights and best
 * (param_count floats) the best epoch's, or a copy of params when the
 * file has none. seqrt_checkpoint_load is this with best NULL, which
 * loads the best epoch's weights into params when the file says
 * SEQRT_CKPT_USE_BEST: the weights evaluate and predict use. */
int seqrt_checkpoint_load_best(const char *path, const seqrt_model *model, float *params,
                               float *opt_state, float *best, seqrt_checkpoint_meta *meta,
                               seqrt_error *err);

/*
 * --init-from: only the parameters (params, param_count floats) of a
 * checkpoint at path, read and checked as seqrt_checkpoint_load does,
 * except that the model's name, structure hash, optimizer state and the
 * order of the parameters may differ (a batchnorm flag, the train block
 * or the optimizer changed). Every block of the model is loaded from the
 * checkpoint's block of the same (layer, what) and count, wherever that
 * sits in the checkpoint's array (a frozen batchnorm's gamma and beta
 * move behind the trainable parameters); a block of the model missing in
 * the checkpoint, one with another count, or a checkpoint block the model
 * lacks is an error naming them. When the model or the file names no
 * blocks, the parameter and trainable counts must be the model's and the
 * floats are copied as they are. from (from_size bytes) gets the
 * checkpoint's model name; was_trainable (block_count ints, may be NULL)
 * whether each of the model's blocks was trainable in the checkpoint.
 * Returns 0, or -1 with err set (the message starts with path).
 */
int seqrt_checkpoint_load_weights(const char *path, const seqrt_model *model, float *params,
                                  seqrt_checkpoint_meta *meta, char *from, size_t from_size,
                                  int *was_trainable, seqrt_error *err);

/* Index of the first NaN or infinity in x[0..n), or n when all are finite. */
size_t seqrt_first_nonfinite(const float *x, size_t n);
/* The model's block holding params[offset], or NULL (block_count 0). */
const seqrt_param_block *seqrt_param_block_of(const seqrt_model *m, size_t offset);
/* "layer 'dense' (kernel, line 3), parameter offset 12 of 7850", or
 * "parameter offset 12 of 7850" when the model names no blocks. */
void seqrt_describe_param(const seqrt_model *m, size_t offset, char *buf, size_t size);

#endif
