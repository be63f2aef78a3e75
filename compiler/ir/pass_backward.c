/*
 * pass_backward.c: which ops run in backward, and their gradient tensors.
 *
 * The loss's gradient is needed with respect to an activation only when
 * some op before it (closer to the input) has trainable parameters: the
 * first dense layer's dx, and any activation in front of it, are never
 * computed. An op runs backward when it has parameters or its dx is
 * needed. One gradient tensor d_T exists per activation T that needs it;
 * flatten is a view, so its input and output share one.
 */
#include "ir/ir.h"
#include "util/bug.h"

#include <string.h>

/* whether op has a trainable parameter (a batchnorm with center=false
 * and scale=false has none, a frozen one neither) */
static bool has_params(const ir_model *ir, const ir_op *op)
{
    for (int k = 0; k < 4; k++)
        if (op->param[k] != IR_NONE && ir->params[op->param[k]].trainable)
            return true;
    return false;
}

/* d_T for activation t, made on first request */
static int grad_of(ir_model *ir, int *grads, int t)
{
    if (grads[t] == IR_NONE)
        grads[t] = ir_add_tensor(ir->arena, ir,
                                 arena_printf(ir->arena, "d_%s", ir->tensors[t].name),
                                 IR_T_GRAD, ir->tensors[t].features);
    /* an image's gradient is an image of the same shape */
    memcpy(ir->tensors[grads[t]].image, ir->tensors[t].image, sizeof ir->tensors[t].image);
    return grads[t];
}

int ir_pass_backward(ir_model *ir)
{
    int ntensors = ir->ntensors;
    int *grads = arena_array(ir->arena, (size_t)ntensors, sizeof *grads);
    for (int t = 0; t < ntensors; t++)
        grads[t] = IR_NONE;

    bool params_before = false; /* an op before op i has parameters */
    for (int i = 0; i < ir->nops; i++) {
        ir_op *op = &ir->ops[i];
        bool need_dx = params_before && op->kind != IR_FLATTEN;
        op->backward = need_dx || has_params(ir, op);
        if (need_dx)
            op->dx = grad_of(ir, grads, op->x);
        if (has_params(ir, op))
            params_before = true;
    }
    /* dy: the gradient of the op's output, written by a later op's dx */
    for (int i = 0; i < ir->nops; i++) {
        ir_op *op = &ir->ops[i];
        if (op->backward && !ir_op_is_loss(op->kind))
            op->dy = grads[op->y];
        if (op->backward && !ir_op_is_loss(op->kind) && op->dy == IR_NONE)
            SEQC_BUG("%s runs backward without d_%s", op->name, ir->tensors[op->y].name);
    }
    return 0;
}
