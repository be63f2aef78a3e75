/*
 * passes.c: the passes, in the order they run. Read this first.
 *
 *   shapes   infer every tensor's and parameter's shape; check the limits
 *   fuse     batchnorm + relu + maxpool2d on an image -> one op
 *            (batchnorm_relu_maxpool2d); softmax/sigmoid followed by a
 *            cross-entropy loss -> the loss from logits (softmax_xent,
 *            softmax_cce, sigmoid_bce)
 *   backward decide which ops run backward and add the gradient tensors
 *   memplan  parameter layout, then one arena for activations, gradients
 *            and saved values, with dead buffers reused
 *
 * Each pass is in its own file (pass_NAME.c); `seqc ir FILE --after NAME`
 * prints the IR as that pass leaves it.
 *
 * The passes trust the checked model: every rule about the user's file is
 * the front end's (front/check.c, front/shapes.c), so that `seqc check`
 * refuses first whatever would fail here. A pass that still has to blame
 * the file reports through ir_error, which prints like the front end
 * (FILE:LINE:COL: error:, the source line and a caret); a broken
 * invariant is SEQC_BUG (util/bug.h).
 */
#include "ir/ir.h"

#include <stdarg.h>
#include <string.h>

#include "front/diag.h"

static const struct {
    const char *name;
    int (*run)(ir_model *ir);
} passes[] = {
    {"shapes", ir_pass_shapes},
    {"fuse", ir_pass_fuse},
    {"backward", ir_pass_backward},
    {"memplan", ir_pass_memplan},
};
enum { NPASSES = sizeof passes / sizeof passes[0] };

const char *ir_pass_names(void) { return "lower shapes fuse backward memplan"; }

int ir_run_passes(ir_model *ir, const char *stop_after)
{
    int last = NPASSES - 1;
    if (stop_after) {
        if (strcmp(stop_after, "lower") == 0)
            return 0;
        for (last = 0; last < NPASSES; last++)
            if (strcmp(passes[last].name, stop_after) == 0)
                break;
        if (last == NPASSES) {
            fprintf(stderr, "seqc: error: unknown pass '%s' (passes: %s)\n",
                    stop_after, ir_pass_names());
            return 1;
        }
    }
    for (int i = 0; i <= last; i++) {
        if (passes[i].run(ir) != 0)
            return 1;
        ir->passes_run = i + 1;
    }
    return 0;
}

int ir_error(const ir_model *ir, int line, const char *fmt, ...)
{
    /* the first layer written on that line (the op's own keyword, unless
     * a line holds several layers) gives the column */
    const model *m = ir->src;
    src_loc loc = {line, 1};
    int span = 1;
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i].loc.line == line) {
            loc = m->layers[i].loc;
            span = (int)strlen(layer_kind_name(m->layers[i].kind));
            break;
        }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        diag_error(m->diag, loc, span, "%s", msg);
    else
        diag_file_error(m->diag, "%s", msg);
    return 1;
}
