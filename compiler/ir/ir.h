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
    /* losses: always the last op */
    IR_SOFTMAX_XENT, /* softmax fused with cross-entropy, from logits */
    IR_XENT,         /* cross-entropy on probabilities */
    IR_MSE,
    IR_OP_KIND_COUNT
} ir_op_kind;

const char *ir_op_kind_name(ir_op_kind k);
bool ir_op_is_loss(ir_op_kind k);

typedef enum ir_tensor_role {
    IR_T_INPUT,   /* the step's x: not in the arena */
    IR_T_ACT,     /* an activation [N, features] */
    IR_T_GRAD,    /* the loss's gradient with respect to an activation */
    IR_T_SAVED,   /* kept from forward for backward: xhat, dropout mask */
    IR_T_STATS,   /* [features] only: a batchnorm's inv_std */
    IR_T_ROLE_COUNT
} ir_tensor_role;

typedef struct ir_tensor {
    const char    *name;     /* "t3", "d_t3", "batchnorm_1.xhat" */
    ir_tensor_role role;
    int64_t        features; /* per sample; -1 until shape inference */
    /* memory plan (pass_memplan.c) */
    int            def, last; /* schedule steps: written first, read last */
    int64_t        offset;    /* floats per sample into the arena; -1 = input */
    int64_t        size;      /* floats per sample reserved */
} ir_tensor;

typedef struct ir_param {
    const char *name;     /* "dense_1.w" */
    const char *cname;    /* "DENSE_1_W", the generated #define */
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
    const char *name;    /* "dense_1", "relu_2", "loss" */
    int         line;    /* source line of its layer (0: none) */
    const char *text;    /* what the layer says, for comments: "dense 128" */
    int         x, y;    /* input and output tensors (flatten: y == x) */
    int         dx, dy;  /* their gradients, IR_NONE when not computed */
    int         param[4];/* dense: w, b; batchnorm: gamma, beta, mean, var */
    int         save[2]; /* batchnorm: xhat, inv_std; dropout: mask */
    int64_t     groups;  /* rows per sample the op sees: a sample keeps the
                            input's shape until flatten or dense, and
                            batchnorm and softmax work on its last axis
                            (Keras), so their kernel sees [N*groups,
                            features/groups]; 1 once flat (pass_shapes.c) */
    int64_t     units;   /* dense */
    bool        bias;    /* dense */
    double      momentum, epsilon; /* batchnorm */
    double      alpha;   /* leaky_relu */
    double      rate;    /* dropout */
    bool        backward;/* runs in backward (pass_backward.c) */
    bool        fused_softmax; /* loss: absorbed the model's final softmax */
} ir_op;

typedef struct ir_model {
    arena      *arena;   /* the compilation's: passes allocate here */
    const model *src;
    const char *name;
    const char *path;
    const char *without; /* "batchnorm, dropout" or NULL: for comments */
    int64_t     input_rows, input_cols, input_size;
    int64_t     classes;
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
int ir_add_param(arena *a, ir_model *ir, int op, const char *suffix,
                 init_kind init, bool trainable);
/* Reports an error at the op's line; always returns 1. */
int ir_error(const ir_model *ir, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The tensor the inference path reads where training reads t: dropout is
 * the identity at inference, so its output resolves to its input. */
int ir_infer_source(const ir_model *ir, int t);

/* FNV-1a 64 of the canonical structure text (layers, shapes, parameter
 * layout; not the recipe). Valid after the memory plan. */
uint64_t ir_structure_hash(const ir_model *ir);
/* The canonical text hashed above, arena-allocated. */
char *ir_structure_text(arena *a, const ir_model *ir);

/* The readable listing `seqc ir` prints. */
void ir_print(FILE *out, const ir_model *ir);

/* "%.9g" of a float, always with a '.' or exponent: round-trips exactly */
void ir_format_float(char *buf, size_t size, double v);

#endif /* SEQC_IR_H */
