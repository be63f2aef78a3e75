/* test_check.c: the check pass (check.c, shapes.c) on whole texts: the
 * checked model's values and defaults, errors counted per run,
 * model_without and the check it runs again, the inferred shapes and
 * 64-bit counts, and suggestions (suggest.c). */
#include "testutil.h"
#include "fe_testutil.h"

#include "front/check.h"
#include "front/frontend.h"
#include "util/suggest.h"
#include "front/names.h"
#include "front/shapes.h"
#include "front/summary.h"

typedef struct checked {
    arena    a;
    diag     d;
    captured cap;
    model    m;
    int      rc;
} checked;

static void load(checked *C, const char *src)
{
    arena_init(&C->a);
    capture_start(&C->cap, &C->d, "c.seq", NULL);
    C->rc = frontend_load_text(&C->a, &C->d, src, strlen(src), &C->m);
}

static void done(checked *C)
{
    capture_end(&C->cap);
    arena_free(&C->a);
}

static const char mnist[] = "model mnist_bn {\n"
                            "  input 28x28\n"
                            "  dense 128; batchnorm; relu\n"
                            "  dense 64;  batchnorm; relu\n"
                            "  dense 10;  softmax\n"
                            "}\n"
                            "train {\n"
                            "  optimizer adam lr=0.002\n"
                            "  loss sparse_categorical_crossentropy\n"
                            "  metrics accuracy\n"
                            "  epochs 3\n"
                            "  batch 64\n"
                            "  shuffle false\n"
                            "  seed 7\n"
                            "}\n";

static void test_mnist_model(void **state)
{
    (void)state;
    checked C;
    load(&C, mnist);
    assert_int_equal(C.rc, 0);
    assert_string_equal(capture_text(&C.cap), "");
    const model *m = &C.m;
    assert_string_equal(m->name, "mnist_bn");
    assert_string_equal(m->path, "c.seq");
    assert_int_equal(m->nlayers, 9);
    static const layer_kind kinds[] = {LAYER_INPUT, LAYER_DENSE, LAYER_BATCHNORM,
                                       LAYER_RELU,  LAYER_DENSE, LAYER_BATCHNORM,
                                       LAYER_RELU,  LAYER_DENSE, LAYER_SOFTMAX};
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(m->layers[i].kind, kinds[i]);
    assert_int_equal(m->layers[0].ndims, 2);
    assert_int_equal(m->layers[0].dims[0], 28);
    assert_int_equal(m->layers[0].dims[1], 28);
    assert_int_equal(m->layers[1].units, 128);
    assert_int_equal(m->layers[1].line, 3);
    assert_int_equal(m->layers[1].bias, true);
    assert_int_equal(m->layers[1].init, SEQRT_INIT_GLOROT_UNIFORM);
    assert_close(m->layers[2].momentum, 0.99, 0);
    assert_close(m->layers[2].epsilon, 0.001, 0);
    assert_int_equal(m->layers[7].units, 10);
    assert_int_equal(m->layers[8].loc.col, 14);
    const train_recipe *t = &m->train;
    assert_true(t->has_train_block);
    assert_int_equal(t->optimizer, SEQRT_OPT_ADAM);
    assert_close(t->lr, 0.002, 0);
    assert_close(t->beta1, 0.9, 0);
    assert_close(t->beta2, 0.999, 0);
    assert_close(t->epsilon, 1e-7, 0);
    assert_int_equal(t->loss, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    assert_int_equal(t->nmetrics, 1);
    assert_int_equal(t->metrics[0].kind, SEQRT_METRIC_ACCURACY);
    assert_string_equal(t->metrics[0].name, "accuracy");
    assert_false(t->from_logits);
    assert_close(t->validation_split, 0.0, 0);
    assert_int_equal(t->epochs, 3);
    assert_int_equal(t->batch, 64);
    assert_false(t->shuffle);
    assert_int_equal(t->seed, 7);
    done(&C);
}

static void test_train_defaults(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m { input 4; dense 3; softmax }");
    assert_int_equal(C.rc, 0);
    const train_recipe *t = &C.m.train;
    assert_false(t->has_train_block);
    assert_int_equal(t->optimizer, SEQRT_OPT_ADAM);
    assert_close(t->lr, 0.001, 0);
    assert_int_equal(t->loss, SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    assert_int_equal(t->nmetrics, 0); /* Keras: no metrics line, no metrics */
    assert_false(t->from_logits);
    assert_close(t->delta, 1.0, 0);
    assert_int_equal(t->epochs, 10);
    assert_int_equal(t->batch, 32);
    assert_true(t->shuffle);
    assert_int_equal(t->seed, 42);
    done(&C);
}

/* The training recipe of issue #14: values, Keras's defaults, and the
 * monitors resolved against the metrics line (which may come after). */
static void test_recipe(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m { input 4; dense 1; sigmoid }\n"
             "train {\n"
             "  optimizer rmsprop momentum=0.5 weight_decay=0.01 clipnorm=2\n"
             "  schedule plateau monitor=val_auc patience=3 warmup=2 min_lr=1e-5\n"
             "  early_stopping monitor=loss patience=4 min_delta=0.01 restore_best=true\n"
             "  save_best true\n"
             "  metrics accuracy auc\n"
             "  loss binary_crossentropy\n"
             "}\n");
    assert_int_equal(C.rc, 0);
    const train_recipe *t = &C.m.train;
    assert_int_equal(t->optimizer, SEQRT_OPT_RMSPROP);
    assert_close(t->lr, 0.001, 0); /* Keras's RMSprop defaults */
    assert_close(t->rho, 0.9, 0);
    assert_close(t->epsilon, 1e-7, 0);
    assert_close(t->momentum, 0.5, 0);
    assert_close(t->weight_decay, 0.01, 0);
    assert_false(t->decay_norm_and_bias);
    assert_close(t->clipnorm, 2, 0);
    assert_close(t->clipvalue, 0, 0);
    assert_true(t->has_schedule);
    assert_int_equal(t->schedule.kind, SEQRT_SCHED_PLATEAU);
    assert_int_equal(t->schedule.patience, 3);
    assert_int_equal(t->schedule.warmup, 2);
    assert_close(t->schedule.factor, 0.1, 0);     /* ReduceLROnPlateau's */
    assert_close(t->schedule.min_delta, 1e-4, 0); /* ReduceLROnPlateau's */
    assert_close(t->schedule.min_lr, 1e-5, 0);
    assert_int_equal(t->schedule.monitor.metric, 1); /* auc */
    assert_int_equal(t->schedule.monitor.val, 1);
    assert_int_equal(t->schedule.monitor.maximize, 1);
    assert_true(t->early_stopping.enabled);
    assert_int_equal(t->early_stopping.monitor.metric, -1);
    assert_int_equal(t->early_stopping.monitor.val, 0);
    assert_int_equal(t->early_stopping.monitor.maximize, 0);
    assert_int_equal(t->early_stopping.patience, 4);
    assert_true(t->early_stopping.restore_best);
    assert_true(t->save_best);
    assert_int_equal(t->best_monitor.val, 0); /* early stopping's */
    assert_close(t->best_min_delta, 0.01, 0);
    done(&C);

    load(&C, "model m { input 4; dense 3; softmax }\n"
             "train { early_stopping; schedule step every=2 }\n");
    assert_int_equal(C.rc, 0);
    t = &C.m.train;
    assert_int_equal(t->early_stopping.patience, 0); /* EarlyStopping's defaults */
    assert_close(t->early_stopping.min_delta, 0, 0);
    assert_false(t->early_stopping.restore_best);
    assert_int_equal(t->early_stopping.monitor.metric, -1);
    assert_int_equal(t->early_stopping.monitor.val, 1); /* val_loss */
    assert_int_equal(t->schedule.every, 2);
    assert_close(t->schedule.factor, 0.1, 0); /* StepLR's gamma */
    done(&C);
}

/* drop_last and recalibrate_bn (issue #14): false unless written; batch 1
 * only without a layer that normalizes by the batch's statistics. */
static void test_batchnorm_recipe(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m { input 4; dense 3; softmax }");
    assert_false(C.m.train.drop_last);
    assert_false(C.m.train.recalibrate_bn);
    done(&C);
    load(&C, "model m { input 4; dense 3; batchnorm; softmax }\n"
             "train { drop_last true; recalibrate_bn true; batch 2 }\n");
    assert_int_equal(C.rc, 0);
    assert_true(C.m.train.drop_last);
    assert_true(C.m.train.recalibrate_bn);
    assert_true(layer_uses_batch_stats(&C.m.layers[2]));
    assert_false(layer_uses_batch_stats(&C.m.layers[1]));
    done(&C);
    load(&C, "model m { input 4; dense 3; relu; softmax }\ntrain { batch 1 }\n");
    assert_int_equal(C.rc, 0);
    done(&C);
    load(&C, "model m { input 4; dense 3; batchnorm; softmax }\ntrain { batch 1 }\n");
    assert_int_equal(C.rc, 1);
    assert_int_equal(C.d.errors, 1);
    assert_non_null(strstr(capture_text(&C.cap), "c.seq:2:15: error: batch 1 with batchnorm"));
    done(&C);
}

static void test_options(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m {\n"
             "  input 3x4x5\n"
             "  dense 8 bias=false init=he_normal\n"
             "  batchnorm momentum=0 epsilon=1e-5\n"
             "  leaky_relu alpha=0.1; dropout 0.25; tanh; sigmoid; flatten\n"
             "  dense 2 init=zeros\n"
             "}\n"
             "train { optimizer sgd momentum=0.9 nesterov=true; loss mse }\n");
    assert_int_equal(C.rc, 0);
    const layer *l = C.m.layers;
    assert_int_equal(l[0].ndims, 3);
    assert_int_equal(l[0].dims[2], 5);
    assert_false(l[1].bias);
    assert_int_equal(l[1].init, SEQRT_INIT_HE_NORMAL);
    assert_close(l[2].momentum, 0.0, 0);
    assert_close(l[2].epsilon, 1e-5, 1e-20);
    assert_close(l[3].alpha, 0.1, 0);
    assert_close(l[4].rate, 0.25, 0);
    assert_int_equal(l[9].init, SEQRT_INIT_ZEROS);
    const train_recipe *t = &C.m.train;
    assert_int_equal(t->optimizer, SEQRT_OPT_SGD);
    assert_close(t->lr, 0.01, 0); /* SGD's default, as Keras */
    assert_close(t->momentum, 0.9, 0);
    assert_true(t->nesterov);
    assert_int_equal(t->loss, SEQRT_LOSS_MSE);
    done(&C);
}

/* The losses, metrics and preprocessing layers of issue #11, as Keras
 * spells and resolves them. */
static void test_losses_metrics_preprocessing(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m {\n"
             "  input 6x4\n"
             "  rescale 1/255 offset=-0.5\n"
             "  normalize\n"
             "  flatten; dense 3; sigmoid\n"
             "}\n"
             "train {\n"
             "  loss binary_crossentropy\n"
             "  metrics accuracy auc binary_accuracy\n"
             "  validation_split 0.25\n"
             "}\n");
    assert_int_equal(C.rc, 0);
    const layer *l = C.m.layers;
    assert_int_equal(l[1].kind, LAYER_RESCALE);
    assert_close(l[1].scale, 1.0 / 255.0, 0);
    assert_close(l[1].offset, -0.5, 0);
    assert_int_equal(l[1].out.params, 0);
    assert_int_equal(l[2].kind, LAYER_NORMALIZE);
    /* one mean and one variance per feature of the last axis (4), none
     * trained (Keras's count scalar is not kept) */
    assert_int_equal(l[2].out.params, 8);
    assert_int_equal(l[2].out.trainable, 0);
    assert_int_equal(C.m.counts.non_trainable, 8);
    const train_recipe *t = &C.m.train;
    assert_int_equal(t->loss, SEQRT_LOSS_BINARY_CROSSENTROPY);
    assert_int_equal(t->nmetrics, 3);
    /* `accuracy` with binary cross-entropy is binary accuracy, named as written */
    assert_int_equal(t->metrics[0].kind, SEQRT_METRIC_BINARY_ACCURACY);
    assert_string_equal(t->metrics[0].name, "accuracy");
    assert_int_equal(t->metrics[1].kind, SEQRT_METRIC_AUC);
    assert_int_equal(t->metrics[2].kind, SEQRT_METRIC_BINARY_ACCURACY);
    assert_string_equal(t->metrics[2].name, "binary_accuracy");
    assert_close(t->validation_split, 0.25, 0);
    done(&C);

    load(&C, "model m { input 8; dense 5 }\n"
             "train { loss categorical_crossentropy from_logits=true\n"
             "  metrics accuracy sparse_top_k_categorical_accuracy mse k=3 }\n");
    assert_int_equal(C.rc, 0);
    t = &C.m.train;
    assert_true(t->from_logits);
    assert_int_equal(t->metrics[0].kind, SEQRT_METRIC_ACCURACY);
    assert_int_equal(t->metrics[1].kind, SEQRT_METRIC_TOP_K);
    assert_int_equal(t->metrics[1].k, 3);
    assert_int_equal(t->metrics[2].kind, SEQRT_METRIC_MSE);
    done(&C);

    /* regression: any width, any last layer; huber's delta */
    load(&C, "model m { input 8; dense 1 }\ntrain { loss huber delta=0.5; metrics mae rmse }");
    assert_int_equal(C.rc, 0);
    assert_int_equal(C.m.train.loss, SEQRT_LOSS_HUBER);
    assert_close(C.m.train.delta, 0.5, 0);
    done(&C);
    load(&C, "model m { input 8; dense 3; softmax }\ntrain { loss mse }");
    assert_int_equal(C.rc, 0);
    done(&C);
    /* binary cross-entropy: K independent labels, K >= 1 */
    load(&C, "model m { input 8; dense 1; sigmoid }\ntrain { loss binary_crossentropy }");
    assert_int_equal(C.rc, 0);
    done(&C);
}

static void test_several_errors_in_one_run(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m {\n"
             "  input 28x28\n"
             "  dense 0\n"
             "  batchnrom\n"
             "  dropout 1.5\n"
             "  dense 10; softmax\n"
             "}\n"
             "train { epochs 0; optimizer adam lr=0 }\n");
    assert_int_equal(C.rc, 1);
    assert_int_equal(C.d.errors, 5);
    const char *out = capture_text(&C.cap);
    assert_non_null(strstr(out, "c.seq:3:9: error: units must be at least 1, got 0\n"));
    assert_non_null(strstr(out, "c.seq:4:3: error: unknown layer 'batchnrom'; did you mean 'batchnorm'?\n"));
    assert_non_null(strstr(out, "c.seq:5:11: error: dropout rate must be in [0, 1), got 1.5\n"));
    assert_non_null(strstr(out, "c.seq:8:16: error: epochs must be at least 1, got 0\n"));
    assert_non_null(strstr(out, "c.seq:8:37: error: lr must be greater than 0, got 0\n"));
    done(&C);
}

static void test_warning_only(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m { input 4; dense 3; softmax; dense 2; softmax }");
    assert_int_equal(C.rc, 0);
    assert_int_equal(C.d.warnings, 1);
    assert_int_equal(C.d.errors, 0);
    assert_non_null(strstr(capture_text(&C.cap), "c.seq:1:29: warning: 'softmax' is not the last"));
    done(&C);
}

/* the normalization layers' defaults and options, and their counts by
 * Keras's rules (gamma and beta trainable, moving statistics not, a
 * frozen layer nothing); a momentum below 0.5 warns and is kept */
static void test_norm_options(void **state)
{
    (void)state;
    checked C;
    load(&C, "model m {\n  input 4x4x8\n"
             "  batchnorm; batchnorm center=false scale=false frozen=true epsilon=0.01\n"
             "  batchnorm virtual_batch=4 momentum=0.2\n"
             "  batchnorm renorm=true rmax=2 dmax=0\n"
             "  layernorm scale=false; groupnorm groups=8; groupnorm groups=4 center=false\n"
             "  flatten\n  dense 3; softmax\n}\ntrain { batch 8 }\n");
    assert_int_equal(C.rc, 0);
    assert_int_equal(C.d.errors, 0);
    assert_int_equal(C.d.warnings, 1);
    assert_non_null(strstr(capture_text(&C.cap), "c.seq:4:38: warning: momentum=0.2"));
    const layer *l = C.m.layers;
    /* defaults */
    assert_true(l[1].center && l[1].gamma && !l[1].frozen && !l[1].renorm);
    assert_int_equal(l[1].virtual_batch, 0);
    assert_close(l[1].rmax, 3.0, 0);
    assert_close(l[1].dmax, 5.0, 0);
    assert_int_equal(l[1].out.params, 32);
    assert_int_equal(l[1].out.trainable, 16);
    /* neither gamma nor beta, frozen: 2 x 8, none trainable */
    assert_true(!l[2].center && !l[2].gamma && l[2].frozen);
    assert_close(l[2].epsilon, 0.01, 0);
    assert_int_equal(l[2].out.params, 16);
    assert_int_equal(l[2].out.trainable, 0);
    assert_int_equal(l[3].virtual_batch, 4);
    assert_close(l[3].momentum, 0.2, 0);
    assert_true(l[4].renorm);
    assert_close(l[4].rmax, 2.0, 0);
    assert_close(l[4].dmax, 0.0, 0);
    assert_int_equal(l[4].out.params, 32);
    /* layernorm without gamma: beta only; groupnorm without beta: gamma */
    assert_int_equal(l[5].kind, LAYER_LAYERNORM);
    assert_int_equal(l[5].out.params, 8);
    assert_int_equal(l[5].out.trainable, 8);
    assert_int_equal(l[6].norm_groups, 8);
    assert_int_equal(l[6].out.params, 16);
    assert_int_equal(l[7].kind, LAYER_GROUPNORM);
    assert_int_equal(l[7].norm_groups, 4);
    assert_int_equal(l[7].out.params, 8);
    assert_int_equal(l[7].out.groups, 16); /* positions: rows of the last axis */
    done(&C);

    /* Keras's default of 32 groups on 8 channels: refused, suggesting 8 */
    load(&C, "model m {\n  input 4x4x8\n  groupnorm\n  flatten\n  dense 3; softmax\n}\n");
    assert_int_equal(C.rc, 1);
    assert_int_equal(C.m.layers[1].norm_groups, 32);
    assert_non_null(strstr(capture_text(&C.cap), "e.g. groups=8"));
    done(&C);
}

static void test_model_without(void **state)
{
    (void)state;
    checked C;
    load(&C, mnist);
    const layer_kind bn = LAYER_BATCHNORM, input = LAYER_INPUT, relu = LAYER_RELU;
    assert_int_equal(model_without(&C.m, &bn, 1), 0);
    assert_int_equal(C.m.nlayers, 7);
    for (size_t i = 0; i < C.m.nlayers; i++)
        assert_int_not_equal(C.m.layers[i].kind, LAYER_BATCHNORM);
    assert_int_equal(C.m.layers[2].kind, LAYER_RELU);
    assert_true(C.m.shaped); /* checked again: new counts */
    assert_int_equal(C.m.counts.total, 109386);
    assert_int_equal(C.m.counts.non_trainable, 0);
    assert_int_equal(model_without(&C.m, &input, 1), 0); /* never dropped */
    assert_int_equal(C.m.nlayers, 7);
    assert_int_equal(C.m.layers[0].kind, LAYER_INPUT);
    assert_int_equal(model_without(&C.m, &relu, 1), 0);
    assert_int_equal(C.m.nlayers, 5);
    assert_int_equal(C.d.errors, 0);
    done(&C);
}

/* An edited model goes through the same rules as a file, and the errors
 * point at the file's lines. */
static void test_without_checked_again(void **state)
{
    (void)state;
    checked C;
    load(&C, mnist);
    const layer_kind dense = LAYER_DENSE;
    assert_int_equal(model_without(&C.m, &dense, 1), 1);
    assert_false(C.m.shaped);
    assert_int_equal(C.d.errors, 1);
    /* 28x28 stays 28x28 through batchnorm, relu and softmax */
    assert_non_null(strstr(capture_text(&C.cap),
                           "c.seq:5:14: error: the model's output is not flat: each sample ends "
                           "as 28x28 values"));
    assert_non_null(strstr(capture_text(&C.cap), "c.seq:2:3: note: a sample keeps the input's"));
    assert_non_null(strstr(capture_text(&C.cap), "c.seq:3:3: note: checked without this 'dense' "
                                                 "and every other one (--without dense)"));
    done(&C);

    /* dropping the second dense widens the last one's input: counted again */
    load(&C, "model m {\n  input 4\n  dense 3; tanh\n  dense 2\n}\ntrain { loss mse }\n");
    const layer_kind tanh_ = LAYER_TANH;
    assert_int_equal(model_without(&C.m, &tanh_, 1), 0);
    assert_int_equal(C.m.counts.total, 4 * 3 + 3 + 3 * 2 + 2);
    done(&C);
}

/* --replace OLD=NEW: every OLD layer becomes a NEW one, the options both
 * take carried over, and the model checked again. */
static void test_model_replace(void **state)
{
    (void)state;
    checked C;
    load(&C, mnist);
    assert_int_equal(model_replace(&C.m, LAYER_RELU, LAYER_TANH), 0);
    assert_int_equal(C.m.layers[3].kind, LAYER_TANH);
    assert_int_equal(C.m.layers[3].line, 3);
    assert_int_equal(C.m.layers[6].kind, LAYER_TANH);
    assert_true(C.m.shaped);
    assert_int_equal(C.m.counts.total, 110154);
    /* batchnorm's momentum and epsilon are dropped; its parameters go */
    assert_int_equal(model_replace(&C.m, LAYER_BATCHNORM, LAYER_RELU), 0);
    assert_int_equal(C.m.layers[2].kind, LAYER_RELU);
    assert_int_equal(C.m.counts.total, 109386);
    assert_int_equal(C.m.counts.non_trainable, 0);
    assert_int_equal(C.d.errors, 0);
    done(&C);

    /* a shared argument and shared options carry over */
    load(&C, "model m {\n  input 8x8x1\n  maxpool2d 3 stride=2 padding=same\n  flatten\n"
             "  dense 2; softmax\n}\n");
    assert_int_equal(C.rc, 0);
    assert_int_equal(model_replace(&C.m, LAYER_MAXPOOL2D, LAYER_AVGPOOL2D), 0);
    const layer *p = &C.m.layers[1];
    assert_int_equal(p->kind, LAYER_AVGPOOL2D);
    assert_int_equal(p->kernel[0], 3);
    assert_int_equal(p->stride[1], 2);
    assert_true(p->same);
    assert_int_equal(p->out.dims[0], 4);
    done(&C);

    /* a kind that needs an argument the old one does not take: refused
     * where the first old layer is */
    load(&C, mnist);
    assert_int_equal(model_replace(&C.m, LAYER_BATCHNORM, LAYER_DROPOUT), 1);
    assert_false(C.m.shaped);
    assert_non_null(strstr(capture_text(&C.cap),
                           "c.seq:3:14: error: 'dropout' cannot stand in for this 'batchnorm' "
                           "(--replace batchnorm=dropout): 'dropout' needs a rate, which "
                           "'batchnorm' does not take"));
    done(&C);
}

/* Every kind in place of every other: either a reason or a layer, never
 * an option without a rule to carry it (check.c's copy_option). */
static void test_replace_every_pair(void **state)
{
    (void)state;
    for (int f = 0; f < LAYER_KIND_COUNT; f++) {
        for (int t = 0; t < LAYER_KIND_COUNT; t++) {
            layer from, to;
            memset(&from, 0, sizeof from);
            from.kind = (layer_kind)f;
            from.loc.line = from.line = 7;
            from.epsilon = 0.25;
            from.units = from.filters = 5;
            from.kernel[0] = from.kernel[1] = 2;
            char why[512] = "";
            int ok = check_replace_layer(&from, (layer_kind)t, &to, why, sizeof why);
            if (f == LAYER_INPUT || t == LAYER_INPUT) {
                assert_int_equal(ok, 0);
                continue;
            }
            if (!ok) {
                assert_true(strlen(why) > 0);
                continue;
            }
            assert_int_equal(to.kind, t);
            assert_int_equal(to.line, 7);
        }
    }
    /* the cases a user meets, one line each */
    static const struct { layer_kind from, to; int ok; } cases[] = {
        {LAYER_RELU, LAYER_TANH, 1},        {LAYER_BATCHNORM, LAYER_RELU, 1},
        {LAYER_MAXPOOL2D, LAYER_AVGPOOL2D, 1}, {LAYER_BATCHNORM, LAYER_DROPOUT, 0},
        {LAYER_RELU, LAYER_DENSE, 0},       {LAYER_DENSE, LAYER_CONV2D, 0},
        {LAYER_BATCHNORM, LAYER_LAYERNORM, 1}, {LAYER_BATCHNORM, LAYER_GROUPNORM, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        layer from, to;
        memset(&from, 0, sizeof from);
        from.kind = cases[i].from;
        char why[512];
        assert_int_equal(check_replace_layer(&from, cases[i].to, &to, why, sizeof why),
                         cases[i].ok);
    }
}

static void test_counts(void **state)
{
    (void)state;
    checked C;
    load(&C, mnist);
    const layer *l = C.m.layers;
    assert_true(C.m.shaped);
    assert_int_equal(C.m.counts.total, 110154);
    assert_int_equal(C.m.counts.trainable, 109770);
    assert_int_equal(C.m.counts.non_trainable, 384);
    assert_int_equal(l[0].out.ndims, 2); /* the input keeps its shape */
    assert_int_equal(l[0].out.size, 784);
    assert_int_equal(l[0].out.groups, 28);
    assert_int_equal(l[1].out.params, 100480);
    assert_int_equal(l[1].out.dims[0], 128);
    assert_int_equal(l[1].out.groups, 1);
    assert_int_equal(l[2].out.params, 512);
    assert_int_equal(l[2].out.trainable, 256);
    assert_int_equal(l[8].out.dims[0], 10);
    done(&C);

    /* batchnorm before flatten: one feature per value of the last axis */
    load(&C, "model m { input 3x4x5; batchnorm; flatten; dense 2; softmax }");
    assert_int_equal(C.rc, 0);
    assert_int_equal(C.m.layers[1].out.params, 4 * 5);
    assert_int_equal(C.m.layers[1].out.groups, 12);
    assert_int_equal(C.m.layers[2].out.size, 60);
    assert_int_equal(C.m.layers[3].out.params, 60 * 2 + 2);
    done(&C);

    /* 20 billion parameters: counted in 64 bits, not wrapped, but too
     * large to train (check refuses it, with the reason) */
    load(&C, "model big {\n  input 200000\n  dense 100000\n  dense 10\n}");
    assert_int_equal(C.rc, 1);
    assert_true(C.m.counts.total == 20000100000ull + 1000010ull);
    assert_non_null(strstr(capture_text(&C.cap),
                           "c.seq:3:3: error: the model is too large to train: with adam and a batch of 32 it needs "));
    assert_non_null(strstr(capture_text(&C.cap), "(20,000,100,000 parameters)"));
    char buf[32];
    assert_string_equal(summary_commas(C.m.counts.total, buf, sizeof buf), "20,001,100,010");
    done(&C);

    /* more than 2^64 is refused, at the layer where the count overflows */
    load(&C, "model huge { input 2000000000\n"
             "  dense 2000000000; dense 2000000000; dense 2000000000\n"
             "  dense 2000000000; dense 2000000000 }");
    assert_int_equal(C.rc, 1);
    assert_non_null(strstr(capture_text(&C.cap),
                           "c.seq:3:21: error: the model has more parameters than a 64-bit count"));
    done(&C);
}

/* The rules the back end relies on, each refused by the check. */
static void test_whole_model_rules(void **state)
{
    (void)state;
    static const struct {
        const char *src, *msg;
    } cases[] = {
        {"model m { input 28x28; batchnorm; sigmoid }\ntrain { loss mse }",
         "c.seq:1:35: error: the model's output is not flat"},
        {"model m { input 4; dense 1; sigmoid }\ntrain { loss categorical_crossentropy }",
         "c.seq:2:14: error: categorical_crossentropy needs at least 2 outputs"},
        {"model m { input 4; dense 3 }\ntrain { loss sparse_categorical_crossentropy }",
         "c.seq:2:14: error: sparse_categorical_crossentropy needs probabilities, but the "
         "model ends in 'dense'"},
        {"model m { input 4; dense 3; sigmoid }\ntrain { loss binary_crossentropy "
         "from_logits=true }",
         "c.seq:1:29: error: the model ends in 'sigmoid', but with from_logits=true"},
        {"model m { input 4; dense 3; normalize; softmax }",
         "c.seq:1:29: error: 'normalize' learns the statistics of the input"},
        {"model m { input 4; dense 3; softmax }\ntrain { metrics auc }",
         "c.seq:2:17: error: metric 'auc' needs binary_crossentropy"},
        {"model m { input 200000; dense 200000; dense 10 }",
         "c.seq:1:25: error: the model is too large to train"},
        {"model m { input 28x28; dense 2000000000 }",
         "c.seq:1:24: error: the model is too large to train"},
        {"model m { input 100000000x2; batchnorm; flatten; dense 2 }",
         "c.seq:1:30: error: 'batchnorm' works on the last axis: 100000000 rows per sample here, 3200000000 for a batch of 32"},
        {"model m { input 4; relu }", "c.seq:1:11: error: the model has nothing to train"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        checked C;
        load(&C, cases[i].src);
        assert_int_equal(C.rc, 1);
        assert_false(C.m.shaped);
        if (!strstr(capture_text(&C.cap), cases[i].msg))
            fail_msg("%s\ngave\n%s", cases[i].src, capture_text(&C.cap));
        done(&C);
    }
}

static void test_commas(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(summary_commas(0, buf, sizeof buf), "0");
    assert_string_equal(summary_commas(999, buf, sizeof buf), "999");
    assert_string_equal(summary_commas(1000, buf, sizeof buf), "1,000");
    assert_string_equal(summary_commas(110154, buf, sizeof buf), "110,154");
    assert_string_equal(summary_commas(UINT64_MAX, buf, sizeof buf), "18,446,744,073,709,551,615");
}

static void test_suggest(void **state)
{
    (void)state;
    assert_int_equal(suggest_distance("batchnrom", "batchnorm"), 1); /* a swap */
    assert_int_equal(suggest_distance("dens", "dense"), 1);
    assert_int_equal(suggest_distance("Dense", "dense"), 0);
    assert_int_equal(suggest_distance("relu", "tanh"), 4);
    static const char *const names[] = {"input", "dense", "batchnorm", "relu", "dropout"};
    assert_string_equal(suggest("batchnrom", names, 5), "batchnorm");
    assert_string_equal(suggest("DENSE", names, 5), "dense");
    assert_string_equal(suggest("dropot", names, 5), "dropout");
    assert_null(suggest("conv2d", names, 5));
    assert_null(suggest("x", names, 5));
}

static void test_layer_names(void **state)
{
    (void)state;
    for (int k = 0; k < LAYER_KIND_COUNT; k++)
        assert_int_equal(layer_kind_from_name(layer_kind_name((layer_kind)k)), k);
    assert_int_equal(layer_kind_from_name("batchnorm"), LAYER_BATCHNORM);
    assert_int_equal(layer_kind_from_name("BatchNorm"), -1);
    assert_string_equal(init_kind_name(SEQRT_INIT_GLOROT_UNIFORM), "glorot_uniform");
    assert_string_equal(loss_kind_name(SEQRT_LOSS_MSE), "mse");
    assert_string_equal(optimizer_kind_name(SEQRT_OPT_SGD), "sgd");
    /* the runtime's enums and names: every kind named, every name found */
    assert_int_equal(names_init.count, SEQRT_INIT_COUNT_);
    assert_int_equal(names_loss.count, SEQRT_LOSS_COUNT_);
    assert_int_equal(names_optimizer.count, SEQRT_OPT_COUNT_);
    for (int k = 0; k < SEQRT_INIT_COUNT_; k++)
        assert_int_equal(names_find(&names_init, init_kind_name((init_kind)k)), k);
    assert_int_equal(names_find(&names_init, "glorot"), -1);
    assert_string_equal(layer_keras_class(LAYER_BATCHNORM), "BatchNormalization");
}

static void test_not_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t      len;
        const char *msg;
    } cases[] = {
        {"model m {\n in\0put 4 }", 20, "c.seq:2:4: error: not a text file: NUL byte\n"},
        {"model \xff", 7, "c.seq:1:7: error: not a text file: byte 0xff is not UTF-8\n"},
        {"# \xc0\xaf overlong", 12, "c.seq:1:3: error: not a text file: byte 0xc0 is not UTF-8\n"},
        {"# \xed\xa0\x80 surrogate", 15, "c.seq:1:3: error: not a text file: byte 0xed is not UTF-8\n"},
        {"# \xe2\x82", 4, "c.seq:1:3: error: not a text file: byte 0xe2 is not UTF-8\n"},
        {"", 0, "c.seq: error: the file is empty; a model file starts with 'model NAME { input SHAPE ... }'\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        checked C;
        arena_init(&C.a);
        capture_start(&C.cap, &C.d, "c.seq", NULL);
        C.rc = frontend_load_text(&C.a, &C.d, cases[i].text, cases[i].len, &C.m);
        assert_int_equal(C.rc, 1);
        assert_int_equal(C.d.errors, 1);
        assert_string_equal(capture_text(&C.cap), cases[i].msg);
        done(&C);
    }
    /* UTF-8 in a comment is fine */
    checked C;
    load(&C, "# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\nmodel m { input 4; dense 2; softmax }");
    assert_int_equal(C.rc, 0);
    done(&C);
}

static void test_errors_shown_are_capped(void **state)
{
    (void)state;
    /* every error is counted; the first DIAG_MAX_SHOWN are shown */
    enum { N = DIAG_MAX_SHOWN + 30 };
    char *src = malloc(32 + N * 10);
    assert_non_null(src);
    char *p = src + sprintf(src, "model m {\n  input 4\n");
    for (int i = 0; i < N; i++)
        p += sprintf(p, "  dense 0\n");
    sprintf(p, "}\n");
    checked C;
    load(&C, src);
    assert_int_equal(C.rc, 1);
    assert_int_equal(C.d.errors, N);
    /* more than the capture buffer holds: read the whole stream */
    fflush(C.cap.fp);
    long size = ftell(C.cap.fp);
    char *all = malloc((size_t)size + 1);
    assert_non_null(all);
    rewind(C.cap.fp);
    size_t got = fread(all, 1, (size_t)size, C.cap.fp);
    all[got] = '\0';
    /* errors start on line 3: the 20th is on line 22 */
    assert_int_equal(DIAG_MAX_SHOWN, 20);
    assert_non_null(strstr(all, "c.seq:22:9: error: units must be at least 1, got 0\n"));
    assert_null(strstr(all, "c.seq:23:9:"));
    assert_non_null(
        strstr(all, "c.seq: error: too many errors (more than 20); the rest are not shown\n"));
    free(all);
    done(&C);
    free(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mnist_model),
        cmocka_unit_test(test_train_defaults),
        cmocka_unit_test(test_recipe),
        cmocka_unit_test(test_batchnorm_recipe),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_losses_metrics_preprocessing),
        cmocka_unit_test(test_several_errors_in_one_run),
        cmocka_unit_test(test_warning_only),
        cmocka_unit_test(test_norm_options),
        cmocka_unit_test(test_model_without),
        cmocka_unit_test(test_without_checked_again),
        cmocka_unit_test(test_model_replace),
        cmocka_unit_test(test_replace_every_pair),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_whole_model_rules),
        cmocka_unit_test(test_commas),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_layer_names),
        cmocka_unit_test(test_not_text),
        cmocka_unit_test(test_errors_shown_are_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
