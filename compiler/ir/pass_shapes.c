/*
 * pass_shapes.c: the shapes lowering copied from the checked model, held
 * to the invariants the later passes and the generated code rely on.
 *
 * Shapes are inferred and every limit is checked once, in the front end
 * (front/shapes.c), so that `seqc check` refuses whatever the back end
 * would: this pass reports no error of the user's. It only asserts what
 * the front end promised (every tensor has a size the runtime's int holds,
 * a dense layer's weight matches its input, the parameters add up to the
 * summary's counts, the output is flat (and at least 2 wide for the
 * categorical cross-entropies), every real
 * option is a finite float and the positive ones stay positive as floats);
 * a failure is a bug in seqc (SEQC_BUG).
 */
#include "ir/ir.h"

#include <math.h>

#include "front/shapes.h"
#include "util/bug.h"

/* a value the generated C writes as a float literal */
static void check_float(const char *what, const char *name, double v, bool positive)
{
    float f = (float)v;
    SEQC_ASSERT(isfinite(f) && (!positive || f > 0.0f), "%s of %s is %g as a float", what, name,
                (double)f);
}

static void check_tensor(const ir_model *ir, int t, const ir_op *op)
{
    if (t == IR_NONE)
        return;
    int64_t f = ir->tensors[t].features;
    SEQC_ASSERT(f >= 1 && f <= SHAPES_MAX_SIZE, "%s: tensor %s has %lld features", op->name,
                ir->tensors[t].name, (long long)f);
}

int ir_pass_shapes(ir_model *ir)
{
    const model *m = ir->src;
    SEQC_ASSERT(m->shaped, "the IR of a model whose shapes were not checked");
    const train_recipe *r = &ir->train;
    check_float("lr", "the recipe", r->lr, true);
    check_float("momentum", "the recipe", r->momentum, false);
    check_float("beta1", "the recipe", r->beta1, false);
    check_float("beta2", "the recipe", r->beta2, false);
    check_float("epsilon", "the recipe", r->epsilon, true);
    uint64_t total = 0, trainable = 0;
    for (int i = 0; i < ir->nops; i++) {
        const ir_op *op = &ir->ops[i];
        check_tensor(ir, op->x, op);
        check_tensor(ir, op->y, op);
        check_tensor(ir, op->save[0], op);
        check_tensor(ir, op->save[1], op);
        check_float("alpha", op->name, op->alpha, false);
        check_float("rate", op->name, op->rate, false);
        check_float("momentum", op->name, op->momentum, false);
        check_float("epsilon", op->name, op->epsilon, op->kind == IR_BATCHNORM ||
                    op->kind == IR_BATCHNORM_FROZEN || op->kind == IR_BATCHNORM_GHOST ||
                    op->kind == IR_BATCHNORM_RENORM ||
                    op->kind == IR_LAYERNORM || op->kind == IR_GROUPNORM);
        check_float("scale", op->name, op->scale, false);
        check_float("offset", op->name, op->offset, false);
        check_float("delta", op->name, op->delta, op->kind == IR_HUBER);
        int64_t f = ir->tensors[op->x].features;
        bool image_op = op->kind == IR_CONV2D || op->kind == IR_MAXPOOL2D ||
                        op->kind == IR_AVGPOOL2D || op->kind == IR_GLOBAL_AVGPOOL2D ||
                        op->kind == IR_GLOBAL_MAXPOOL2D;
        /* groups are the output's: an image op changes them */
        SEQC_ASSERT(op->groups >= 1 && (image_op || f % op->groups == 0),
                    "%s: %lld features in %lld groups", op->name, (long long)f,
                    (long long)op->groups);
        /* the kernels that take the rows (n * groups) as an int */
        if (op->kind == IR_BATCHNORM || op->kind == IR_SOFTMAX ||
            op->kind == IR_BATCHNORM_FROZEN || op->kind == IR_BATCHNORM_GHOST ||
                    op->kind == IR_BATCHNORM_RENORM ||
            op->kind == IR_LAYERNORM || op->kind == IR_GROUPNORM)
            SEQC_ASSERT((uint64_t)op->groups * (uint64_t)m->train.batch <= SHAPES_MAX_SIZE,
                        "%s: %lld rows per sample", op->name, (long long)op->groups);
        if (op->kind == IR_DENSE)
            SEQC_ASSERT(ir->params[op->param[0]].rows == f, "%s: weight rows != input features",
                        op->name);
        /* an image op reads the image its geometry says, and its output
         * holds the rows and columns it computes */
        if (image_op) {
            int64_t c = op->kind == IR_CONV2D ? op->filters : op->in_hwc[2];
            bool global = op->kind == IR_GLOBAL_AVGPOOL2D || op->kind == IR_GLOBAL_MAXPOOL2D;
            SEQC_ASSERT(op->in_hwc[0] * op->in_hwc[1] * op->in_hwc[2] == f &&
                            ir->tensors[op->y].features ==
                                (global ? c : op->out_hw[0] * op->out_hw[1] * c),
                        "%s: image shapes do not add up", op->name);
            for (int a = 0; a < 2 && !global; a++)
                SEQC_ASSERT(op->out_hw[a] >= 1 && op->pad[a] >= 0 &&
                                (op->out_hw[a] - 1) * op->stride[a] +
                                        (op->kernel[a] - 1) * op->dilation[a] + 1 <=
                                    op->in_hwc[a] + 2 * op->pad[a] + op->stride[a],
                            "%s: a window outside the padded image", op->name);
        }
        if (op->kind == IR_CONV2D)
            SEQC_ASSERT(ir->params[op->param[0]].rows ==
                                op->kernel[0] * op->kernel[1] * op->in_hwc[2] &&
                            ir->params[op->param[0]].cols == op->filters,
                        "%s: kernel is not [kh*kw*cin, filters]", op->name);
        for (int k = 0; k < 4; k++) {
            if (op->param[k] == IR_NONE)
                continue;
            const ir_param *p = &ir->params[op->param[k]];
            SEQC_ASSERT(p->count == p->rows * p->cols && p->count >= 1, "%s: bad shape",
                        p->name);
            total += (uint64_t)p->count;
            trainable += p->trainable ? (uint64_t)p->count : 0;
        }
        if (ir_op_is_loss(op->kind))
            SEQC_ASSERT(i == ir->nops - 1 && op->groups == 1 && f >= 1 && f == ir->classes &&
                            (f >= 2 || (op->kind != IR_XENT && op->kind != IR_SOFTMAX_XENT &&
                                        op->kind != IR_CCE && op->kind != IR_SOFTMAX_CCE)),
                        "the loss reads %lld features in %lld groups", (long long)f,
                        (long long)op->groups);
    }
    SEQC_ASSERT(trainable > 0, "a model with nothing to train");
    /* a lower bound of the memory to train (parameters, gradients,
     * optimizer state, one activation per tensor), from the IR's own
     * tensors: shapes.c's estimate is above it and within the limit */
    uint64_t floats = 0;
    for (int t = 0; t < ir->ntensors; t++)
        floats += (uint64_t)ir->tensors[t].features;
    uint64_t state = m->train.optimizer == SEQRT_OPT_ADAM ? 2 : m->train.momentum != 0 ? 1 : 0;
    long double bytes = 4.0L * ((long double)total + (long double)trainable * (1 + state) +
                                (long double)floats * (long double)m->train.batch);
    SEQC_ASSERT(bytes <= (long double)SHAPES_MAX_TRAIN_BYTES,
                "training needs %.0Lf bytes, over the limit", bytes);
    SEQC_ASSERT(total == m->counts.total && trainable == m->counts.trainable,
                "the IR has %llu parameters (%llu trainable), the summary %llu (%llu)",
                (unsigned long long)total, (unsigned long long)trainable,
                (unsigned long long)m->counts.total, (unsigned long long)m->counts.trainable);
    return 0;
}
