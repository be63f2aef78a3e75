/*
 * pass_memplan.c: the static memory plan.
 *
 * Parameters: one buffer, trainable parameters first in layer order
 * (kernel, bias, gamma, beta), then the non-trainable ones (moving_mean,
 * moving_variance): the layout seqrt_model expects, so the optimizer runs once
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
 * each op are those of its calls in the op table (ir.c, ir_op_io), the
 * very calls codegen_c.c writes (e.g. dense backward reads x, batchnorm
 * backward reads xhat and inv_std but not its input, so a dense output
 * followed by batchnorm dies at the batchnorm's forward step). The
 * inference and prediction calls count at the forward step too: they skip
 * dropout, so a dropout's input is read where its output would be (its
 * life is extended to that step). The model's output stays live to the
 * end (the loop reads it after the step). Two tensors may share floats
 * only when their lives do not overlap (and never under no_reuse);
 * because both ends are inclusive, an op's outputs never alias its
 * inputs. Placement is first fit, in order of first write.
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
    else if (ir->train.optimizer == SEQRT_OPT_RMSPROP) /* velocity, then momentum */
        ir->opt_state_count = (ir->train.momentum != 0 ? 2 : 1) * ir->trainable_count;
    else
        ir->opt_state_count = ir->train.momentum != 0 ? ir->trainable_count : 0;
}

static void liveness(ir_model *ir)
{
    int k = ir->nops;
    ir->nsteps = 2 * k;
    for (int i = 0; i < k; i++) {
        const ir_op *op = &ir->ops[i];
        /* inference and prediction run op i where training's forward does,
         * but may read other tensors (through dropouts) */
        static const ir_phase phases[] = {IR_PHASE_FORWARD, IR_PHASE_INFER,
                                          IR_PHASE_PREDICT, IR_PHASE_BACKWARD};
        for (size_t p = 0; p < sizeof phases / sizeof phases[0]; p++) {
            if (phases[p] == IR_PHASE_BACKWARD && !op->backward)
                continue;
            int step = phases[p] == IR_PHASE_BACKWARD ? 2 * k - 1 - i : i;
            ir_io io;
            ir_op_io(ir, op, phases[p], &io);
            for (int j = 0; j < io.nreads; j++)
                touch(&ir->tensors[io.reads[j]], step, false);
            for (int j = 0; j < io.nwrites; j++)
                touch(&ir->tensors[io.writes[j]], step, true);
        }
    }
    touch(&ir->tensors[ir->output], ir->nsteps, false);
    touch(&ir->tensors[ir_infer_source(ir, ir->output)], ir->nsteps, false);
}

/* Whether a and b may not share floats: their lives overlap, or the plan
 * was asked for no reuse at all (seqc emit --no-reuse, for debugging). */
static bool overlap(const ir_model *ir, const ir_tensor *a, const ir_tensor *b)
{
    return ir->no_reuse || (a->def <= b->last && b->def <= a->last);
}

/* [start, end) in floats per sample; also (def, index) for the order */
typedef struct span {
    int64_t start, end;
} span;

static int by_start(const void *pa, const void *pb)
{
    const span *a = pa, *b = pb;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* Placement: tensors in order of first write (then of creation), each at
 * the lowest offset clear of every placed tensor alive at the same time:
 * the conflicting spans sorted by start, the first gap big enough wins. */
static void place(ir_model *ir)
{
    size_t nt = (size_t)ir->ntensors;
    span *order = arena_array(ir->arena, nt + 1, sizeof *order); /* (def, index) */
    span *busy = arena_array(ir->arena, nt + 1, sizeof *busy);
    size_t n = 0;
    for (size_t i = 0; i < nt; i++)
        if (ir->tensors[i].role != IR_T_INPUT && ir->tensors[i].def >= 0)
            order[n++] = (span){(int64_t)ir->tensors[i].def * (int64_t)(nt + 1) + (int64_t)i,
                                (int64_t)i};
    qsort(order, n, sizeof *order, by_start);
    int64_t top = 0;
    for (size_t k = 0; k < n; k++) {
        int i = (int)order[k].end;
        ir_tensor *t = &ir->tensors[i];
        t->size = (t->features + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        size_t nb = 0;
        for (size_t j = 0; j < nt; j++) {
            const ir_tensor *u = &ir->tensors[j];
            if ((int)j != i && u->offset >= 0 && overlap(ir, t, u))
                busy[nb++] = (span){u->offset, u->offset + u->size};
        }
        qsort(busy, nb, sizeof *busy, by_start);
        int64_t off = 0;
        for (size_t b = 0; b < nb && busy[b].start < off + t->size; b++)
            if (busy[b].end > off)
                off = busy[b].end;
        t->offset = off;
        if (off + t->size > top)
            top = off + t->size;
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
