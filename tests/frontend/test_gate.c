/*
 * test_gate.c: `seqc check` is the gate, as a property.
 *
 * A generator (fixed seed, so every run sees the same files) writes many
 * random, syntactically valid model files: every layer kind and option,
 * sizes from 1 to past the limits (2147483648 units, 200000x200000
 * inputs), odd combinations (a model with no dense, batchnorm on an input
 * that is not flat, convolutions and pools on images, on flat samples,
 * with kernels larger than the image and past the limits, a 1-wide output with each loss, every loss after
 * softmax, sigmoid or neither, with and without from_logits, every metric
 * with every loss, normalize anywhere, huge batches). Each
 * goes through the check exactly as `seqc check` runs it, and then:
 *
 *   - accepted: lowering, every pass and the C generator (to a memory
 *     stream: the functions `seqc build` uses) must succeed, the IR must
 *     count the parameters the summary counts, and the summary prints;
 *     one file in 20 also goes through the C compiler (-Werror);
 *   - refused: every error must be located (FILE:LINE:COL: error:);
 *
 * and the same again for the model without one random layer kind, as
 * `--without KIND` does. A disagreement fails the test and prints the
 * file. A broken invariant in the back end aborts (SEQC_BUG); the file
 * being compiled is printed first by a SIGABRT/SIGSEGV handler.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"
#include "fe_testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "back/codegen.h"
#include "front/frontend.h"
#include "front/names.h"
#include "front/summary.h"
#include "ir/ir.h"
#include "util/bug.h"
#include "util/sbuf.h"

enum { NFILES = 1000 };

/* ------------------------------------------------------------ generator */

typedef struct gen {
    uint64_t state;
    sbuf     out;
    uint64_t norm; /* a second stream for the normalization options, so
                      that adding them left the other choices as they were */
} gen;

static uint32_t rnd(gen *g, uint32_t n)
{
    g->state ^= g->state >> 12;
    g->state ^= g->state << 25;
    g->state ^= g->state >> 27;
    return (uint32_t)((g->state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

#define PICK(g, arr) ((arr)[rnd((g), sizeof(arr) / sizeof *(arr))])

static uint32_t rnd_norm(gen *g, uint32_t n)
{
    gen h = {.state = g->norm};
    uint32_t v = rnd(&h, n);
    g->norm = h.state;
    return v;
}

#define PICK_NORM(g, arr) ((arr)[rnd_norm((g), sizeof(arr) / sizeof *(arr))])

/* sizes: small, typical, near and past every limit */
static const char *const sizes[] = {"1",      "2",      "3",          "10",         "28",
                                    "64",     "128",    "1000",       "46341",      "100000",
                                    "200000", "100000000", "2000000000", "2147483647", "2147483648"};
static const char *const small_sizes[] = {"1", "2", "3", "4", "10", "16", "32", "64", "128"};
static const char *const fractions[] = {"0", "0.1", "0.5", "0.99", "1", "1.5", "-0.1", "1e-50"};
/* past what a float holds, both ways */
static const char *const positives[] = {"1e-7", "0.001", "1", "0", "-1", "1e-50", "1e39", "3e38"};
static const char *const bools[] = {"true", "false"};
/* virtual_batch and groupnorm's groups: mostly dividers of what they split */
static const char *const ghost_sizes[] = {"1", "2", "4", "8", "3"};

static void gen_shape(gen *g)
{
    /* tall samples: a per-feature kernel on the last axis sees many rows */
    static const char *const tall[] = {"100000000x2", "100000000x1", "50000000x2x1", "3000000x7"};
    if (rnd(g, 12) == 0) {
        sb_printf(&g->out, "%s", PICK(g, tall));
        return;
    }
    int ndims = 1 + (int)rnd(g, 4);
    for (int d = 0; d < ndims; d++)
        sb_printf(&g->out, "%s%s", d ? "x" : "", rnd(g, 3) ? PICK(g, small_sizes) : PICK(g, sizes));
}

static void gen_layer_kind(gen *g, layer_kind k);

/* image: the sample is HxWxC so far; then half the layers come from
 * those that keep it one */
static void gen_layer(gen *g, bool image)
{
    static const layer_kind on_images[] = {LAYER_CONV2D, LAYER_CONV2D, LAYER_MAXPOOL2D,
                                           LAYER_AVGPOOL2D, LAYER_BATCHNORM, LAYER_RELU,
                                           LAYER_DROPOUT};
    layer_kind k = image && rnd(g, 2) ? PICK(g, on_images)
                                      : (layer_kind)(1 + rnd(g, LAYER_KIND_COUNT - 1));
    bool spatial = k == LAYER_CONV2D || k == LAYER_MAXPOOL2D || k == LAYER_AVGPOOL2D ||
                   k == LAYER_GLOBAL_AVGPOOL2D || k == LAYER_GLOBAL_MAXPOOL2D;
    if (spatial && !image && rnd(g, 4)) /* mostly refused on other samples: fewer */
        k = LAYER_RELU;
    gen_layer_kind(g, k);
}

/* A layer of kind k with random arguments and options */
static void gen_layer_kind(gen *g, layer_kind k)
{
    if (k == LAYER_NORMALIZE && rnd(g, 3)) /* mostly misplaced here: fewer of them */
        k = LAYER_RELU;
    sb_printf(&g->out, "%s", layer_kind_name(k));
    switch (k) {
    case LAYER_DENSE:
        sb_printf(&g->out, " %s", rnd(g, 3) ? PICK(g, small_sizes) : PICK(g, sizes));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " bias=%s", PICK(g, bools));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " init=%s", names_init.names[rnd(g, (uint32_t)names_init.count)]);
        break;
    case LAYER_BATCHNORM:
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " momentum=%s", PICK(g, fractions));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " epsilon=%s", PICK(g, positives));
        /* one of batchnorm's other options, now and then (several
         * exclude each other, and without gamma and beta a model may have
         * nothing to train: both refused) */
        switch (rnd_norm(g, 16)) {
        case 0: sb_printf(&g->out, " center=%s", PICK_NORM(g, bools)); break;
        case 1: sb_printf(&g->out, " scale=false center=%s", PICK_NORM(g, bools)); break;
        case 2: sb_printf(&g->out, " frozen=%s", PICK_NORM(g, bools)); break;
        case 3: sb_printf(&g->out, " virtual_batch=%s", PICK_NORM(g, ghost_sizes)); break;
        case 4: sb_printf(&g->out, " renorm=true rmax=2 dmax=1"); break;
        case 5: sb_printf(&g->out, " frozen=true virtual_batch=2"); break;
        case 6: sb_printf(&g->out, " sync=%s", PICK_NORM(g, bools)); break;
        case 7: sb_printf(&g->out, " virtual_batch=2 sync=%s", PICK_NORM(g, bools)); break;
        default: break;
        }
        break;
    case LAYER_LAYERNORM:
    case LAYER_GROUPNORM:
        if (k == LAYER_GROUPNORM && rnd_norm(g, 8)) /* 32 groups need 32 channels */
            sb_printf(&g->out, " groups=%s", rnd_norm(g, 4) ? "1" : PICK_NORM(g, ghost_sizes));
        if (rnd_norm(g, 4) == 0)
            sb_printf(&g->out, " %s=%s", rnd_norm(g, 2) ? "center" : "scale",
                      PICK_NORM(g, bools));
        if (rnd_norm(g, 4) == 0)
            sb_printf(&g->out, " epsilon=%s", PICK_NORM(g, positives));
        break;
    case LAYER_LEAKY_RELU:
        if (rnd(g, 2) == 0)
            sb_printf(&g->out, " alpha=%s", PICK(g, positives));
        break;
    case LAYER_DROPOUT:
        sb_printf(&g->out, " %s", PICK(g, fractions));
        break;
    case LAYER_RESCALE: {
        static const char *const scales[] = {"1/255", "0.5", "2", "-1", "1/255", "0.5", "2", "-1", "0", "1e-50",
                                             "9999999999999999999999999999999999999999/1"};
        sb_printf(&g->out, " %s", PICK(g, scales));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " offset=%s", PICK(g, positives));
        break;
    }
    case LAYER_CONV2D: {
        /* kernels, strides and dilations that fit, and (one in eight)
         * values that do not or that pass every limit */
        static const char *const kernels[] = {"1", "2", "3", "3", "5", "3x5", "1x7"};
        static const char *const bad_kernels[] = {"0", "65536", "2147483647", "3x3x3"};
        static const char *const strides[] = {"1", "2", "2x1", "3"};
        static const char *const dilations[] = {"1", "2", "3x1"};
        static const char *const paddings[] = {"valid", "same"};
        static const char *const bad[] = {"0", "full", "-1", "2147483648"};
        sb_printf(&g->out, " %s", rnd(g, 6) ? PICK(g, small_sizes) : PICK(g, sizes));
        if (rnd(g, 12))
            sb_printf(&g->out, " kernel=%s", rnd(g, 8) ? PICK(g, kernels) : PICK(g, bad_kernels));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " stride=%s", rnd(g, 8) ? PICK(g, strides) : PICK(g, bad));
        if (rnd(g, 2) == 0)
            sb_printf(&g->out, " padding=%s", rnd(g, 8) ? PICK(g, paddings) : PICK(g, bad));
        if (rnd(g, 4) == 0)
            sb_printf(&g->out, " dilation=%s", rnd(g, 8) ? PICK(g, dilations) : PICK(g, bad));
        if (rnd(g, 4) == 0)
            sb_printf(&g->out, " bias=%s", PICK(g, bools));
        if (rnd(g, 4) == 0)
            sb_printf(&g->out, " init=%s", names_init.names[rnd(g, (uint32_t)names_init.count)]);
        break;
    }
    case LAYER_MAXPOOL2D:
    case LAYER_AVGPOOL2D: {
        static const char *const pools[] = {"1", "2", "2", "3", "2x1"};
        static const char *const strides[] = {"1", "2", "1x2"};
        static const char *const bad[] = {"0", "100000", "2x2x2", "same"};
        if (rnd(g, 12))
            sb_printf(&g->out, " %s", rnd(g, 8) ? PICK(g, pools) : PICK(g, bad));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " stride=%s", rnd(g, 8) ? PICK(g, strides) : PICK(g, bad));
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " padding=%s", rnd(g, 2) ? "same" : "valid");
        break;
    }
    default:
        break;
    }
}

/* The model's last layer: what the loss is mostly paired with */
typedef enum gen_end { END_SOFTMAX, END_SIGMOID, END_NONE } gen_end;

static void gen_train(gen *g, gen_end end)
{
    static const char *const batches[] = {"1", "32", "1000", "100000", "2147483647"};
    sb_printf(&g->out, "train {\n");
    if (rnd(g, 2)) {
        int adam = (int)rnd(g, 2);
        sb_printf(&g->out, "  optimizer %s", adam ? "adam" : "sgd");
        if (rnd(g, 2))
            sb_printf(&g->out, " lr=%s", PICK(g, positives));
        if (!adam && rnd(g, 2))
            sb_printf(&g->out, " momentum=%s", PICK(g, fractions));
        if (adam && rnd(g, 3) == 0)
            sb_printf(&g->out, " beta2=%s", PICK(g, fractions));
        sb_printf(&g->out, "\n");
    }
    if (rnd(g, 4)) {
        /* mostly a loss that fits the model's end, else any */
        static const int fits[][3] = {
            [END_SOFTMAX] = {SEQRT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                             SEQRT_LOSS_CATEGORICAL_CROSSENTROPY, SEQRT_LOSS_MSE},
            [END_SIGMOID] = {SEQRT_LOSS_BINARY_CROSSENTROPY, SEQRT_LOSS_BINARY_CROSSENTROPY,
                             SEQRT_LOSS_MAE},
            [END_NONE] = {SEQRT_LOSS_HUBER, SEQRT_LOSS_MSE, SEQRT_LOSS_CATEGORICAL_CROSSENTROPY},
        };
        int k = rnd(g, 4) ? fits[end][rnd(g, 3)] : (int)rnd(g, (uint32_t)names_loss.count);
        sb_printf(&g->out, "  loss %s", names_loss.names[k]);
        if (end == END_NONE && k == SEQRT_LOSS_CATEGORICAL_CROSSENTROPY)
            sb_printf(&g->out, " from_logits=true");
        else if (rnd(g, 6) == 0)
            sb_printf(&g->out, " from_logits=%s", PICK(g, bools));
        if (k == SEQRT_LOSS_HUBER && rnd(g, 2))
            sb_printf(&g->out, " delta=%s", PICK(g, positives));
        sb_printf(&g->out, "\n");
    }
    if (rnd(g, 3) == 0) {
        sb_printf(&g->out, "  metrics accuracy\n");
    } else if (rnd(g, 3) == 0) {
        sb_printf(&g->out, "  metrics %s",
                  names_metric.names[rnd(g, (uint32_t)names_metric.count)]);
        if (rnd(g, 2))
            sb_printf(&g->out, " %s", names_metric.names[rnd(g, (uint32_t)names_metric.count)]);
        if (rnd(g, 3) == 0)
            sb_printf(&g->out, " k=%s", PICK(g, small_sizes));
        sb_printf(&g->out, "\n");
    }
    if (rnd(g, 5) == 0)
        sb_printf(&g->out, "  validation_split %s\n", PICK(g, fractions));
    if (rnd(g, 2))
        sb_printf(&g->out, "  batch %s\n", PICK(g, batches));
    if (rnd(g, 3) == 0)
        sb_printf(&g->out, "  epochs %s\n", rnd(g, 2) ? "1" : "2147483647");
    if (rnd(g, 3) == 0)
        sb_printf(&g->out, "  shuffle %s\n  seed %u\n", PICK(g, bools), rnd(g, 1000));
    sb_printf(&g->out, "}\n");
}

/* One model file into g->out. Most end with `dense N; softmax`, as real
 * models do, so that many pass and reach the back end. */
static void gen_file(gen *g)
{
    g->out.n = 0;
    sb_printf(&g->out, "model m%u {\n  input ", rnd(g, 100));
    /* a third are images HxWxC, where the convolutions and pools fit */
    bool image = rnd(g, 3) == 0;
    if (image) {
        static const char *const sides[] = {"1", "2", "5", "8", "28", "32", "100"};
        static const char *const channels[] = {"1", "1", "3", "4"};
        sb_printf(&g->out, "%sx%sx%s", PICK(g, sides), PICK(g, sides), PICK(g, channels));
    } else {
        gen_shape(g);
    }
    sb_printf(&g->out, "\n");
    if (rnd(g, 8) == 0)
        sb_printf(&g->out, "  rescale 1/255\n");
    if (rnd(g, 6) == 0)
        sb_printf(&g->out, "  normalize\n");
    if (image && rnd(g, 2)) {
        /* half the images open as CNNs do: a convolution, then a pool,
         * with values that are each fine (together they may not fit) */
        static const char *const kernels[] = {"1", "2", "3", "5", "2x3"};
        static const char *const options[] = {"", " padding=same", " stride=2",
                                              " dilation=2", " bias=false"};
        static const char *const pools[] = {"2", "3", "2x1", "2 stride=1", "2 padding=same"};
        sb_printf(&g->out, "  conv2d %s kernel=%s%s; %s %s\n", PICK(g, small_sizes),
                  PICK(g, kernels), PICK(g, options), rnd(g, 2) ? "maxpool2d" : "avgpool2d",
                  PICK(g, pools));
    }
    int nlayers = (int)rnd(g, 7);
    for (int i = 0; i < nlayers; i++) {
        sb_printf(&g->out, "  ");
        gen_layer(g, image);
        sb_printf(&g->out, rnd(g, 3) ? "\n" : "; ");
    }
    /* an image is mostly flattened or pooled before the dense layer */
    if (image && rnd(g, 4)) {
        static const char *const to_flat[] = {"flatten", "global_avgpool2d", "global_maxpool2d"};
        sb_printf(&g->out, "  %s\n", PICK(g, to_flat));
    }
    static const gen_end ends[] = {END_SOFTMAX, END_SOFTMAX, END_SOFTMAX, END_SIGMOID, END_NONE};
    static const char *const end_text[] = {
        [END_SOFTMAX] = "; softmax", [END_SIGMOID] = "; sigmoid", [END_NONE] = ""};
    bool train = rnd(g, 2);
    /* the default loss wants a softmax: most files without a train block end in one */
    gen_end end = train || rnd(g, 5) == 0 ? PICK(g, ends) : END_SOFTMAX;
    if (rnd(g, 6))
        sb_printf(&g->out, "\n  dense %s%s\n", rnd(g, 5) ? PICK(g, small_sizes) : PICK(g, sizes),
                  end_text[end]);
    sb_printf(&g->out, "}\n");
    if (train)
        gen_train(g, end);
}

/* ------------------------------------------------------------- checking */

/* for the crash handler: the file in the back end right now */
static const char *volatile current_file;

static void on_crash(int sig)
{
    static const char head[] = "\n--- the back end crashed on this file ---\n";
    if (write(2, head, sizeof head - 1) < 0 || !current_file ||
        write(2, current_file, strlen(current_file)) < 0)
        _exit(128 + sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

typedef struct tally {
    int accepted, refused, without_accepted, without_refused;
    int accepted_images; /* accepted with a conv2d and a pool: the image ops
                            reach the back end too */
} tally;

/* Every "error:" in the diagnostics is located: "gen.seq:LINE:COL: error: " */
static void assert_located(const char *diags, const char *file)
{
    for (const char *p = diags; (p = strstr(p, ": error: ")) != NULL; p++) {
        const char *line = p;
        while (line > diags && line[-1] != '\n')
            line--;
        int l = 0, c = 0, n = 0;
        if (sscanf(line, "gen.seq:%d:%d: error: %n", &l, &c, &n) != 2 || n == 0 || l < 1 || c < 1)
            fail_msg("an error without FILE:LINE:COL:\n%s\nfor the file\n%s", diags, file);
    }
    if (!strstr(diags, ": error: "))
        fail_msg("refused without an error message:\n%s", file);
}

/* The generated C through the C compiler (syntax and warnings only, as
 * -Werror): catches a value the C cannot spell, like a float past
 * FLT_MAX. One file in COMPILE_EVERY, to keep the test at a few seconds. */
enum { COMPILE_EVERY = 20 };
static int compiled;

static void compile_c(const char *c, size_t len, const char *file)
{
    char dir[] = "/tmp/seqc-gate-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/trainer.c", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(c, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    const char *cc = getenv("CC");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only -I%s/runtime/include %s",
             cc && *cc ? cc : "cc", SEQC_SOURCE_DIR, path);
    int rc = system(cmd);
    remove(path);
    rmdir(dir);
    compiled++;
    if (rc != 0)
        fail_msg("check accepted, the generated C does not compile:\n%s", file);
}

/* lower + passes + C: what `seqc build` runs after the check */
static void back_end(arena *a, const model *m, const char *file, bool compile)
{
    ir_model *ir = ir_lower(a, m, NULL);
    if (ir_run_passes(ir, NULL) != 0)
        fail_msg("check accepted, the passes refused:\n%s", file);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    if (codegen_c(mem, ir, NULL) != 0)
        fail_msg("check accepted, the C generator failed:\n%s", file);
    fflush(mem);
    if (compile)
        compile_c(buf, len, file);
    ir_print(mem, ir);
    summary_print(mem, m); /* from the same checked model */
    fclose(mem);
    assert_non_null(strstr(buf, "seqrt_main"));
    free(buf);
    if ((uint64_t)ir->param_count != m->counts.total ||
        (uint64_t)ir->trainable_count != m->counts.trainable)
        fail_msg("the IR counts %lld parameters, the summary %llu:\n%s", (long long)ir->param_count,
                 (unsigned long long)m->counts.total, file);
}

static void run_one(gen *g, tally *t)
{
    const char *file = g->out.p;
    current_file = file;
    arena a;
    arena_init(&a);
    diag d;
    captured cap;
    capture_start(&cap, &d, "gen.seq", NULL);
    model m;
    if (frontend_load_text(&a, &d, file, g->out.n, &m) != 0) {
        assert_located(capture_text(&cap), file);
        t->refused++;
    } else {
        t->accepted++;
        bool conv = false, pool = false;
        for (size_t i = 0; i < m.nlayers; i++) {
            conv |= m.layers[i].kind == LAYER_CONV2D;
            pool |= m.layers[i].kind == LAYER_MAXPOOL2D || m.layers[i].kind == LAYER_AVGPOOL2D;
        }
        t->accepted_images += conv && pool;
        back_end(&a, &m, file, t->accepted % COMPILE_EVERY == 0);
        /* --without KIND: the edited model is checked again */
        layer_kind k = (layer_kind)(1 + rnd(g, LAYER_KIND_COUNT - 1));
        int errors = d.errors;
        if (model_without(&m, &k, 1) != 0) {
            assert_true(d.errors > errors);
            assert_located(capture_text(&cap), file);
            t->without_refused++;
        } else {
            back_end(&a, &m, file, false);
            t->without_accepted++;
        }
    }
    capture_end(&cap);
    arena_free(&a);
    current_file = NULL;
}

static void test_check_is_the_gate(void **state)
{
    (void)state;
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    gen g = {.state = 0x5EC0C0FFEEull, .out = {0}, .norm = 0x9E3779B97F4A7C15ull};
    tally t = {0};
    for (int i = 0; i < NFILES; i++) {
        gen_file(&g);
        run_one(&g, &t);
    }
    sb_free(&g.out);
    printf("%d files: %d accepted (%d with conv2d and a pool; without a kind: %d accepted, "
           "%d refused), %d refused; %d compiled\n",
           NFILES, t.accepted, t.accepted_images, t.without_accepted, t.without_refused,
           t.refused, compiled);
    /* the generator is worth its name only when both sides are well fed */
    assert_true(t.accepted >= NFILES / 5);
    assert_true(t.accepted_images >= 10);
    assert_true(t.refused >= NFILES / 5);
    assert_true(t.without_refused >= 10);
    assert_true(compiled >= 10);
    signal(SIGABRT, SIG_DFL);
    signal(SIGSEGV, SIG_DFL);
}

/* SEQC_BUG: says it is a bug, where, and aborts */
static void test_bug_aborts_loudly(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        signal(SIGABRT, SIG_DFL);
        SEQC_BUG("tensor %s has no place", "t3");
    }
    close(fds[1]);
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    buf[got] = '\0';
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    assert_non_null(strstr(buf, "seqc: internal error (a bug in seqc): "));
    assert_non_null(strstr(buf, "test_gate.c:"));
    assert_non_null(strstr(buf, ": tensor t3 has no place\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_is_the_gate),
        cmocka_unit_test(test_bug_aborts_loudly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
