/*
 * tiny_model.c: a seqrt_model written by hand, standing in for what seqc
 * generates, so the shared training loop can be tested on its own:
 *
 *   model tiny { input 28x28; dense 10; softmax }
 *   train { optimizer adam lr=0.005; loss sparse_categorical_crossentropy
 *           epochs 2; batch 32; shuffle true; seed 42 }
 *
 * Built twice: TINY_BIAS=1 gives the model "tiny"; TINY_BIAS=0 gives
 * "tiny_nobias" (dense bias=false), another model whose checkpoints the
 * first must refuse and the other way round.
 *
 * Memory plan (static, per row of the batch capacity):
 *   arena[0          .. cap*10)  logits   [cap,10]
 *   arena[cap*10     .. cap*20)  probs    [cap,10]
 *   arena[cap*20     .. cap*30)  dlogits  [cap,10]
 * params: w [784,10], then b [10] (tiny only). opt_state: Adam m then v.
 * The parameters are described as named blocks (seqrt_model.blocks), as
 * `seqc summary` names them, so the loop can name the layer of a bad value.
 *
 * Fault injection for the tests: with TINY_NAN_AT_STEP=N in the
 * environment, the update of optimizer step N writes a NaN into the bias
 * (tiny) or the last weight (tiny_nobias), as an overflowing update would.
 */
#include "seqrt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef TINY_BIAS
#define TINY_BIAS 1
#endif

enum { IN = 784, OUT = 10, W_COUNT = IN * OUT, P_COUNT = W_COUNT + (TINY_BIAS ? OUT : 0) };

static float *bias(float *params)
{
    return TINY_BIAS ? params + W_COUNT : NULL;
}

static void tiny_init(float *params, seqrt_rng *rng)
{
    seqrt_init(params, W_COUNT, SEQRT_INIT_GLOROT_UNIFORM, IN, OUT, rng);
    if (TINY_BIAS)
        memset(params + W_COUNT, 0, OUT * sizeof(float));
}

/* dense 10 + softmax fused with the cross-entropy; the same in training
 * and inference since the model has no batchnorm or dropout. */
static void tiny_forward(seqrt_step *s)
{
    float *logits = s->arena;                         /* [n,10] */
    float *probs = s->arena + (size_t)s->capacity * OUT; /* [n,10] */
    seqrt_dense_forward(s->n, IN, OUT, s->x, s->params, bias(s->params), logits);
    if (s->y) {
        s->loss = seqrt_softmax_xent_forward(s->n, OUT, logits, s->y, probs);
    } else { /* prediction without labels */
        seqrt_softmax_forward(s->n, OUT, logits, probs);
        s->loss = 0.0f;
    }
    s->output = probs;
}

static void tiny_backward(seqrt_step *s)
{
    const float *probs = s->arena + (size_t)s->capacity * OUT;   /* [n,10] */
    float *dlogits = s->arena + (size_t)s->capacity * OUT * 2;   /* [n,10] */
    seqrt_softmax_xent_backward(s->n, OUT, probs, s->y, dlogits);
    seqrt_dense_backward(s->n, IN, OUT, s->x, s->params, dlogits, NULL, s->grads,
                         TINY_BIAS ? s->grads + W_COUNT : NULL);
}

static void tiny_update(float *params, const float *grads, float *opt_state, int64_t t,
                        float lr)
{
    seqrt_adam_step(P_COUNT, params, grads, opt_state, opt_state + P_COUNT, t, lr, 0.9f,
                    0.999f, 1e-7f);
    const char *poison = getenv("TINY_NAN_AT_STEP");
    if (poison && atoll(poison) == t)
        params[P_COUNT - 1] = NAN;
}

static const seqrt_param_block tiny_blocks[] = {
    {.layer = "dense", .what = "kernel", .line = 2, .offset = 0, .count = W_COUNT},
#if TINY_BIAS
    {.layer = "dense", .what = "bias", .line = 2, .offset = W_COUNT, .count = OUT},
#endif
};

int main(int argc, char **argv)
{
    static const seqrt_model model = {
        .name = TINY_BIAS ? "tiny" : "tiny_nobias",
        .source = TINY_BIAS ? "tiny.seq" : "tiny_nobias.seq",
        .structure_hash = TINY_BIAS ? 0x74696e7900000001ull : 0x74696e7900000002ull,
        .input_ndims = 2, .input_dims = {28, 28}, .input_size = IN, .outputs = OUT,
        .param_count = P_COUNT, .trainable_count = P_COUNT,
        .act_per_sample = 3 * OUT, .opt_state_count = 2 * P_COUNT,
        .blocks = tiny_blocks, .block_count = (int)(sizeof tiny_blocks / sizeof tiny_blocks[0]),
        .optimizer = SEQRT_OPT_ADAM, .lr = 0.005f, .beta1 = 0.9f, .beta2 = 0.999f,
        .epsilon = 1e-7f, .loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
        .epochs = 2, .batch = 32, .shuffle = 1, .seed = 42,
        .init = tiny_init, .forward_train = tiny_forward, .forward_infer = tiny_forward,
        .backward = tiny_backward, .update = tiny_update,
    };
    return seqrt_main(argc, argv, &model);
}
