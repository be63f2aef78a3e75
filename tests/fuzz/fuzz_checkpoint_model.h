/*
 * fuzz_checkpoint_model.h: the model whose checkpoints fuzz_checkpoint
 * loads and fuzz_checkpoint_seed writes (dense 3 -> 4 with bias, then
 * batchnorm's moving statistics; Adam's two moments), with its parameter
 * blocks, so that the files carry a block table.
 */
#ifndef SEQC_FUZZ_CHECKPOINT_MODEL_H
#define SEQC_FUZZ_CHECKPOINT_MODEL_H

#include "seqrt.h"

enum {
    FUZZ_CKPT_TRAINABLE = 3 * 4 + 4,
    FUZZ_CKPT_PARAMS = FUZZ_CKPT_TRAINABLE + 2 * 4,
    FUZZ_CKPT_OPT = 2 * FUZZ_CKPT_TRAINABLE
};

static inline const seqrt_model *fuzz_checkpoint_model(void)
{
    static const seqrt_param_block blocks[] = {
        {.layer = "dense", .what = "kernel", .line = 3, .offset = 0, .count = 12},
        {.layer = "dense", .what = "bias", .line = 3, .offset = 12, .count = 4},
        {.layer = "batch_normalization", .what = "moving_mean", .line = 4, .offset = 16,
         .count = 4},
        {.layer = "batch_normalization", .what = "moving_variance", .line = 4, .offset = 20,
         .count = 4},
    };
    static const seqrt_model m = {
        .name = "fuzz_tiny",
        .source = "tests/fuzz/fuzz_tiny.seq",
        .structure_hash = 0x5eec0fa2d17e57ull,
        .input_ndims = 1, .input_dims = {3}, .input_size = 3, .outputs = 4,
        .param_count = FUZZ_CKPT_PARAMS,
        .trainable_count = FUZZ_CKPT_TRAINABLE,
        .opt_state_count = FUZZ_CKPT_OPT,
        .blocks = blocks, .block_count = 4,
        .optimizer = SEQRT_OPT_ADAM,
        .lr = 0.001f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f,
        .loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
        .epochs = 3, .batch = 2, .shuffle = 1, .seed = 42,
    };
    return &m;
}

#endif
