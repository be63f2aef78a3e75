/*
 * pass_fuse.c: fusions that pay.
 *
 * softmax + cross-entropy (sparse: class labels; categorical: target
 * rows) and sigmoid + binary cross-entropy: the loss takes the logits and
 * returns the probabilities, and its gradient is (probs - targets) / N
 * (for the categorical form, probs * sum(t) - t), cheaper and far more
 * accurate than chaining the two backward passes through a clipped log.
 * The activation op disappears; its output tensor becomes the loss's
 * probabilities, so the trainer's output is unchanged. (from_logits=true
 * gives the same fused loss directly, at lowering.)
 *
 * Considered and not done: dropping a dense layer's bias when a batchnorm
 * follows (the bias cancels in the normalisation). Keras keeps the bias,
 * counts it, trains it and folds it into the moving mean; to keep the
 * parameter count, the checkpoints and the moving statistics identical to
 * Keras we keep it too, and the bias add costs well under 1% of the GEMM.
 * Activation fusion (batchnorm + relu, and relu's backward folded into
 * batchnorm's) was measured first and not done (issue #6): with the
 * kernels vectorized, batchnorm is about 3% of a training step of the
 * tutorial's model and relu 0.5% (perf, one thread, Fashion-MNIST,
 * batch 32), against about 55% for the GEMMs and 22% for Adam; a fused
 * kernel would save a part of those 3.5% at the cost of a new IR op.
 */
#include "ir/ir.h"

#include <string.h>

/* The fused form of a loss on probabilities, and the activation it
 * absorbs; IR_OP_KIND_COUNT when there is none. */
static ir_op_kind fused_form(ir_op_kind loss, ir_op_kind *link)
{
    switch (loss) {
    case IR_XENT: *link = IR_SOFTMAX; return IR_SOFTMAX_XENT;
    case IR_CCE:  *link = IR_SOFTMAX; return IR_SOFTMAX_CCE;
    case IR_BCE:  *link = IR_SIGMOID; return IR_SIGMOID_BCE;
    default:      return IR_OP_KIND_COUNT;
    }
}

int ir_pass_fuse(ir_model *ir)
{
    int l = ir->nops - 1;
    ir_op *loss = &ir->ops[l];
    ir_op_kind link = IR_OP_KIND_COUNT, fused = fused_form(loss->kind, &link);
    if (fused == IR_OP_KIND_COUNT || l == 0)
        return 0;
    ir_op *act = &ir->ops[l - 1];
    if (act->kind != link || act->y != loss->x)
        return 0;
    loss->kind = fused;
    loss->fused_softmax = true;
    loss->x = act->x;
    loss->y = act->y;
    loss->line = act->line;
    ir->output = loss->y;
    *act = *loss;
    ir->nops--;
    return 0;
}
