/*
 * pass_shapes.c: shape inference and the checks that need shapes.
 *
 * Every tensor is [N, features]: dense sets features to its units, every
 * other layer keeps them. Parameter shapes follow (dense w [in, units],
 * b [units]; batchnorm gamma, beta, moving_mean, moving_var [features]).
 * The limits checked here are the ones the generated code relies on:
 * CBLAS takes int dimensions, labels are class indices.
 */
#include "ir/ir.h"

#include <inttypes.h>
#include <limits.h>

/* keep a whole model well inside what a size_t index and a checkpoint hold */
#define MAX_PARAMS ((int64_t)1 << 34)

static void set_param(ir_model *ir, int p, int64_t rows, int64_t cols, int64_t fan_in,
                      int64_t fan_out)
{
    if (p == IR_NONE)
        return;
    ir_param *q = &ir->params[p];
    q->rows = rows;
    q->cols = cols;
    q->count = rows * cols;
    q->fan_in = fan_in;
    q->fan_out = fan_out;
}

int ir_pass_shapes(ir_model *ir)
{
    if (ir->input_size <= 0 || ir->input_size > INT_MAX)
        return ir_error(ir, ir->src->layers[0].line,
                        "input of %" PRId64 " values per sample: the limit is %d",
                        ir->input_size, INT_MAX);
    int64_t total = 0;
    bool trainable = false;
    const layer *in = &ir->src->layers[0];
    int64_t groups = 1; /* all but the input's last axis */
    for (int d = 0; d + 1 < in->ndims; d++)
        groups *= in->dims[d];
    for (int i = 0; i < ir->nops; i++) {
        ir_op *op = &ir->ops[i];
        int64_t f = ir->tensors[op->x].features;
        if (op->kind == IR_DENSE || op->kind == IR_FLATTEN)
            groups = 1;
        op->groups = groups;
        if (ir_op_is_loss(op->kind)) {
            ir->classes = f;
            if (groups != 1)
                return ir_error(ir, op->line, "the model's output is not flat: "
                                "end it with a dense layer (or add flatten)");
            if (f < 2)
                return ir_error(ir, op->line,
                                "the model's output has %" PRId64 " unit%s: the loss %s "
                                "compares it with class labels, so it needs at least 2",
                                f, f == 1 ? "" : "s", op->text);
            continue;
        }
        switch (op->kind) {
        case IR_DENSE:
            if (op->units > INT_MAX || f * op->units > MAX_PARAMS)
                return ir_error(ir, op->line, "dense %" PRId64 " after %" PRId64
                                " features is too large", op->units, f);
            set_param(ir, op->param[0], f, op->units, f, op->units);
            set_param(ir, op->param[1], 1, op->units, f, op->units);
            ir->tensors[op->y].features = op->units;
            trainable = true;
            break;
        case IR_BATCHNORM:
            for (int k = 0; k < 4; k++)
                set_param(ir, op->param[k], 1, f / groups, f / groups, f / groups);
            ir->tensors[op->y].features = f;
            ir->tensors[op->save[0]].features = f;
            ir->tensors[op->save[1]].features = f / groups;
            trainable = true;
            break;
        case IR_FLATTEN:
            break; /* y is x */
        default:
            ir->tensors[op->y].features = f;
            if (op->save[0] != IR_NONE)
                ir->tensors[op->save[0]].features = f;
            break;
        }
        for (int k = 0; k < 4; k++)
            if (op->param[k] != IR_NONE)
                total += ir->params[op->param[k]].count;
        if (total > MAX_PARAMS)
            return ir_error(ir, op->line, "the model has more than %" PRId64
                            " parameters", MAX_PARAMS);
    }
    if (!trainable)
        return ir_error(ir, ir->src->layers[0].line,
                        "model '%s' has nothing to train: it needs a dense or "
                        "batchnorm layer", ir->name);
    return 0;
}
