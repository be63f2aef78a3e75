/*
 * shapes.h: shape inference and every rule about the model as a whole,
 * written once.
 *
 * After the check pass has read each statement (check.c), shapes_check
 * walks the layers in order, gives each one its output shape and
 * parameter count (model.h: layer.out) and the model its totals, and
 * refuses, with a located error, whatever a later stage could not handle:
 *
 *   - a count that does not fit in 64 bits;
 *   - a kernel that would see more rows than the runtime's int indexes
 *     (batchnorm or softmax on a sample that is not flat yet, times the
 *     batch);
 *   - an output that is not flat, or narrower than the loss needs;
 *   - a cross-entropy without the softmax/sigmoid it reads, or with one
 *     when from_logits=true (the loss applies it);
 *   - a metric the loss cannot feed (accuracy with a regression loss,
 *     auc without binary_crossentropy, top-k with k >= outputs...); here
 *     `accuracy` is resolved by the loss, as Keras does;
 *   - a normalize after a layer that changes the values, or a second one;
 *   - nothing to train;
 *   - more memory to train than SHAPES_MAX_TRAIN_BYTES.
 *
 * `seqc summary`, lowering (ir/lower.c) and everything after read the
 * shapes from the model; none of them infers or checks a shape again.
 *
 * The language's shape rule (docs/language.md): a sample keeps the input's
 * shape through element-wise layers (batchnorm, activations, dropout) until
 * a `flatten` or `dense`; `dense` consumes all of a sample's values and
 * outputs [units]; batchnorm, softmax and normalize work on the last axis,
 * as Keras.
 */
#ifndef SEQC_SHAPES_H
#define SEQC_SHAPES_H

#include <stdint.h>
#include "front/diag.h"
#include "front/model.h"

/* Largest number of units, of values in a sample, of epochs or of a
 * batch, and of rows a kernel sees: the runtime indexes with int (CBLAS). */
#define SHAPES_MAX_SIZE INT32_MAX

/* Largest memory a model may need to train (parameters, their gradients,
 * the optimizer's state, and every activation, gradient and saved value of
 * a batch before the memory plan shares any): 256 GiB. A model past it is
 * almost always a typo (`dense 2000000000`), and refusing it in `check`
 * beats a trainer that fails to allocate after the data is read. */
#define SHAPES_MAX_TRAIN_BYTES ((uint64_t)1 << 38)

/* Fills every layer's out, m->counts and m->train_bytes, sets m->shaped,
 * and reports what is wrong to d. Returns 0 when no error was reported
 * (with MODEL_TO_DESCRIBE, a model too large to train is a warning). */
int shapes_check(diag *d, model *m, model_goal goal);

/* Does layer l, in training, normalize by the statistics of the batch
 * itself (batchnorm)? Such a layer makes a batch of one sample
 * meaningless: `batch 1` is refused, and the trainer drops a last batch
 * of one. */
bool layer_uses_batch_stats(const layer *l);

/* Floats per sample a conv2d layer's scratch takes in the memory plan
 * (0 for other layers): seqrt_conv2d_scratch_floats, the runtime's own
 * formula (a sample's column matrix, oh * ow * kh * kw * cin, and the
 * partial sums of dW and db, (kh * kw * cin + 1) * filters), saturating.
 * The generated trainer checks at start that the runtime's
 * seqrt_conv2d_scratch_per_sample asks for no more (docs/generated-c.md).
 * Valid after shapes_check. */
uint64_t shapes_conv_scratch(const layer *l);

/* The layer whose output is the model's: the last one */
static inline const layer_shape *shapes_output(const model *m)
{
    return &m->layers[m->nlayers - 1].out;
}

#endif /* SEQC_SHAPES_H */
