/*
 * pass_memplan.c: the static memory plan.
 *
 * Parameters: one buffer, trainable parameters first in layer order
 * (w, b, gamma, beta), then the non-trainable ones (moving_mean,
 * moving_var): the layout seqrt_model expects, so the optimizer runs once
 * over params[0, trainable_count) and grads mirror those offsets.
 *
 * Arena: every activation, gradient and saved value gets an offset in
 * floats PER SAMPLE; the generated code multiplies it by the step's
 * capacity, so one plan serves any --batch. The training step allocates
 * nothing.
 *
 * Liveness. The step is a schedule: forward op i runs at step i (the loss
 * is the last forward op), then backward runs the ops in reverse, op i at
 * step 2*nops-1-i. A tensor lives from the step that first writes it to
 * the step that last reads it, both included; the reads and writes of
 * each op are listed in op_io() below and match the calls codegen_c.c
 * makes (e.g. dense backward reads x, batchnorm backward reads xhat and
 * inv_std but not its input, so a dense output followed by batchnorm dies
 * at the batchnorm's forward step). Two more rules keep the inference path
 * safe on the same plan: forward_infer skips dropout, so a dropout's input
 * is read where its output would be (its life is extended to that step),
 * and the model's output stays live to the end (the loop reads it after
 * the step). Two tensors may share floats only when their lives do not
 * overlap; because both ends are inclusive, an op's outputs never alias
 * its inputs. Placement is first fit, in order of first write.
 *
 * Sizes: a tensor [N, f] takes f floats per sample, rounded up to 16 so
 * every buffer starts 64-byte aligned relative to the arena. A batchnorm's
 * inv_std is [f], independent of N: it is given f floats per sample too
 * (capacity >= 1, so that is always enough); the waste is f*(capacity-1)
 * floats, a few kB.
 */
#include "ir/ir.h"
#include "util/bug.h"

enum { ALIGN_FLOATS = 16 };

/* The tensors op reads and writes in one direction (<= 4 each). */
static void op_io(const ir_op *op, bool backward, int *r, int *nr, int *w, int *nw)
{
    *nr = *nw = 0;
#define R(t) do { if ((t) != IR_NONE) r[(*nr)++] = (t); } while (0)
#define W(t) do { if ((t) != IR_NONE) w[(*nw)++] = (t); } while (0)
    if (!backward) {
        if (op->kind == IR_FLATTEN)
            return;
        R(op->x);
        W(op->y);
        W(op->save[0]);
        W(op->save[1]);
        return;
    }
    if (!op->backward)
        return;
    switch (op->kind) {
    case IR_DENSE:        R(op->x); R(op->dy); break;
    case IR_BATCHNORM:    R(op->save[0]); R(op->save[1]); R(op->dy); break;
    case IR_DROPOUT:      R(op->save[0]); R(op->dy); break;
    case IR_SOFTMAX_XENT: R(op->y); break;
    case IR_XENT:
    case IR_MSE:          R(op->x); break;
    case IR_FLATTEN:      return;
    default:              R(op->x); R(op->y); R(op->dy); break;
    }
    W(op->dx);
#undef R
#undef W
}

static void touch(ir_tensor *t, int step, bool write)
{
    if (write && (t->def < 0 || step < t->def))
        t->def = step;
    if (step > t->last)
        t->last = step;
}

static void layout_params(ir_model *ir)
{
    int64_t off = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ir->nparams; i++) {
            ir_param *p = &ir->params[i];
            if (p->trainable != (pass == 0))
                continue;
            p->offset = off;
            off += p->count;
        }
        if (pass == 0)
            ir->trainable_count = off;
    }
    ir->param_count = off;
    if (ir->train.optimizer == SEQRT_OPT_ADAM)
        ir->opt_state_count = 2 * ir->trainable_count; /* m, then v */
    else
        ir->opt_state_count = ir->train.momentum != 0 ? ir->trainable_count : 0;
}

static void liveness(ir_model *ir)
{
    int k = ir->nops;
    ir->nsteps = 2 * k;
    int r[4], w[4], nr, nw;
    for (int i = 0; i < k; i++) {
        const ir_op *op = &ir->ops[i];
        int steps[2] = {i, 2 * k - 1 - i};
        for (int dir = 0; dir < 2; dir++) {
            op_io(op, dir == 1, r, &nr, w, &nw);
            for (int j = 0; j < nr; j++)
                touch(&ir->tensors[r[j]], steps[dir], false);
            for (int j = 0; j < nw; j++)
                touch(&ir->tensors[w[j]], steps[dir], true);
        }
        /* forward_infer reads through dropouts */
        if (op->kind != IR_DROPOUT && op->kind != IR_FLATTEN) {
            int src = ir_infer_source(ir, op->x);
            if (src != op->x)
                touch(&ir->tensors[src], i, false);
        }
    }
    touch(&ir->tensors[ir->output], ir->nsteps, false);
    touch(&ir->tensors[ir_infer_source(ir, ir->output)], ir->nsteps, false);
}

static bool overlap(const ir_tensor *a, const ir_tensor *b)
{
    return a->def <= b->last && b->def <= a->last;
}

static void place(ir_model *ir)
{
    int64_t top = 0;
    for (int step = 0; step < ir->nsteps; step++) {
        for (int i = 0; i < ir->ntensors; i++) {
            ir_tensor *t = &ir->tensors[i];
            if (t->role == IR_T_INPUT || t->def != step)
                continue;
            t->size = (t->features + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
            /* lowest offset clear of every placed tensor alive at the same time */
            int64_t off = 0;
            bool moved = true;
            while (moved) {
                moved = false;
                for (int j = 0; j < ir->ntensors; j++) {
                    const ir_tensor *u = &ir->tensors[j];
                    if (j == i || u->offset < 0 || !overlap(t, u))
                        continue;
                    if (off < u->offset + u->size && u->offset < off + t->size) {
                        off = u->offset + u->size;
                        moved = true;
                    }
                }
            }
            t->offset = off;
            if (off + t->size > top)
                top = off + t->size;
        }
    }
    ir->act_per_sample = top;
}

int ir_pass_memplan(ir_model *ir)
{
    layout_params(ir);
    liveness(ir);
    place(ir);
    for (int i = 0; i < ir->ntensors; i++) {
        const ir_tensor *t = &ir->tensors[i];
        if (t->role != IR_T_INPUT && t->offset < 0)
            SEQC_BUG("tensor %s has no place in the memory plan", t->name);
    }
    return 0;
}
