/*
 * checkpoint.h: private to libseqrt. Saving and loading a trainer's state
 * (weights, moving statistics, optimizer state, step, epoch, generator) in
 * the binary format described at the top of checkpoint.c and in
 * docs/checkpoint.md.
 */
#ifndef SEQRT_CHECKPOINT_H
#define SEQRT_CHECKPOINT_H

#include "seqrt.h"

#define SEQRT_CHECKPOINT_VERSION 1u

/* Everything in a checkpoint besides the two float arrays. */
typedef struct seqrt_checkpoint_meta {
    int64_t   step;     /* optimizer steps taken so far (Adam's t) */
    uint32_t  epoch;    /* epochs completed */
    uint32_t  epochs;   /* epochs the saving run was asked for */
    uint64_t  seed;     /* the run's seed (informational: rng holds the state) */
    seqrt_rng rng;      /* generator state after `epoch` epochs */
    uint32_t  batch;    /* batch size the run trained with */
    float     lr;       /* learning rate the run trained with */
} seqrt_checkpoint_meta;

/*
 * Write params[model->param_count], opt_state[model->opt_state_count] and
 * meta to `path`: first to "path.tmp.<pid>", flushed and fsync'ed, then
 * renamed over `path`, so `path` is always either the old file or the new
 * one, never half-written. Returns 0, or -1 with err set.
 */
int seqrt_checkpoint_save(const char *path, const seqrt_model *model,
                          const float *params, const float *opt_state,
                          const seqrt_checkpoint_meta *meta, seqrt_error *err);

/*
 * Read `path` written for `model`. Checks, in this order: magic, format
 * version, size, checksum, then that it belongs to this model (name,
 * structure hash, counts). Only when every check passes are params
 * (param_count floats) and opt_state (opt_state_count floats; may be NULL
 * to skip) overwritten. meta may be NULL. Returns 0, or -1 with err set.
 */
int seqrt_checkpoint_load(const char *path, const seqrt_model *model,
                          float *params, float *opt_state,
                          seqrt_checkpoint_meta *meta, seqrt_error *err);

#endif
