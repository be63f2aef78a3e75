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
 * batchnorm's) was measured first and not done for dense layers (issue
 * #6): with the kernels vectorized, batchnorm is about 3% of a training
 * step of the tutorial's model and relu 0.5% (perf, one thread,
 * Fashion-MNIST, batch 32), against about 55% for the GEMMs and 22% for
 * Adam; a fused kernel would save a part of those 3.5%.
 *
 * After a convolution it pays: `batchnorm; relu; maxpool2d` on an image
 * becomes one op, IR_BN_RELU_MAXPOOL2D (runtime/src/kernels/conv_block.c
 * says why and what it saves), when block_fusable says the fused kernel
 * computes exactly what the three layers do. The fused op keeps the
 * batchnorm's name, line, parameters and options and takes the pool's
 * geometry and output; the batchnorm's and relu's outputs and xhat are
 * gone (the fused op reads its input again in backward), the argmax
 * stays, inv_std becomes the batch statistics [2c] (mean, inv_std), and
 * two scratch tensors of 2c floats per sample hold the per-sample sums.
 */
#include "ir/ir.h"
#include "util/bug.h"

#include <string.h>

/* Whether ops i, i+1, i+2 are `batchnorm; relu; maxpool2d` that the fused
 * kernel computes exactly. The one place that decides: a batchnorm option
 * the fused kernel does not implement (anything but batch statistics in
 * training, moving statistics at inference, momentum and epsilon) must
 * make it return false. */
static bool block_fusable(const ir_model *ir, int i)
{
    if (ir->no_block_fusion || i + 2 >= ir->nops)
        return false;
    const ir_op *bn = &ir->ops[i], *act = &ir->ops[i + 1], *pool = &ir->ops[i + 2];
    if (bn->kind != IR_BATCHNORM || act->kind != IR_RELU || pool->kind != IR_MAXPOOL2D)
        return false;
    /* frozen, ghost and renorm batchnorms are other op kinds; center=false
     * and scale=false leave out beta or gamma, which the kernel needs */
    if (bn->param[0] == IR_NONE || bn->param[1] == IR_NONE)
        return false;
    if (act->x != bn->y || pool->x != act->y || ir->output == bn->y || ir->output == act->y)
        return false;
    /* per channel of an image: the kernel sees [batch*h*w, c] */
    const int64_t *img = ir->tensors[bn->x].image;
    if (img[0] <= 0 || bn->groups != img[0] * img[1] || pool->in_hwc[0] != img[0] ||
        pool->in_hwc[1] != img[1] || pool->in_hwc[2] != img[2])
        return false;
    /* windows that do not overlap, from the image's corner */
    return pool->stride[0] == pool->kernel[0] && pool->stride[1] == pool->kernel[1] &&
           pool->pad[0] == 0 && pool->pad[1] == 0;
}

/* Ops i..i+2 become one; the tensors it no longer uses are marked in drop. */
static void fuse_block(ir_model *ir, int i, bool *drop)
{
    ir_op *bn = &ir->ops[i], *act = &ir->ops[i + 1], *pool = &ir->ops[i + 2];
    ir_op *parts = arena_array(ir->arena, 3, sizeof *parts);
    memcpy(parts, bn, 3 * sizeof *parts);
    ir_op f = *bn;
    f.kind = IR_BN_RELU_MAXPOOL2D;
    f.text = arena_printf(ir->arena, "%s; %s; %s", bn->text, act->text, pool->text);
    f.y = pool->y;
    memcpy(f.in_hwc, pool->in_hwc, sizeof f.in_hwc);
    memcpy(f.kernel, pool->kernel, sizeof f.kernel);
    memcpy(f.stride, pool->stride, sizeof f.stride);
    memcpy(f.dilation, pool->dilation, sizeof f.dilation);
    memcpy(f.pad, pool->pad, sizeof f.pad);
    memcpy(f.out_hw, pool->out_hw, sizeof f.out_hw);
    f.nparts = 3;
    f.parts = parts;
    drop[bn->y] = drop[act->y] = drop[bn->save[0]] = true;
    f.save[0] = pool->save[0];
    f.save[1] = bn->save[1];
    ir_tensor *argmax = &ir->tensors[f.save[0]], *stats = &ir->tensors[f.save[1]];
    argmax->name = arena_printf(ir->arena, "%s.argmax", f.name);
    stats->name = arena_printf(ir->arena, "%s.stats", f.name);
    stats->features = 2 * pool->in_hwc[2];
    ir->ops[i] = f;
    memmove(&ir->ops[i + 1], &ir->ops[i + 3], (size_t)(ir->nops - i - 3) * sizeof *ir->ops);
    ir->nops -= 2;
    for (int k = 0; k < ir->nparams; k++)
        if (ir->params[k].op > i)
            ir->params[k].op -= 2;
}

static void remap(int *t, const int *to)
{
    if (*t >= 0)
        *t = to[*t];
}

/* Removes the tensors marked in drop, renumbering the rest in order. */
static void drop_tensors(ir_model *ir, const bool *drop)
{
    int *to = arena_array(ir->arena, (size_t)ir->ntensors + 1, sizeof *to);
    int n = 0;
    for (int t = 0; t < ir->ntensors; t++) {
        to[t] = drop[t] ? IR_NONE : n;
        if (!drop[t])
            ir->tensors[n++] = ir->tensors[t];
    }
    ir->ntensors = n;
    remap(&ir->input, to);
    remap(&ir->output, to);
    for (int i = 0; i < ir->nops; i++) {
        ir_op *op = &ir->ops[i];
        int *refs[] = {&op->x, &op->y, &op->dx, &op->dy, &op->save[0], &op->save[1],
                       &op->scratch[0], &op->scratch[1]};
        for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
            if (*refs[k] >= 0 && drop[*refs[k]])
                SEQC_BUG("%s uses a tensor fusion removed", op->name);
            remap(refs[k], to);
        }
    }
}

static void fuse_blocks(ir_model *ir)
{
    bool *drop = arena_array(ir->arena, (size_t)ir->ntensors + 1, sizeof *drop);
    bool any = false;
    for (int i = 0; i < ir->nops; i++)
        if (block_fusable(ir, i)) {
            fuse_block(ir, i, drop);
            any = true;
        }
    if (!any)
        return;
    drop_tensors(ir, drop);
    /* the per-sample sums: 2c floats per sample, forward (and inference)
     * and backward (seqrt_bn_relu_maxpool_scratch_per_sample; the
     * trainer's main checks the linked libseqrt agrees) */
    for (int i = 0; i < ir->nops; i++) {
        ir_op *op = &ir->ops[i];
        if (op->kind != IR_BN_RELU_MAXPOOL2D)
            continue;
        int64_t size = 2 * op->in_hwc[2];
        op->scratch[0] = ir_add_tensor(ir->arena, ir, arena_printf(ir->arena, "%s.scratch", op->name),
                                       IR_T_SCRATCH, size);
        op->scratch[1] = ir_add_tensor(ir->arena, ir,
                                       arena_printf(ir->arena, "%s.scratch_backward", op->name),
                                       IR_T_SCRATCH, size);
    }
}

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
    fuse_blocks(ir);
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
