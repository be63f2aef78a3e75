/*
 * passes.c: the passes, in the order they run. Read this first.
 *
 *   shapes   infer every tensor's and parameter's shape; check the limits
 *   fuse     softmax followed by a cross-entropy loss -> softmax_xent
 *   backward decide which ops run backward and add the gradient tensors
 *   memplan  parameter layout, then one arena for activations, gradients
 *            and saved values, with dead buffers reused
 *
 * Each pass is in its own file (pass_NAME.c); `seqc ir FILE --after NAME`
 * prints the IR as that pass leaves it.
 */
#include "ir/ir.h"

#include <string.h>

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
