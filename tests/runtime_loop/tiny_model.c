/*
 * tiny_model.c: a seqrt_model written by hand, standing in for what seqc
 * generates, so the shared training loop can be tested on its own:
 *
 *   model tiny { input 28x28; dense 10; softmax }
 *   train { optimizer adam lr=0.005; loss sparse_categorical_crossentropy
 *           metrics accuracy; epochs 2; batch 32; shuffle true; seed 42 }
 *
 * Built several times (tests/runtime_loop/CMakeLists.txt), each a model
 * of its own name and structure hash, so each refuses the others'
 * checkpoints:
 *   TINY_BIAS=0       "tiny_nobias": dense bias=false
 *   TINY_METRICS=N    the metrics line: 0 none, 1 accuracy (the default),
 *                     2 accuracy and sparse_top_k_categorical_accuracy k=3
 *   TINY_DROPOUT=1    "tiny_dropout": dropout 0.5 on the input before the
 *                     dense layer (the masks come from seqrt_step.rng)
 *   TINY_NORMALIZE=1  "tiny_norm": rescale 2 offset=-1, then normalize
 *                     (features 28: the last axis of 28x28) before the
 *                     dense layer; its mean and variance (28 each) are
 *                     non-trainable parameters after w and b
 *
 * Memory plan (static, per row of the batch capacity):
 *   arena[0          .. cap*10)  logits   [cap,10]
 *   arena[cap*10     .. cap*20)  probs    [cap,10]
 *   arena[cap*20     .. cap*30)  dlogits  [cap,10]
 *   arena[cap*30     .. cap*814) the dense layer's input [cap,784]
 *                                (dropout or normalize only)
 *   arena[cap*814    .. cap*1598) dropout's mask [cap,784] (dropout only)
 * params: w [784,10], then b [10] (unless TINY_BIAS=0), then normalize's
 * mean [28] and variance [28]. opt_state: Adam m then v.
 * The parameters are described as named blocks (seqrt_model.blocks), as
 * `seqc summary` names them, so the loop can name the layer of a bad value.
 *
 * Hooks for the tests, from the environment:
 *   TINY_NAN_AT_STEP=N  the update of optimizer step N writes a NaN into
 *                       the last trainable parameter (the bias, or the
 *                       last weight), as an overflowing update would;
 *   TINY_TRACE=FILE     every forward_train appends one line to FILE: a
 *                       hash of the batch's inputs s->x, i.e. which
 *                       samples came in which order (the loop's shuffle),
 *                       so two runs' sample orders can be compared.
 */
#include "seqrt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TINY_BIAS
#define TINY_BIAS 1
#endif
#ifndef TINY_METRICS
#define TINY_METRICS 1
#endif
#ifndef TINY_DROPOUT
#define TINY_DROPOUT 0
#endif
#ifndef TINY_NORMALIZE
#define TINY_NORMALIZE 0
#endif

#define DROP_RATE 0.5f
#define NORM_SCALE 2.0f
#define NORM_OFFSET (-1.0f)

enum {
    IN = 784, OUT = 10, FEAT = 28, W_COUNT = IN * OUT,
    T_COUNT = W_COUNT + (TINY_BIAS ? OUT : 0),             /* trainable */
    P_COUNT = T_COUNT + (TINY_NORMALIZE ? 2 * FEAT : 0),
    HAS_INPUT_COPY = TINY_DROPOUT || TINY_NORMALIZE,
    ACT = 3 * OUT + (HAS_INPUT_COPY ? IN : 0) + (TINY_DROPOUT ? IN : 0)
};

static float *bias(float *params)
{
    return TINY_BIAS ? params + W_COUNT : NULL;
}

static void tiny_init(float *params, seqrt_rng *rng)
{
    seqrt_init(params, W_COUNT, SEQRT_INIT_GLOROT_UNIFORM, IN, OUT, rng);
    if (TINY_BIAS)
        memset(params + W_COUNT, 0, OUT * sizeof(float));
    for (int f = 0; TINY_NORMALIZE && f < FEAT; f++) { /* Keras's initial state */
        params[T_COUNT + f] = 0.0f;
        params[T_COUNT + FEAT + f] = 1.0f;
    }
}

/* One line per training step: FNV-1a of the batch's input bytes. */
static void trace(const seqrt_step *s)
{
    const char *path = getenv("TINY_TRACE");
    if (!path)
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = (const unsigned char *)s->x;
    for (size_t i = 0; i < (size_t)s->n * IN * sizeof(float); i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%d %016llx\n", s->n, (unsigned long long)h);
        fclose(f);
    }
}

/* The dense layer's input: x itself, or x after normalize / dropout. */
static const float *dense_input(seqrt_step *s, int train)
{
    if (!HAS_INPUT_COPY)
        return s->x;
    float *in = s->arena + (size_t)s->capacity * 3 * OUT; /* [n,784] */
    size_t count = (size_t)s->n * IN;
    if (TINY_NORMALIZE) {
        const float *mean = s->params + T_COUNT, *var = mean + FEAT;
        for (size_t i = 0; i < count; i++) {
            size_t f = i % FEAT;
            float sd = sqrtf(var[f]);
            in[i] = (s->x[i] * NORM_SCALE + NORM_OFFSET - mean[f]) / (sd > 1e-7f ? sd : 1e-7f);
        }
    }
    if (TINY_DROPOUT) {
        float *mask = in + (size_t)s->capacity * IN; /* [n,784] */
        if (train)
            seqrt_dropout_rows_forward_train(s->n, s->row0, s->rows, IN, DROP_RATE, s->x, in,
                                             mask, s->rng);
        else
            memcpy(in, s->x, count * sizeof *in);
    }
    return in;
}

/* dense 10 + softmax fused with the cross-entropy. */
static void tiny_run(seqrt_step *s, int train)
{
    float *logits = s->arena;                            /* [n,10] */
    float *probs = s->arena + (size_t)s->capacity * OUT; /* [n,10] */
    if (train)
        trace(s);
    const float *in = dense_input(s, train);
    seqrt_dense_forward(s->n, IN, OUT, in, s->params, bias(s->params), logits);
    if (s->y) {
        s->loss = seqrt_softmax_xent_forward(s->n, OUT, logits, s->y, probs);
    } else { /* prediction without labels */
        seqrt_softmax_forward(s->n, OUT, logits, probs);
        s->loss = 0.0f;
    }
    s->output = probs;
}

static void tiny_forward_train(seqrt_step *s)
{
    tiny_run(s, 1);
}

static void tiny_forward_infer(seqrt_step *s)
{
    tiny_run(s, 0);
}

static void tiny_backward(seqrt_step *s)
{
    const float *probs = s->arena + (size_t)s->capacity * OUT;   /* [n,10] */
    float *dlogits = s->arena + (size_t)s->capacity * OUT * 2;   /* [n,10] */
    const float *in = HAS_INPUT_COPY ? s->arena + (size_t)s->capacity * 3 * OUT : s->x;
    seqrt_softmax_xent_backward(s->n, s->rows, OUT, probs, s->y, dlogits);
    seqrt_dense_backward(s->n, IN, OUT, in, s->params, dlogits, NULL, s->grads,
                         TINY_BIAS ? s->grads + W_COUNT : NULL);
}

static void tiny_update(float *params, float *grads, float *opt_state, int64_t t,
                        float lr)
{
    seqrt_adam_step(T_COUNT, params, grads, opt_state, opt_state + T_COUNT, t, lr, 0.9f,
                    0.999f, 1e-7f);
    const char *poison = getenv("TINY_NAN_AT_STEP");
    if (poison && atoll(poison) == t)
        params[T_COUNT - 1] = NAN;
}

static const seqrt_param_block tiny_blocks[] = {
    {.layer = "dense", .what = "kernel", .line = 2, .offset = 0, .count = W_COUNT},
#if TINY_BIAS
    {.layer = "dense", .what = "bias", .line = 2, .offset = W_COUNT, .count = OUT},
#endif
#if TINY_NORMALIZE
    {.layer = "normalize", .what = "mean", .line = 2, .offset = T_COUNT, .count = FEAT},
    {.layer = "normalize", .what = "variance", .line = 2, .offset = T_COUNT + FEAT,
     .count = FEAT},
#endif
};

static const seqrt_metric tiny_metrics[] = {
    {.kind = SEQRT_METRIC_ACCURACY, .name = "accuracy"},
    {.kind = SEQRT_METRIC_TOP_K, .name = "sparse_top_k_categorical_accuracy", .k = 3},
};

#if TINY_NORMALIZE
static const seqrt_normalize_spec tiny_normalize = {
    .mean_offset = T_COUNT, .var_offset = T_COUNT + FEAT, .features = FEAT,
    .scale = NORM_SCALE, .offset = NORM_OFFSET,
};
#endif

#if TINY_NORMALIZE
#define TINY_NAME "tiny_norm"
#define TINY_HASH 0x74696e7900000004ull
#elif TINY_DROPOUT
#define TINY_NAME "tiny_dropout"
#define TINY_HASH 0x74696e7900000003ull
#elif TINY_BIAS
#define TINY_NAME "tiny"
#define TINY_HASH 0x74696e7900000001ull
#else
#define TINY_NAME "tiny_nobias"
#define TINY_HASH 0x74696e7900000002ull
#endif

int main(int argc, char **argv)
{
    static const seqrt_model model = {
        .name = TINY_NAME, .source = TINY_NAME ".seq", .structure_hash = TINY_HASH,
        .input_ndims = 2, .input_dims = {28, 28}, .input_size = IN, .outputs = OUT,
        .param_count = P_COUNT, .trainable_count = T_COUNT,
        .act_per_sample = ACT, .opt_state_count = 2 * T_COUNT,
        .blocks = tiny_blocks, .block_count = (int)(sizeof tiny_blocks / sizeof tiny_blocks[0]),
#if TINY_NORMALIZE
        .normalize = &tiny_normalize,
#endif
        .optimizer = SEQRT_OPT_ADAM, .lr = 0.005f, .beta1 = 0.9f, .beta2 = 0.999f,
        .epsilon = 1e-7f, .loss = SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
        .metrics = tiny_metrics, .metric_count = TINY_METRICS,
        .epochs = 2, .batch = 32, .shuffle = 1, .seed = 42,
        .init = tiny_init, .forward_train = tiny_forward_train,
        .forward_infer = tiny_forward_infer, .backward = tiny_backward, .update = tiny_update,
    };
    return seqrt_main(argc, argv, &model);
}
