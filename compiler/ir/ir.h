/*
 * ir.h: the explicit intermediate representation between the checked model
 * (model.h) and the generated C.
 *
 *   model --lower.c--> ir_model --passes.c (shapes, fuse, backward,
 *   memplan)--> ir_model --codegen_c.c--> trainer.c
 *
 * An ir_model is a list of operations over named tensors. Every tensor is
 * [N, features] with the batch N symbolic (the trainer's --batch may
 * override the file's), except a batchnorm's inv_std, which is [features].
 * The last operation is always the loss. Parameters live in one buffer,
 * trainable ones first (the layout seqrt_model expects); activations,
 * gradients and saved values live in one arena whose offsets the memory
 * plan gives in floats per sample.
 *
 * Everything is allocated in the compilation's arena (arena.h) and freed
 * with it.
 */
#ifndef SEQC_IR_H
#define SEQC_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "util/arena.h"
#include "front/model.h"

typedef enum ir_op_kind {
    IR_DENSE,
    IR_BATCHNORM,
    IR_RELU,
    IR_LEAKY_RELU,
    IR_SIGMOID,
    IR_TANH,
    IR_SOFTMAX,
    IR_DROPOUT,
    IR_FLATTEN,      /* a view: every tensor is already [N, features] */
    IR_RESCALE,      /* x * scale + offset */
    IR_NORMALIZE,    /* (x - mean) / sqrt(variance), per last-axis feature */
    /* images, NHWC: a sample [h, w, c] is h*w*c features in that order */
    IR_CONV2D,       /* Keras Conv2D: kernel [kh, kw, cin, cout] */
    IR_MAXPOOL2D,    /* saves argmax (int32) for backward */
    IR_AVGPOOL2D,
    IR_GLOBAL_AVGPOOL2D,
    IR_GLOBAL_MAXPOOL2D, /* saves argmax (int32) */
    /* the other normalizations (IR_BATCHNORM is the usual one) */
    IR_BATCHNORM_FROZEN, /* moving statistics in training too; trains nothing */
    IR_BATCHNORM_GHOST,  /* statistics per virtual batch of samples */
    IR_BATCHNORM_RENORM, /* batch renormalization (Ioffe 2017) */
    IR_LAYERNORM,        /* per row of the last axis */
    IR_GROUPNORM,        /* per sample and group of channels */
    /* batchnorm + relu + maxpool2d on an image, made by pass_fuse.c: the
     * batchnorm's name, parameters and options, the pool's geometry;
     * saves argmax (int32, -1 where relu passed nothing) and the batch
     * statistics [2c] */
    IR_BN_RELU_MAXPOOL2D,
    /* losses: always the last op. The cross-entropies come in two forms:
     * on probabilities, and from logits with the link (softmax, sigmoid)
     * fused in, which pass_fuse.c makes of a final softmax/sigmoid and
     * lowering makes of from_logits=true. */
    IR_SOFTMAX_XENT, /* sparse categorical cross-entropy, from logits (labels) */
    IR_XENT,         /* sparse categorical cross-entropy on probabilities */
    IR_SOFTMAX_CCE,  /* categorical cross-entropy, from logits (target rows) */
    IR_CCE,          /* categorical cross-entropy on probabilities */
    IR_SIGMOID_BCE,  /* binary cross-entropy, from logits */
    IR_BCE,          /* binary cross-entropy on probabilities */
    IR_MSE,          /* the regression losses: against target rows */
    IR_MAE,
    IR_HUBER,
    IR_OP_KIND_COUNT
} ir_op_kind;

/*
 * One description of each op: what it reads, writes and saves, as the C
 * calls it makes. The memory planner takes each op's reads and writes from
 * these calls, `seqc ir` prints them, and the C generator writes them, so
 * the three cannot disagree.
 *
 * A call is a template: `$NAME` stands for a tensor, a parameter or a
 * number of the op, and a newline continues the argument list on the next
 * line. Tensors: $x, $y (input and output), $dx, $dy (their gradients),
 * $s0, $s1 (the saved tensors, named by `saved`). Parameters: $p0..$p3
 * (values, named by `params`), $g0, $g1 (the trainable ones' gradients).
 * Numbers: $n (batch rows), $rows, $cols (the rows and columns the kernel
 * sees: the last axis for batchnorm, softmax and normalize), $size (values
 * in the batch), $fi, $fo (features in and out), $classes (the output's
 * width), $hw and $ch (an image's positions h*w and channels, for the
 * global pools), $per (rows per sample: the op's groups), $vbatch
 * (a ghost batchnorm's samples per group), $ngroups (groupnorm's groups),
 * $rmax and $dmax (batch renormalization's clipping), $comm (the
 * processes a synchronized batchnorm sums its statistics over: s->comm,
 * or NULL for sync=false),
 * $shape (the address of the layer's static
 * seqrt_conv2d_shape or seqrt_pool2d_shape), and the options $momentum,
 * $epsilon, $alpha, $rate, $scale, $offset, $delta. $scratch is a conv2d
 * call's scratch buffer: a tensor of its own per phase (forward and
 * inference share one, backward has another), written by the call and
 * alive only during it. A loss names its targets as the step has them: s->y
 * (class numbers) or s->t (target rows).
 *
 * Reads and writes: a forward call writes $y, $s0 and $s1, a backward
 * call writes $dx and the $g's; every other tensor it names is read. No op
 * runs in place: an op's outputs never share floats with its inputs (the
 * memory plan keeps both ends of a life, see pass_memplan.c).
 */
typedef struct ir_op_desc {
    const char *name;      /* "dense"; the loss ops' names in `seqc ir` */
    const char *forward;   /* training mode; NULL: a view (flatten) */
    const char *infer;     /* inference mode when it differs from forward;
                              "": the identity (dropout: reads its input) */
    const char *predict;   /* a loss without labels: what still runs ("") */
    const char *backward;  /* NULL: never runs backward */
    const char *params[4]; /* Keras's weight names, in $p order */
    bool        trainable[4];
    const char *saved[2];  /* names of $s0, $s1 */
    bool        is_loss;   /* always the last op; sets s->loss */
    const char *link;      /* a loss from logits: the activation it applies,
                              "softmax" or "sigmoid"; NULL otherwise */
    const char *targets;   /* a loss: "labels" (s->y) or "targets" (s->t) */
} ir_op_desc;

const ir_op_desc *ir_op_info(ir_op_kind k);
const char *ir_op_kind_name(ir_op_kind k);
bool ir_op_is_loss(ir_op_kind k);

/* Which call of an op: the step's three phases. */
typedef enum ir_phase { IR_PHASE_FORWARD, IR_PHASE_INFER, IR_PHASE_PREDICT,
                        IR_PHASE_BACKWARD } ir_phase;
/* The op's call template in that phase: NULL or "" when it has none. */
const char *ir_op_call(const ir_op_desc *d, ir_phase phase);

typedef enum ir_tensor_role {
    IR_T_INPUT,   /* the step's x: not in the arena */
    IR_T_ACT,     /* an activation [N, features] */
    IR_T_GRAD,    /* the loss's gradient with respect to an activation */
    IR_T_SAVED,   /* kept from forward for backward: xhat, dropout mask */
    IR_T_STATS,   /* [features] only: a batchnorm's inv_std */
    IR_T_SCRATCH, /* a conv2d call's scratch, alive during that call only */
    IR_T_ROLE_COUNT
} ir_tensor_role;

typedef struct ir_tensor {
    const char    *name;     /* the layer's output: "dense_1"; its gradient
                                "d_dense_1"; saved: "batch_normalization.xhat" */
    ir_tensor_role role;
    int64_t        features; /* per sample; -1 until shape inference */
    bool           index;    /* int32 values (a max pool's argmax), held in
                                the float arena through a cast: same size
                                and alignment (pass_memplan.c) */
    int64_t        image[3]; /* an activation that is an image: h, w, c
                                (0 otherwise), for comments */
    /* memory plan (pass_memplan.c) */
    int            def, last; /* schedule steps: written first, read last */
    int64_t        offset;    /* floats per sample into the arena; -1 = input */
    int64_t        size;      /* floats per sample reserved */
} ir_tensor;

typedef struct ir_param {
    const char *name;     /* "dense_1.kernel": the summary's layer name */
    const char *what;     /* "kernel", from ir_op_desc.params */
    const char *cname;    /* "DENSE_1_KERNEL", the generated #define */
    int         op;       /* the op that owns it */
    int64_t     rows, cols; /* [rows, cols]; a vector has rows = 1 */
    int64_t     count;
    init_kind   init;
    int64_t     fan_in, fan_out;
    bool        trainable;
    int64_t     offset;   /* floats into params (and grads when trainable) */
} ir_param;

enum { IR_NONE = -1 };

typedef struct ir_op {
    ir_op_kind  kind;
    const char *name;    /* the summary's: "dense_1", "re_lu_1", "loss" */
    int         line;    /* source line of its layer (0: none) */
    const char *text;    /* what the layer says, for comments: "dense 128" */
    int         x, y;    /* input and output tensors (flatten: y == x) */
    int         dx, dy;  /* their gradients, IR_NONE when not computed */
    int         param[4];/* dense: w, b; batchnorm: gamma, beta, mean, var */
    int         save[2]; /* batchnorm: xhat, inv_std; dropout: mask;
                            max pools: argmax */
    int         scratch[2]; /* conv2d: forward's, backward's */
    /* conv2d and the pools: the image read (h, w, c), kernel (pool size),
     * strides, dilations, `same` padding before the first row/column, and
     * the output's rows and columns (seqrt_conv2d_shape's fields) */
    int64_t     in_hwc[3], kernel[2], stride[2], dilation[2], pad[2], out_hw[2];
    int64_t     filters; /* conv2d */
    int64_t     groups;  /* rows per sample the op sees: a sample keeps the
                            input's shape until flatten or dense, and
                            batchnorm and softmax work on its last axis
                            (Keras), so their kernel sees [N*groups,
                            features/groups]; 1 once flat (pass_shapes.c) */
    int64_t     units;   /* dense */
    bool        bias;    /* dense, conv2d */
    double      momentum, epsilon; /* batchnorm; epsilon: layernorm, groupnorm */
    int64_t     virtual_batch; /* batchnorm_ghost: samples per ghost batch */
    bool        sync;    /* batchnorm, renorm (and the fused block): the
                            statistics over every MPI process's rows ($comm
                            is s->comm); false: this process's ($comm NULL).
                            Not in the structure hash: it changes no
                            parameter, so a checkpoint loads either way */
    int64_t     norm_groups;   /* groupnorm: groups of channels */
    double      rmax, dmax;    /* batchnorm_renorm's clipping */
    double      alpha;   /* leaky_relu */
    double      rate;    /* dropout */
    double      scale, offset; /* rescale */
    double      delta;   /* huber */
    bool        backward;/* runs in backward (pass_backward.c) */
    bool        fused_softmax; /* loss: absorbed the model's final softmax or
                                  sigmoid (pass_fuse.c) */
    bool        from_logits;   /* loss: from_logits=true in the file */
    /* an op pass_fuse.c made of several: the ops it replaced, as lowering
     * made them (their tensors no longer exist), in order; the structure
     * text is theirs, so fusing changes no checkpoint's hash. 0: none */
    int         nparts;
    const struct ir_op *parts;
} ir_op;

typedef struct ir_model {
    arena      *arena;   /* the compilation's: passes allocate here */
    const model *src;
    const char *name;
    const char *path;
    const char *without; /* "batchnorm, dropout" or NULL: for comments */
    const char *replaced; /* "layernorm instead of batchnorm" or NULL (--replace):
                             for comments */
    int64_t     input_rows, input_cols, input_size;
    int         input_ndims;   /* the input's shape as the file writes it */
    int64_t     input_dims[AST_MAX_DIMS];
    int64_t     classes;       /* the output's width (seqrt_model.outputs) */
    int         nops, nops_cap;
    ir_op      *ops;
    int         ntensors, ntensors_cap;
    ir_tensor  *tensors;
    int         nparams, nparams_cap;
    ir_param   *params;
    int         input;   /* tensor of the step's x */
    int         output;  /* tensor the step's output points at */
    /* filled by the passes */
    int64_t     param_count, trainable_count;
    int64_t     act_per_sample;
    int64_t     opt_state_count;
    int         nsteps;  /* forward + backward schedule length */
    int         passes_run;
    bool        no_reuse; /* memory plan: every buffer its own floats */
    bool        no_block_fusion; /* fuse: leave batchnorm + relu + maxpool2d
                                    apart (tests compare the two) */
    train_recipe train;
} ir_model;

/* lower.c: a checked model to IR (before any pass). without names the
 * dropped layer kinds for the generated comments (NULL: none). */
ir_model *ir_lower(arena *a, const model *m, const char *without);

/* passes.c: every pass in order. Returns 0, or 1 after printing an error.
 * stop_after: run up to and including the pass of that name (NULL: all);
 * unknown names are an error. */
int ir_run_passes(ir_model *ir, const char *stop_after);
/* "shapes fuse backward memplan": for messages */
const char *ir_pass_names(void);

/* Each pass: 0, or 1 after printing FILE:LINE: error: MESSAGE. */
int ir_pass_shapes(ir_model *ir);
int ir_pass_fuse(ir_model *ir);
int ir_pass_backward(ir_model *ir);
int ir_pass_memplan(ir_model *ir);

/* ir.c: construction helpers (arena-backed, capacity fixed at lowering) */
int ir_add_tensor(arena *a, ir_model *ir, const char *name, ir_tensor_role role,
                  int64_t features);
/* Parameter k of op (ir_op_desc.params[k], trainable as the table says),
 * stored in op->param[k]. */
int ir_add_param(arena *a, ir_model *ir, int op, int k, init_kind init);
/* Saved tensor k of op (ir_op_desc.saved[k]) of `features` values per
 * sample, stored in op->save[k]. */
int ir_add_saved(arena *a, ir_model *ir, int op, int k, ir_tensor_role role,
                 int64_t features);
/* Reports an error at the op's line; always returns 1. */
int ir_error(const ir_model *ir, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The tensor that `$tok` (len bytes, without the '$') names in op's call
 * in phase: IR_NONE when the op has none (the C passes NULL), or
 * IR_CALL_NOT_A_TENSOR for a parameter or a number. *write tells whether
 * the call writes it. In inference, $x is read through dropouts. */
enum { IR_CALL_NOT_A_TENSOR = -2 };
int ir_call_token(const ir_model *ir, const ir_op *op, ir_phase phase, const char *tok,
                  size_t len, bool *write);

/* The tensors op's call in phase reads and writes (at most 8 each), in the
 * order the call names them; IR_NONE slots are left out. */
typedef struct ir_io {
    int nreads, nwrites;
    int reads[8], writes[8];
} ir_io;
void ir_op_io(const ir_model *ir, const ir_op *op, ir_phase phase, ir_io *io);

/* The tensor the inference path reads where training reads t: dropout is
 * the identity at inference, so its output resolves to its input. */
int ir_infer_source(const ir_model *ir, int t);

/* FNV-1a 64 of the canonical structure text: what determines the numbers
 * a checkpoint holds and the step computes (op kinds, shapes, the options
 * that change the step, the loss, the parameter layout). Not names, lines,
 * comments, the file's path or the recipe. Valid after the memory plan. */
uint64_t ir_structure_hash(const ir_model *ir);
/* The canonical text hashed above, arena-allocated. */
char *ir_structure_text(arena *a, const ir_model *ir);

/* The readable listing `seqc ir` prints. */
void ir_print(FILE *out, const ir_model *ir);

/* "%.9g" of a float, always with a '.' or exponent: round-trips exactly */
void ir_format_float(char *buf, size_t size, double v);

#endif /* SEQC_IR_H */
