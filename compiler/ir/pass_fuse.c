/*
 * pass_fuse.c: fusions that pay.
 *
 * softmax + cross-entropy (sparse or categorical: both take class labels):
 * the loss takes the logits and returns the probabilities, and its
 * gradient is (probs - onehot) / N, cheaper and far more accurate than
 * chaining the two backward passes through a clipped log. The softmax op
 * disappears; its output tensor becomes the loss's probabilities, so the
 * trainer's output is unchanged.
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

int ir_pass_fuse(ir_model *ir)
{
    int l = ir->nops - 1;
    ir_op *loss = &ir->ops[l];
    if (loss->kind != IR_XENT || l == 0)
        return 0;
    ir_op *sm = &ir->ops[l - 1];
    if (sm->kind != IR_SOFTMAX || sm->y != loss->x)
        return 0;
    loss->kind = IR_SOFTMAX_XENT;
    loss->fused_softmax = true;
    loss->x = sm->x;
    loss->y = sm->y;
    loss->line = sm->line;
    ir->output = loss->y;
    *sm = *loss;
    ir->nops--;
    return 0;
}
