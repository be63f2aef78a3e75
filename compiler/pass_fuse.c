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
 * Activation fusion (batchnorm + relu) would need kernels libseqrt does
 * not have; the elementwise passes are a small share of a step.
 */
#include "ir.h"

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
