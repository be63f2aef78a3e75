/*
 * test_blocks.c: a generated trainer's parameter blocks (seqrt_model.blocks)
 * against `seqc summary`.
 *
 * BLOCKS_C is a trainer `seqc emit` wrote at build time from MODEL_FILE,
 * included with SEQRT_NO_MAIN. Its blocks must cover [0, param_count) in
 * order without gaps; every layer with parameters must appear under the
 * name summary_layer_name gives it, with the summary's count (all and
 * trainable) and its line in the model file.
 */
#define SEQRT_NO_MAIN
#define model trainer_model /* the trainer's variable; front/ has a type of that name */
#include BLOCKS_C
#undef model

#include <stdbool.h>
#include <string.h>

#include "front/frontend.h"
#include "front/summary.h"
#include "util/arena.h"
#include "testutil.h"

static void test_blocks_cover_params_in_order(void **state)
{
    (void)state;
    const seqrt_model *t = &trainer_model;
    assert_non_null(t->blocks);
    assert_true(t->block_count > 0);
    size_t next = 0, trainable = 0;
    for (int i = 0; i < t->block_count; i++) {
        const seqrt_param_block *b = &t->blocks[i];
        assert_int_equal(b->offset, next);
        assert_true(b->count > 0);
        next += b->count;
        /* the statistics (batchnorm's moving ones, normalize's) are never trained */
        static const char *const stats[] = {"moving_mean", "moving_variance", "mean",
                                            "variance"};
        bool stat = false;
        for (size_t j = 0; j < sizeof stats / sizeof *stats; j++)
            stat |= strcmp(b->what, stats[j]) == 0;
        if (!stat)
            trainable = next; /* trainable blocks come first */
        else
            assert_true(b->offset >= t->trainable_count);
    }
    assert_int_equal(next, t->param_count);
    assert_int_equal(trainable, t->trainable_count);
}

static void test_blocks_match_summary(void **state)
{
    (void)state;
    const seqrt_model *t = &trainer_model;
    arena a;
    arena_init(&a);
    model *m = arena_alloc(&a, sizeof *m);
    assert_int_equal(frontend_load(&a, MODEL_FILE, m), 0);
    const model_counts counts = m->counts; /* front/shapes.c counted them */
    assert_int_equal(counts.total, t->param_count);
    assert_int_equal(counts.trainable, t->trainable_count);

    summary_namer namer = {{0}};
    int layers_with_params = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        if (m->layers[i].kind == LAYER_INPUT)
            continue;
        char name[64];
        summary_layer_name(&namer, m->layers[i].kind, name, sizeof name);
        uint64_t all = 0, trained = 0;
        for (int k = 0; k < t->block_count; k++) {
            const seqrt_param_block *b = &t->blocks[k];
            if (strcmp(b->layer, name) != 0)
                continue;
            assert_int_equal(b->line, m->layers[i].line);
            all += b->count;
            if (b->offset < t->trainable_count)
                trained += b->count;
        }
        if (m->layers[i].out.params == 0) {
            assert_int_equal(all, 0);
            continue;
        }
        layers_with_params++;
        if (all != m->layers[i].out.params || trained != m->layers[i].out.trainable)
            fail_msg("layer %s: blocks hold %llu (%llu trainable), the summary says %llu (%llu)",
                     name, (unsigned long long)all, (unsigned long long)trained,
                     (unsigned long long)m->layers[i].out.params,
                     (unsigned long long)m->layers[i].out.trainable);
    }
    assert_true(layers_with_params > 0);
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_cover_params_in_order),
        cmocka_unit_test(test_blocks_match_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
