/*
 * test_loop_trainer.c: the trainer's command line (seqrt_main), run as a
 * user runs it: the hand-written tiny model (tiny_model.c) trains on
 * data/mnist-digits, saves, resumes, evaluates and predicts, and every
 * kind of bad input gets its error and exit status.
 *
 * The group setup makes the runs several tests look at, once:
 *   straight: 4 epochs, seed 7, --save and --history
 *   again:    the same command again (determinism)
 *   seed8:    2 epochs with seed 8
 *   resumed:  2 epochs with --save, then --resume to 4 epochs
 * All use --limit 2000 and --threads 1, and take about a second together.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* mknod */
#include "testutil.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <zlib.h>
#include <unistd.h>

#define DATA SEQC_SOURCE_DIR "/data/mnist-digits"
#define COMMON "--data " DATA " --limit 2000 --threads 1"

static char dir[4096];
static int rc_straight, rc_again, rc_seed8, rc_half, rc_resume;

/* ---------------------------------------------------------------- helpers */

/* Runs `trainer ARGS` in the test's directory with stdout in NAME.out and
 * stderr in NAME.err; returns the exit status (-1 if it did not exit). */
static int run(const char *trainer, const char *name, const char *fmt, ...)
{
    char args[2048], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >%s.out 2>%s.err", dir, trainer, args,
             name, name);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The whole of dir/NAME (malloc'd, NUL-terminated; size in *len if given). */
static char *slurp(const char *name, size_t *len)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_error("cannot open %s\n", path);
        fail();
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static void spit(const char *name, const void *data, size_t len)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void make_subdir(const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int exists(const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part)) {
        print_error("expected to find \"%s\" in:\n%s\n", part, text);
        fail();
    }
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* A history CSV split into lines; rows[0] is the header. */
typedef struct csv {
    char *text;
    char *rows[64];
    int   count; /* lines, header included */
} csv;

static void csv_read(csv *c, const char *name)
{
    c->text = slurp(name, NULL);
    c->count = 0;
    for (char *line = strtok(c->text, "\n"); line && c->count < 64; line = strtok(NULL, "\n"))
        c->rows[c->count++] = line;
}

/* Field k (0-based) of a row, copied into buf. */
static const char *field(const char *row, int k, char *buf, size_t size)
{
    const char *p = row;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, ',');
        if (p)
            p++;
    }
    assert_non_null(p);
    size_t n = strcspn(p, ",");
    assert_true(n < size);
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static double field_number(const char *row, int k)
{
    char buf[64], *end;
    field(row, k, buf, sizeof buf);
    double v = strtod(buf, &end);
    assert_true(end != buf && *end == '\0');
    return v;
}

/* The row without its last column (seconds): what must match exactly. */
static void metric_columns(const char *row, char *buf, size_t size)
{
    const char *last = strrchr(row, ',');
    assert_non_null(last);
    size_t n = (size_t)(last - row);
    assert_true(n < size);
    memcpy(buf, row, n);
    buf[n] = '\0';
}

static void assert_same_metrics(const csv *a, const csv *b)
{
    assert_int_equal(a->count, b->count);
    for (int i = 0; i < a->count; i++) {
        char ma[256], mb[256];
        metric_columns(a->rows[i], ma, sizeof ma);
        metric_columns(b->rows[i], mb, sizeof mb);
        assert_string_equal(ma, mb);
    }
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(x, y, la);
    free(x);
    free(y);
}

/* An uncompressed IDX pair: count images of rows x cols (all pixels 7)
 * and labels all `label`, as DIR/PREFIX-images-idx3-ubyte and -labels. */
static void write_idx(const char *sub, const char *prefix, unsigned count, unsigned rows,
                      unsigned cols, unsigned char label)
{
    char name[512];
    unsigned char head[16] = {0, 0, 8, 3};
    unsigned v[3] = {count, rows, cols};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            head[4 + 4 * i + b] = (unsigned char)(v[i] >> (24 - 8 * b));
    size_t n = (size_t)count * rows * cols;
    unsigned char *img = malloc(16 + n);
    memcpy(img, head, 16);
    memset(img + 16, 7, n);
    snprintf(name, sizeof name, "%s/%s-images-idx3-ubyte", sub, prefix);
    spit(name, img, 16 + n);

    unsigned char *lab = malloc(8 + count);
    memcpy(lab, (unsigned char[]){0, 0, 8, 1}, 4);
    memcpy(lab + 4, head + 4, 4);
    memset(lab + 8, label, count);
    snprintf(name, sizeof name, "%s/%s-labels-idx1-ubyte", sub, prefix);
    spit(name, lab, 8 + count);
    free(img);
    free(lab);
}

/* ------------------------------------------------------------ group setup */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/loop_trainer_XXXXXX", LOOP_TMP_DIR);
    if (!mkdtemp(dir))
        return -1;
    rc_straight = run(TINY_TRAINER, "straight",
                      COMMON " --epochs 4 --seed 7 --history straight.csv --save straight.ck");
    rc_again = run(TINY_TRAINER, "again",
                   COMMON " --epochs 4 --seed 7 --history again.csv --save again.ck");
    rc_seed8 = run(TINY_TRAINER, "seed8", COMMON " --epochs 2 --seed 8 --history seed8.csv");
    rc_half = run(TINY_TRAINER, "half",
                  COMMON " --epochs 2 --seed 7 --history resumed.csv --save resumed.ck");
    rc_resume = run(TINY_TRAINER, "resume",
                    COMMON " --epochs 4 --resume resumed.ck --history resumed.csv "
                    "--save resumed.ck");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return seqc_tmpdir_remove(dir);
}

/* ------------------------------------------------------------------ tests */

static void test_linear_model_learns(void **state)
{
    (void)state;
    assert_int_equal(rc_straight, 0);
    csv h;
    csv_read(&h, "straight.csv");
    assert_int_equal(h.count, 5);
    double val_acc_2 = field_number(h.rows[2], 4);
    print_message("tiny model, 2000 samples: val_accuracy %.4f after 2 epochs, %.4f after 4\n",
                  val_acc_2, field_number(h.rows[4], 4));
    assert_true(val_acc_2 >= 0.80);
    assert_true(field_number(h.rows[4], 1) < field_number(h.rows[1], 1)); /* loss falls */
    free(h.text);
}

static void test_plain_output_is_one_line_per_epoch(void **state)
{
    (void)state;
    char *out = slurp("straight.out", NULL);
    assert_null(strchr(out, '\r'));
    assert_null(strchr(out, '\033'));
    assert_int_equal(count_lines(out), 8);
    csv h;
    csv_read(&h, "straight.csv");
    char *line = out;
    for (int epoch = 1; epoch <= 4; epoch++) {
        char want[64];
        snprintf(want, sizeof want, "Epoch %d/4\n", epoch);
        assert_memory_equal(line, want, strlen(want));
        line += strlen(want);
        char *end = strchr(line, '\n');
        *end = '\0';
        /* 2000 samples in batches of 32: 62 full batches and one of 16 */
        assert_memory_equal(line, "63/63 [==============================] - ", 41);
        assert_contains(line, "s/step - loss: ");
        /* the line shows the history's values, rounded as Keras does */
        char part[128];
        snprintf(part, sizeof part, " - loss: %.4f - accuracy: %.4f - val_loss: %.4f - "
                 "val_accuracy: %.4f", field_number(h.rows[epoch], 1),
                 field_number(h.rows[epoch], 2), field_number(h.rows[epoch], 3),
                 field_number(h.rows[epoch], 4));
        assert_contains(line, part);
        line = end + 1;
    }
    assert_string_equal(slurp("straight.err", NULL), "");
    free(h.text);
    free(out);
}

static void test_history_columns_and_rows(void **state)
{
    (void)state;
    csv h;
    csv_read(&h, "straight.csv");
    assert_int_equal(h.count, 5);
    assert_string_equal(h.rows[0], "epoch,loss,accuracy,val_loss,val_accuracy,seconds");
    for (int i = 1; i <= 4; i++) {
        int commas = 0;
        for (const char *p = h.rows[i]; *p; p++)
            commas += *p == ',';
        assert_int_equal(commas, 5); /* 6 columns */
        assert_int_equal(field_number(h.rows[i], 0), i);
        for (int k = 1; k <= 5; k++)
            assert_true(field_number(h.rows[i], k) >= 0);
        assert_true(field_number(h.rows[i], 2) <= 1);
        assert_true(field_number(h.rows[i], 4) <= 1);
    }
    free(h.text);
}

static void test_same_seed_gives_identical_runs(void **state)
{
    (void)state;
    assert_int_equal(rc_again, 0);
    csv a, b;
    csv_read(&a, "straight.csv");
    csv_read(&b, "again.csv");
    assert_same_metrics(&a, &b);
    assert_same_file("straight.ck", "again.ck"); /* weights bit for bit */
    free(a.text);
    free(b.text);
}

static void test_different_seed_differs(void **state)
{
    (void)state;
    assert_int_equal(rc_seed8, 0);
    csv a, b;
    csv_read(&a, "straight.csv");
    csv_read(&b, "seed8.csv");
    for (int i = 1; i <= 2; i++) {
        char ma[256], mb[256];
        metric_columns(a.rows[i], ma, sizeof ma);
        metric_columns(b.rows[i], mb, sizeof mb);
        assert_string_not_equal(ma, mb);
    }
    free(a.text);
    free(b.text);
}

static void test_resume_is_bit_exact(void **state)
{
    (void)state;
    assert_int_equal(rc_half, 0);
    assert_int_equal(rc_resume, 0);
    assert_same_file("straight.ck", "resumed.ck");
    csv a, b;
    csv_read(&a, "straight.csv");
    csv_read(&b, "resumed.csv"); /* rows 1-2 kept from the first run */
    assert_same_metrics(&a, &b);
    char *out = slurp("resume.out", NULL);
    assert_contains(out, "Resuming tiny from resumed.ck after epoch 2\nEpoch 3/4\n");
    free(out);
    free(a.text);
    free(b.text);
}

static void test_resume_past_the_target_is_refused(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "done", COMMON " --resume straight.ck"), 1);
    assert_contains(slurp("done.err", NULL), "already trained 4 epochs");
}

static void test_evaluate_reproduces_last_epoch(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "eval", "evaluate --data " DATA " --load straight.ck "
                         "--threads 1"), 0);
    csv h;
    csv_read(&h, "straight.csv");
    char loss[64], acc[64], want[256];
    snprintf(want, sizeof want, "val_loss: %s - val_accuracy: %s\n",
             field(h.rows[4], 3, loss, sizeof loss), field(h.rows[4], 4, acc, sizeof acc));
    assert_string_equal(slurp("eval.out", NULL), want);
    free(h.text);
}

static void test_predict_with_and_without_labels(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "pred", "predict --load straight.ck --threads 1 --images "
                         DATA "/t10k-images-idx3-ubyte.gz --labels "
                         DATA "/t10k-labels-idx1-ubyte.gz"), 0);
    assert_int_equal(run(TINY_TRAINER, "pred_nolabels", "predict --load straight.ck --threads 1 "
                         "--images " DATA "/t10k-images-idx3-ubyte.gz"), 0);
    char *with = slurp("pred.out", NULL), *without = slurp("pred_nolabels.out", NULL);
    assert_int_equal(count_lines(with), 2001);
    assert_int_equal(count_lines(without), 2000);
    for (int i = 0; i < 2000; i++)
        assert_true(without[2 * i] >= '0' && without[2 * i] <= '9' && without[2 * i + 1] == '\n');
    assert_memory_equal(with, without, 4000); /* same classes either way */

    /* the model's metrics after the predictions: on the validation files
     * in the checkpoint's batches, the last epoch's validation numbers */
    csv h;
    csv_read(&h, "straight.csv");
    char loss[64], acc[64], want[256];
    snprintf(want, sizeof want, "loss: %s - accuracy: %s\n",
             field(h.rows[4], 3, loss, sizeof loss), field(h.rows[4], 4, acc, sizeof acc));
    assert_string_equal(with + 4000, want);
    free(h.text);
    free(with);
    free(without);
}

static void test_refuses_checkpoint_of_another_model(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_NOBIAS, "other", COMMON " --epochs 5 --resume straight.ck"), 1);
    char *err = slurp("other.err", NULL);
    assert_contains(err, "error: straight.ck: checkpoint is for model 'tiny' (tiny.seq), "
                         "not for this trainer's model 'tiny_nobias'");
    assert_int_equal(count_lines(err), 1);
    assert_int_equal(run(TINY_TRAINER_NOBIAS, "other_eval",
                         "evaluate --data " DATA " --load straight.ck"), 1);
    assert_contains(slurp("other_eval.err", NULL), "checkpoint is for model 'tiny'");

    assert_int_equal(run(TINY_TRAINER_NOBIAS, "nb", "--data " DATA " --limit 100 --epochs 1 "
                         "--save nb.ck --quiet"), 0);
    assert_int_equal(run(TINY_TRAINER, "other2", "evaluate --data " DATA " --load nb.ck"), 1);
    assert_contains(slurp("other2.err", NULL), "checkpoint is for model 'tiny_nobias'");
}

static void test_refuses_damaged_checkpoint(void **state)
{
    (void)state;
    size_t len;
    char *ck = slurp("straight.ck", &len);
    ck[len / 2] ^= 0x10; /* one bit of one weight */
    spit("flipped.ck", ck, len);
    ck[len / 2] ^= 0x10;
    spit("short.ck", ck, len - 1000);
    free(ck);

    assert_int_equal(run(TINY_TRAINER, "flipped", COMMON " --epochs 5 --resume flipped.ck"), 1);
    assert_contains(slurp("flipped.err", NULL), "error: flipped.ck: damaged checkpoint (checksum");
    assert_int_equal(run(TINY_TRAINER, "flipped_eval", "evaluate --data " DATA
                         " --load flipped.ck"), 1);
    assert_contains(slurp("flipped_eval.err", NULL), "damaged checkpoint");
    assert_string_equal(slurp("flipped_eval.out", NULL), "");
    assert_int_equal(run(TINY_TRAINER, "short", COMMON " --epochs 5 --resume short.ck"), 1);
    assert_contains(slurp("short.err", NULL), "error: short.ck: damaged or truncated checkpoint");
    assert_int_equal(run(TINY_TRAINER, "notck", COMMON " --resume straight.csv"), 1);
    assert_contains(slurp("notck.err", NULL), "not a seqc checkpoint");
}

static void test_bad_flags_exit_2(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "--data " DATA " --epochs 0",
        "--data " DATA " --epochs three",
        "--data " DATA " --batch 0",
        "--data " DATA " --batch",
        "--data " DATA " --lr -0.1",
        "--data " DATA " --lr abc",
        "--data " DATA " --lr 1e39",
        "--data " DATA " --seed -1",
        "--data " DATA " --threads -2",
        "--data " DATA " --limit 0",
        "--data " DATA " --bogus",
        "--data " DATA " --quiet=yes",
        "--data " DATA " extra",
        "--epochs 2",
        "trian --data " DATA,
        "evaluate --data " DATA,
        "evaluate --data " DATA " --load x.ck --epochs 3",
        "predict --load x.ck",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = run(TINY_TRAINER, "bad", "%s", bad[i]);
        char *err = slurp("bad.err", NULL), *out = slurp("bad.out", NULL);
        if (rc != 2 || count_lines(err) != 1 || strncmp(err, "error: ", 7) != 0 ||
            !strstr(err, "--help") || out[0] != '\0') {
            print_error("'%s': exit %d, stderr: %s, stdout: %s\n", bad[i], rc, err, out);
            fail();
        }
        free(err);
        free(out);
    }
    /* both spellings of a value work */
    assert_int_equal(run(TINY_TRAINER, "eq", "--data=" DATA " --limit=64 --epochs=1 --quiet"), 0);
}

static void test_missing_or_wrong_data_exit_1(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "nodata", "--data nowhere --save nodata.ck"), 1);
    assert_string_equal(slurp("nodata.err", NULL), "error: nowhere: cannot open: No such file or directory\n");
    assert_string_equal(slurp("nodata.out", NULL), "");
    assert_false(exists("nodata.ck"));

    /* images of the wrong size: refused before any training */
    make_subdir("small");
    write_idx("small", "train", 3, 2, 2, 1);
    write_idx("small", "t10k", 3, 2, 2, 1);
    assert_int_equal(run(TINY_TRAINER, "small", "--data small"), 1);
    assert_contains(slurp("small.err", NULL),
                    "small/train-images-idx3-ubyte has shape (3, 2, 2): 4 values per sample, "
                    "the model's input takes 784");
    assert_string_equal(slurp("small.out", NULL), "");

    /* a label the model cannot output */
    make_subdir("label");
    write_idx("label", "train", 2, 28, 28, 3);
    write_idx("label", "t10k", 2, 28, 28, 11);
    assert_int_equal(run(TINY_TRAINER, "label", "--data label"), 1);
    assert_contains(slurp("label.err", NULL), "has label 11, but the model has 10 classes");
    assert_string_equal(slurp("label.out", NULL), "");
}

/* A learning rate of 1e38 sends the weights past float range after the
 * first step: the logits overflow and the loss of step 2 is not finite. */
static void test_nan_loss_stops_training(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "nan", COMMON " --lr 1e38 --save nan.ck --history nan.csv"), 1);
    char *err = slurp("nan.err", NULL);
    assert_true(strncmp(err, "error: loss became nan at epoch 1, step 2; stopping", 51) == 0 ||
                strncmp(err, "error: loss became inf at epoch 1, step 2; stopping", 51) == 0);
    assert_contains(err, "note: this run saved nothing to nan.ck\n");
    assert_false(exists("nan.ck"));
    assert_false(exists("nan.csv"));
}

static void test_last_batch_of_one_sample_is_trained(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "one", "--data " DATA " --limit 33 --batch 32 --epochs 1 "
                         "--threads 1 --history one.csv --save one.ck"), 0);
    assert_contains(slurp("one.out", NULL), "\n2/2 [==============================] - ");
    csv h;
    csv_read(&h, "one.csv");
    assert_int_equal(h.count, 2);
    assert_true(isfinite(field_number(h.rows[1], 1)));
    /* validation ends with a batch of one too, and evaluate (batch 32 from
     * the checkpoint) weighs it the same way */
    assert_int_equal(run(TINY_TRAINER, "one_eval", "evaluate --data " DATA " --load one.ck "
                         "--threads 1 --limit 33"), 0);
    char loss[64], acc[64], want[256];
    snprintf(want, sizeof want, "val_loss: %s - val_accuracy: %s\n",
             field(h.rows[1], 3, loss, sizeof loss), field(h.rows[1], 4, acc, sizeof acc));
    assert_string_equal(slurp("one_eval.out", NULL), want);
    free(h.text);
}

/*
 * With the training files also given as the validation files and a
 * learning rate too small to move any weight (1e-30), the epoch's training
 * metrics must equal the validation metrics: both are means over the same
 * 33 samples weighted by sample, whatever the batches (32 + 1, shuffled
 * for training, in order for validation).
 */
static void test_training_metrics_are_sample_weighted_means(void **state)
{
    (void)state;
    static const char *const files[][2] = {
        {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"},
        {"train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"},
        {"t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"},
        {"t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"},
    };
    make_subdir("same");
    for (int i = 0; i < 4; i++) {
        char link[4400], target[4400];
        snprintf(link, sizeof link, "%s/same/%s", dir, files[i][0]);
        snprintf(target, sizeof target, "%s/%s", DATA, files[i][1]);
        assert_int_equal(symlink(target, link), 0);
    }
    assert_int_equal(run(TINY_TRAINER, "same", "--data same --limit 33 --batch 32 --epochs 1 "
                         "--threads 1 --lr 1e-30 --history same.csv"), 0);
    csv h;
    csv_read(&h, "same.csv");
    double loss = field_number(h.rows[1], 1), val_loss = field_number(h.rows[1], 3);
    assert_close(loss, val_loss, 1e-6 * val_loss);
    char acc[64], val_acc[64];
    assert_string_equal(field(h.rows[1], 2, acc, sizeof acc),
                        field(h.rows[1], 4, val_acc, sizeof val_acc));
    free(h.text);
}

static void test_quiet_and_help(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "quiet", "--data " DATA " --limit 100 --epochs 1 --quiet"), 0);
    assert_string_equal(slurp("quiet.out", NULL), "");
    assert_int_equal(run(TINY_TRAINER, "help", "--help"), 0);
    char *help = slurp("help.out", NULL);
    assert_contains(help, "usage: ");
    assert_contains(help, "model 'tiny' (tiny.seq)");
    assert_contains(help, "(default 2)");  /* epochs from the model */
    assert_contains(help, "unless drop_last (--drop-last)");
    assert_contains(help, "of exactly 1 sample is dropped (with a note)");
    /* the columns and lines of this model's metrics */
    assert_contains(help, "  --history:   epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
    assert_contains(help, "test_loss: X - test_accuracy: X\n");
    assert_contains(help, "evaluate prints 'val_loss: X - val_accuracy: X'");
    free(help);
    assert_int_equal(run(TINY_TRAINER_NOBIAS, "help0", "--help"), 0);
    help = slurp("help0.out", NULL);
    assert_contains(help, "  --history:   epoch,loss,val_loss,seconds\n");
    assert_contains(help, "test_loss: X\n");
    free(help);
}

/* On a terminal the bar is redrawn with '\r'; util-linux's script(1)
 * gives the trainer a pseudo-terminal. */
static void test_live_bar_on_a_terminal(void **state)
{
    (void)state;
    if (access("/usr/bin/script", X_OK) != 0)
        skip();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && script -qec \"'%s' " COMMON " --epochs 1\" "
             "/dev/null >tty.out 2>&1", dir, TINY_TRAINER);
    assert_int_equal(system(cmd), 0);
    char *out = slurp("tty.out", NULL);
    assert_non_null(strchr(out, '\r'));
    assert_contains(out, "\r63/63 [==============================] - ");
    assert_contains(out, " - val_accuracy: ");
    free(out);
}

/* ------------------------------------------------ outputs that never destroy */

static int is_kind(const char *name, mode_t kind)
{
    char path[4300];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

/* A directory, a missing directory or an unwritable place: refused before
 * the first epoch (nothing on stdout), not after an epoch's work. */
static void test_outputs_checked_before_training(void **state)
{
    (void)state;
    make_subdir("outdir");
    assert_int_equal(run(TINY_TRAINER, "savedir", COMMON " --save outdir"), 1);
    assert_string_equal(slurp("savedir.err", NULL),
                        "error: cannot write outdir: it is a directory\n");
    assert_string_equal(slurp("savedir.out", NULL), "");
    assert_int_equal(run(TINY_TRAINER, "histdir", COMMON " --history outdir --save h.ck"), 1);
    assert_string_equal(slurp("histdir.err", NULL),
                        "error: cannot write outdir: it is a directory\n");
    assert_string_equal(slurp("histdir.out", NULL), "");
    assert_false(exists("h.ck"));
    assert_int_equal(run(TINY_TRAINER, "noparent", COMMON " --save nowhere/x.ck"), 1);
    assert_string_equal(slurp("noparent.err", NULL),
                        "error: cannot write nowhere/x.ck: directory nowhere does not exist\n");
    assert_string_equal(slurp("noparent.out", NULL), "");
    assert_int_equal(run(TINY_TRAINER, "same", COMMON " --save same.out --history same.out"), 1);
    assert_string_equal(slurp("same.err", NULL), "error: --save and --history both name "
                                                 "same.out; give each its own file\n");
}

static void test_symlinks_are_written_through(void **state)
{
    (void)state;
    make_subdir("kept");
    char link[4300];
    snprintf(link, sizeof link, "%s/sl.ck", dir);
    assert_int_equal(symlink("kept/real.ck", link), 0);
    snprintf(link, sizeof link, "%s/sl.csv", dir);
    assert_int_equal(symlink("kept/real.csv", link), 0);
    assert_int_equal(run(TINY_TRAINER, "sl", COMMON " --epochs 1 --save sl.ck --history sl.csv"),
                     0);
    assert_true(is_kind("sl.ck", S_IFLNK));
    assert_true(is_kind("sl.csv", S_IFLNK));
    assert_true(is_kind("kept/real.ck", S_IFREG));
    assert_int_equal(count_lines(slurp("kept/real.csv", NULL)), 2);
    assert_int_equal(run(TINY_TRAINER, "sl_eval", "evaluate --data " DATA " --limit 2000 "
                         "--threads 1 --load sl.ck"), 0);
}

/* Character devices made in the test's directory (root only). */
static void test_devices_stay_devices(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "%s/null", dir);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0)
        skip();
    snprintf(path, sizeof path, "%s/full", dir);
    assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 7)), 0);
    assert_int_equal(run(TINY_TRAINER, "dnull", COMMON " --epochs 1 --save null --history null"),
                     0);
    assert_true(is_kind("null", S_IFCHR));
    assert_int_equal(run(TINY_TRAINER, "dfull", COMMON " --epochs 1 --history full"), 1);
    assert_contains(slurp("dfull.err", NULL),
                    "error: cannot write full: No space left on device\n");
    assert_int_equal(run(TINY_TRAINER, "dfull2", COMMON " --epochs 1 --save full"), 1);
    assert_contains(slurp("dfull2.err", NULL),
                    "error: cannot write full: No space left on device\n");
    assert_true(is_kind("full", S_IFCHR));
}

/* Two trainers with one --save: the second is refused while the first runs. */
static void test_second_trainer_on_one_checkpoint_is_refused(void **state)
{
    (void)state;
    pid_t first = fork();
    assert_true(first >= 0);
    if (first == 0) {
        if (chdir(dir) != 0 || !freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(TINY_TRAINER, TINY_TRAINER, "--data", DATA, "--limit", "2000", "--threads", "1",
              "--epochs", "100000", "--quiet", "--save", "shared.ck", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && !exists("shared.ck"); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_true(exists("shared.ck"));
    int rc = run(TINY_TRAINER, "second", COMMON " --epochs 1 --save shared.ck");
    kill(first, SIGKILL);
    waitpid(first, NULL, 0);
    assert_int_equal(rc, 1);
    assert_string_equal(slurp("second.err", NULL),
                        "error: shared.ck: another trainer is saving to this checkpoint (it "
                        "holds a lock on it); give each run its own --save\n");
    assert_string_equal(slurp("second.out", NULL), "");
    /* once the first is gone, the path is free again */
    assert_int_equal(run(TINY_TRAINER, "third", COMMON " --epochs 1 --save shared.ck"), 0);
}

/* Weights that went NaN: stop, name the layer, keep the last good
 * checkpoint and history. TINY_NAN_AT_STEP (tiny_model.c) poisons the
 * bias at that optimizer step; 63 steps an epoch here. */
static void test_nonfinite_weights_name_the_layer(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER, "good", COMMON " --epochs 1 --save poison.ck "
                         "--history poison.csv"), 0);
    char cmd[8600];
    snprintf(cmd, sizeof cmd, "cp '%s/poison.ck' '%s/good.ck'", dir, dir);
    assert_int_equal(system(cmd), 0);

    /* mid-epoch: the next step's loss is NaN, the scan names the layer */
    setenv("TINY_NAN_AT_STEP", "100", 1);
    int rc = run(TINY_TRAINER, "poison1", COMMON " --epochs 3 --resume poison.ck "
                 "--save poison.ck --history poison.csv");
    assert_int_equal(rc, 1);
    assert_string_equal(slurp("poison1.err", NULL),
                        "error: epoch 2, step 38: the weights became non-finite (nan at layer "
                        "'dense' (bias, line 2), parameter offset 7849 of 7850); stopping (try "
                        "a smaller --lr)\n"
                        "note: poison.ck keeps the weights of epoch 1, the last good one\n");
    assert_same_file("poison.ck", "good.ck");
    assert_int_equal(count_lines(slurp("poison.csv", NULL)), 2);

    /* the last step of an epoch: the loss never sees it, the epoch's scan does */
    setenv("TINY_NAN_AT_STEP", "126", 1);
    rc = run(TINY_TRAINER, "poison2", COMMON " --epochs 3 --resume poison.ck "
             "--save poison.ck --history poison.csv");
    unsetenv("TINY_NAN_AT_STEP");
    assert_int_equal(rc, 1);
    assert_string_equal(slurp("poison2.err", NULL),
                        "error: epoch 2: the weights became non-finite (nan at layer 'dense' "
                        "(bias, line 2), parameter offset 7849 of 7850); stopping (try a "
                        "smaller --lr)\n"
                        "note: poison.ck keeps the weights of epoch 1, the last good one\n");
    assert_same_file("poison.ck", "good.ck");
    assert_int_equal(count_lines(slurp("poison.csv", NULL)), 2);
}

/* A file of zeros far larger than the model's checkpoint, and an endless
 * device: refused after at most one checkpoint's bytes (before: read
 * until memory ran out). */
static void test_load_reads_at_most_a_checkpoint(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "%s/zeros.ck", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)4 << 30), 0); /* 4 GiB, sparse */
    fclose(f);
    assert_int_equal(run(TINY_TRAINER, "zeros", "evaluate --data " DATA " --load zeros.ck"), 1);
    assert_string_equal(slurp("zeros.err", NULL),
                        "error: zeros.ck: 4294967296 bytes, larger than any checkpoint of "
                        "model 'tiny' (at most 134064 bytes): not a checkpoint of this model\n");
    assert_int_equal(run(TINY_TRAINER, "devzero", "evaluate --data " DATA " --load /dev/zero"), 1);
    assert_string_equal(slurp("devzero.err", NULL),
                        "error: /dev/zero: more than 134064 bytes, larger than any checkpoint "
                        "of model 'tiny': not a checkpoint of this model\n");
    assert_int_equal(run(TINY_TRAINER, "rzero", COMMON " --resume /dev/zero"), 1);
    assert_contains(slurp("rzero.err", NULL), "not a checkpoint of this model");
}

static void test_numeric_flags_name_their_range(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"--epochs -9223372036854775808", "--epochs must be at least 1, got '-9223372036854775808'"},
        {"--epochs 99999999999999999999", "--epochs must be at most 1000000, got '99999999999999999999'"},
        {"--epochs 1000001", "--epochs must be at most 1000000, got '1000001'"},
        {"--batch 0", "--batch must be at least 1, got '0'"},
        {"--limit -1", "--limit must be at least 1, got '-1'"},
        {"--seed -1", "--seed must be at least 0, got '-1'"},
        {"--seed 18446744073709551616", "--seed must be at most 18446744073709551615"},
        {"--threads 1025", "--threads must be at most 1024, got '1025'"},
        {"--epochs 1x", "--epochs expects a whole number from 1 to 1000000, got '1x'"},
        {"--lr 0", "--lr must be greater than 0, got '0'"},
        {"--lr 1e39", "--lr must be at most"},
        {"--lr nan", "--lr expects a positive number, got 'nan'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(run(TINY_TRAINER, "range", "--data " DATA " %s", cases[i][0]), 2);
        assert_contains(slurp("range.err", NULL), cases[i][1]);
    }
    assert_int_equal(run(TINY_TRAINER, "range", "--data " DATA " --limit 64 --epochs 1 --quiet "
                         "--seed 18446744073709551615 --max-data-bytes 100000000"), 0);
}

/* Temporary files of a trainer killed mid-save are removed by the next. */
static void test_stale_temporaries_cleared_at_start(void **state)
{
    (void)state;
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char name[128];
    snprintf(name, sizeof name, "stale.ck.seqc-tmp.%ld", (long)dead);
    spit(name, "half a checkpoint", 17);
    snprintf(name + 64, 64, "stale.csv.seqc-tmp.%ld", (long)dead);
    spit(name + 64, "epoch,lo", 8);
    assert_int_equal(run(TINY_TRAINER, "stale", "--data nowhere --save stale.ck "
                         "--history stale.csv"), 1); /* cleared even when the run fails */
    assert_false(exists(name));
    assert_false(exists(name + 64));
}

/* A copy of straight.ck (model "tiny", source "tiny.seq") with one field
 * changed and the checksum made right again, as NAME. */
static void craft_checkpoint(const char *name, size_t offset, const void *bytes, size_t n)
{
    size_t len;
    unsigned char *b = (unsigned char *)slurp("straight.ck", &len);
    memcpy(b + offset, bytes, n);
    uLong crc = crc32(crc32(0L, Z_NULL, 0), b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        b[len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    spit(name, b, len);
    free(b);
}

/* A checksum is no proof of meaning: an all-zero generator state made
 * --resume spin forever in the shuffle, a negative learning rate was
 * trained with. Both are refused now, naming the field. */
static void test_resume_refuses_impossible_fields(void **state)
{
    (void)state;
    /* 8 magic, 4 version, 4+4 "tiny", 4+8 "tiny.seq", 32 hash and counts,
     * then step 8, epoch 4, epochs 4, seed 8, generator 32, dropout
     * generator 32, batch 4, lr 4 */
    const size_t fixed = 8 + 4 + 4 + 4 + 4 + 8 + 32;
    static const unsigned char zeros[32];
    craft_checkpoint("zero_rng.ck", fixed + 24, zeros, sizeof zeros);
    assert_int_equal(run(TINY_TRAINER, "zero_rng", COMMON " --epochs 6 --resume zero_rng.ck"), 1);
    assert_string_equal(slurp("zero_rng.err", NULL),
                        "error: zero_rng.ck: bad checkpoint: the generator state is all zero, "
                        "which no seeded generator reaches\n");
    craft_checkpoint("zero_drop.ck", fixed + 56, zeros, sizeof zeros);
    assert_int_equal(run(TINY_TRAINER, "zero_drop", COMMON " --epochs 6 --resume zero_drop.ck"),
                     1);
    assert_string_equal(slurp("zero_drop.err", NULL),
                        "error: zero_drop.ck: bad checkpoint: the dropout generator state is "
                        "all zero, which no seeded generator reaches\n");
    const float lr = -0.1f;
    unsigned char lr_bytes[4];
    uint32_t bits;
    memcpy(&bits, &lr, 4);
    for (int i = 0; i < 4; i++)
        lr_bytes[i] = (unsigned char)(bits >> (8 * i));
    craft_checkpoint("neg_lr.ck", fixed + 92, lr_bytes, 4);
    assert_int_equal(run(TINY_TRAINER, "neg_lr", COMMON " --epochs 6 --resume neg_lr.ck"), 1);
    assert_string_equal(slurp("neg_lr.err", NULL),
                        "error: neg_lr.ck: bad checkpoint: learning rate -0.1 is not a positive "
                        "finite number\n");
    assert_int_equal(run(TINY_TRAINER, "neg_lr_eval", "evaluate --data " DATA " --load neg_lr.ck"),
                     1);
}

/* ------------------------------------------------------- the model's metrics */

/* The history's columns, the progress line and evaluate follow the
 * model's `metrics` line: none (tiny_nobias) and two (tiny_two). */
static void test_columns_follow_the_metrics(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_NOBIAS, "m0", COMMON " --epochs 1 --history m0.csv "
                         "--save m0.ck"), 0);
    csv h;
    csv_read(&h, "m0.csv");
    assert_int_equal(h.count, 2);
    assert_string_equal(h.rows[0], "epoch,loss,val_loss,seconds");
    char *out = slurp("m0.out", NULL);
    char part[512];
    snprintf(part, sizeof part, "s/step - loss: %.4f - val_loss: %.4f\n",
             field_number(h.rows[1], 1), field_number(h.rows[1], 2));
    assert_contains(out, part);
    assert_null(strstr(out, "accuracy"));
    assert_int_equal(run(TINY_TRAINER_NOBIAS, "m0_eval", "evaluate --data " DATA " --limit 2000 "
                         "--threads 1 --load m0.ck"), 0);
    char loss[64], want[512];
    snprintf(want, sizeof want, "val_loss: %s\n", field(h.rows[1], 2, loss, sizeof loss));
    assert_string_equal(slurp("m0_eval.out", NULL), want);
    free(h.text);

    assert_int_equal(run(TINY_TRAINER_TWO, "m2", COMMON " --epochs 1 --history m2.csv "
                         "--save m2.ck"), 0);
    csv_read(&h, "m2.csv");
    assert_int_equal(h.count, 2);
    assert_string_equal(h.rows[0], "epoch,loss,accuracy,sparse_top_k_categorical_accuracy,"
                                   "val_loss,val_accuracy,val_sparse_top_k_categorical_accuracy,"
                                   "seconds");
    /* top-3 accuracy counts every arg-max hit and more */
    assert_true(field_number(h.rows[1], 3) >= field_number(h.rows[1], 2));
    assert_true(field_number(h.rows[1], 6) > field_number(h.rows[1], 5));
    assert_true(field_number(h.rows[1], 6) <= 1);
    snprintf(part, sizeof part, " - loss: %.4f - accuracy: %.4f - "
             "sparse_top_k_categorical_accuracy: %.4f - val_loss: %.4f - val_accuracy: %.4f - "
             "val_sparse_top_k_categorical_accuracy: %.4f\n",
             field_number(h.rows[1], 1), field_number(h.rows[1], 2), field_number(h.rows[1], 3),
             field_number(h.rows[1], 4), field_number(h.rows[1], 5), field_number(h.rows[1], 6));
    assert_contains(slurp("m2.out", NULL), part);
    assert_int_equal(run(TINY_TRAINER_TWO, "m2_eval", "evaluate --data " DATA " --limit 2000 "
                         "--threads 1 --load m2.ck"), 0);
    char acc[64], top[64];
    snprintf(want, sizeof want, "val_loss: %s - val_accuracy: %s - "
             "val_sparse_top_k_categorical_accuracy: %s\n", field(h.rows[1], 4, loss, sizeof loss),
             field(h.rows[1], 5, acc, sizeof acc), field(h.rows[1], 6, top, sizeof top));
    assert_string_equal(slurp("m2_eval.out", NULL), want);
    /* predict with targets: the same metrics, without the val_ prefix */
    assert_int_equal(run(TINY_TRAINER_TWO, "m2_pred", "predict --load m2.ck --threads 1 --limit "
                         "2000 --images " DATA "/t10k-images-idx3-ubyte.gz --labels "
                         DATA "/t10k-labels-idx1-ubyte.gz"), 0);
    snprintf(want, sizeof want, "loss: %s - accuracy: %s - sparse_top_k_categorical_accuracy: "
             "%s\n", loss, acc, top);
    out = slurp("m2_pred.out", NULL);
    assert_string_equal(out + 4000, want);
    free(h.text);
}

/* A resumed run keeps the history's columns and rows; a history of other
 * columns is refused before any training. */
static void test_resume_keeps_the_columns(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_TWO, "two4", COMMON " --epochs 3 --history two4.csv"), 0);
    assert_int_equal(run(TINY_TRAINER_TWO, "two2", COMMON " --epochs 1 --history two2.csv "
                         "--save two2.ck"), 0);
    assert_int_equal(run(TINY_TRAINER_TWO, "two2r", COMMON " --epochs 3 --history two2.csv "
                         "--resume two2.ck"), 0);
    csv a, b;
    csv_read(&a, "two4.csv");
    csv_read(&b, "two2.csv");
    assert_same_metrics(&a, &b);
    free(a.text);
    free(b.text);
    /* tiny writes other columns: refused, the file untouched */
    assert_int_equal(run(TINY_TRAINER_TWO, "two_other", COMMON " --epochs 3 --history "
                         "straight.csv --resume two2.ck"), 1);
    assert_contains(slurp("two_other.err", NULL),
                    "error: straight.csv: its columns are 'epoch,loss,accuracy,val_loss,"
                    "val_accuracy,seconds', this run writes 'epoch,loss,accuracy,"
                    "sparse_top_k_categorical_accuracy,val_loss,val_accuracy,"
                    "val_sparse_top_k_categorical_accuracy,seconds'");
    assert_string_equal(slurp("two_other.out", NULL), "");
    csv_read(&a, "straight.csv");
    assert_int_equal(a.count, 5);
    free(a.text);
}

/* --------------------------------------------------- dropout's own stream */

/*
 * Issue #12: "tiny" and "tiny_dropout" differ only in a dropout layer.
 * With one generator the masks consumed draws between shuffles, so from
 * epoch 2 on the two saw the samples in different orders. Now each epoch
 * of both runs trains the same batches in the same order (TINY_TRACE
 * hashes each training batch's inputs), while the dropout run's numbers
 * show that its masks were drawn.
 */
static void test_dropout_does_not_move_the_shuffles(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "%s/plain.trace", dir);
    setenv("TINY_TRACE", path, 1);
    int rc = run(TINY_TRAINER, "plain", "--data " DATA " --limit 300 --threads 1 --epochs 3 "
                 "--seed 5 --history plain.csv");
    snprintf(path, sizeof path, "%s/drop.trace", dir);
    setenv("TINY_TRACE", path, 1);
    int rc_drop = run(TINY_TRAINER_DROPOUT, "drop", "--data " DATA " --limit 300 --threads 1 "
                      "--epochs 3 --seed 5 --history drop.csv");
    unsetenv("TINY_TRACE");
    assert_int_equal(rc, 0);
    assert_int_equal(rc_drop, 0);
    char *plain = slurp("plain.trace", NULL), *drop = slurp("drop.trace", NULL);
    assert_int_equal(count_lines(plain), 3 * 10); /* 300 samples: 9 batches of 32 and 12 */
    assert_string_equal(plain, drop);
    /* and the epochs are shuffled, each differently */
    size_t epoch_len = 0;
    for (int i = 0; i < 10; i++)
        epoch_len += strcspn(plain + epoch_len, "\n") + 1;
    assert_memory_not_equal(plain, plain + epoch_len, epoch_len);
    csv a, b;
    csv_read(&a, "plain.csv");
    csv_read(&b, "drop.csv");
    char ma[256], mb[256];
    metric_columns(a.rows[1], ma, sizeof ma);
    metric_columns(b.rows[1], mb, sizeof mb);
    assert_string_not_equal(ma, mb);
    free(a.text);
    free(b.text);
    free(plain);
    free(drop);
}

/* The checkpoint holds the dropout stream: 3 epochs straight and 1 + 2
 * resumed give the same file, byte for byte. */
static void test_resume_continues_the_dropout_stream(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_DROPOUT, "d3", "--data " DATA " --limit 300 --threads 1 "
                         "--epochs 3 --save d3.ck --quiet"), 0);
    assert_int_equal(run(TINY_TRAINER_DROPOUT, "d1", "--data " DATA " --limit 300 --threads 1 "
                         "--epochs 1 --save d1.ck --quiet"), 0);
    assert_int_equal(run(TINY_TRAINER_DROPOUT, "d1r", "--data " DATA " --limit 300 --threads 1 "
                         "--epochs 3 --resume d1.ck --save d1.ck --quiet"), 0);
    assert_same_file("d3.ck", "d1.ck");
}

/* ------------------------------------------------------- normalize adapt */

/*
 * tiny_norm (rescale 2 offset=-1, normalize over the last axis of 28)
 * trained on the first 100 training images: the checkpoint's mean and
 * variance are those of the 2800 rows of 28 values x*2-1, x = byte/255
 * as a float. Computed independently with NumPy 1.24 (Debian's
 * python3-numpy):
 *   raw = gzip.open('data/mnist-digits/train-images-idx3-ubyte.gz').read()
 *   x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:100]
 *   x = x.astype(np.float32) * np.float32(1/255)
 *   rows = x.astype(np.float64).reshape(-1, 28)
 *   mean = (2*rows.mean(0) - 1).astype(np.float32)
 *   var = (4*rows.var(0)).astype(np.float32)
 */
static const double norm_mean[28] = {
    -1, -1, -0.99842298, -0.992492974, -0.966680646, -0.91554904, -0.852605045,
    -0.77043134, -0.69550699, -0.634540617, -0.576543391, -0.549918771, -0.526352942,
    -0.480904728, -0.453058779, -0.457515389, -0.466764688, -0.485585392, -0.526717067,
    -0.60833329, -0.708803892, -0.799666643, -0.875145674, -0.924355745, -0.974523783,
    -0.992924392, -0.998966396, -0.999703109};
static const double norm_var[28] = {
    0, 0, 0.00155451859, 0.0108121689, 0.0502489991, 0.131692216, 0.227436066,
    0.323078573, 0.433453292, 0.494234174, 0.540729344, 0.560381591, 0.57365942,
    0.616387069, 0.653060257, 0.625050426, 0.635043979, 0.616516173, 0.587335348,
    0.518508792, 0.402442485, 0.287577569, 0.186811313, 0.118229866, 0.0326307155,
    0.0086514689, 0.00103877357, 0.000127730818};

/* Float k of a checkpoint of tiny_norm's params (name "tiny_norm",
 * source "tiny_norm.seq"): 8 + 4 + 4+9 + 4+13 + 32 + 136 bytes of header. */
static double ckpt_param(const char *name, size_t k)
{
    size_t len;
    unsigned char *b = (unsigned char *)slurp(name, &len);
    size_t at = 8 + 4 + 4 + 9 + 4 + 13 + 32 + 136 + 4 * k;
    assert_true(at + 4 <= len);
    uint32_t bits = 0;
    for (int i = 0; i < 4; i++)
        bits |= (uint32_t)b[at + (size_t)i] << (8 * i);
    free(b);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void test_normalize_adapts_to_the_training_set(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_NORM, "norm", "--data " DATA " --limit 100 --threads 1 "
                         "--epochs 1 --save norm.ck"), 0);
    char *out = slurp("norm.out", NULL);
    assert_memory_equal(out, "normalize: adapted to 100 training samples\nEpoch 1/1\n", 51);
    const size_t mean_at = 784 * 10 + 10, var_at = mean_at + 28;
    for (size_t f = 0; f < 28; f++) {
        assert_close(ckpt_param("norm.ck", mean_at + f), norm_mean[f], 1e-6);
        assert_close(ckpt_param("norm.ck", var_at + f), norm_var[f], 1e-6 * norm_var[f] + 1e-9);
    }
    /* and it trains: normalized inputs reach the tutorial's accuracy */
    csv h;
    assert_int_equal(run(TINY_TRAINER_NORM, "norm_q", "--data " DATA " --limit 100 --threads 1 "
                         "--epochs 1 --quiet"), 0);
    assert_string_equal(slurp("norm_q.out", NULL), "");

    /* resuming keeps the checkpoint's statistics: no second adapt */
    assert_int_equal(run(TINY_TRAINER_NORM, "norm_r", "--data " DATA " --limit 300 --threads 1 "
                         "--epochs 2 --resume norm.ck --save norm2.ck --history norm2.csv"), 0);
    assert_null(strstr(slurp("norm_r.out", NULL), "normalize:"));
    for (size_t f = 0; f < 56; f++)
        assert_true(ckpt_param("norm2.ck", mean_at + f) == ckpt_param("norm.ck", mean_at + f));
    csv_read(&h, "norm2.csv");
    assert_int_equal(h.count, 2);
    assert_true(field_number(h.rows[1], 2) > 0.5);
    free(h.text);
}

/* ------------------------------------------- validation split and test set */

/*
 * A DIR source with --validation-split: the split validates every epoch
 * and the t10k files are the test set, evaluated once at the end: one
 * line on stdout, also with --quiet, whose numbers are evaluate's on the
 * same files (evaluate reads a DIR's t10k) with test_ for val_.
 */
static void test_test_set_is_evaluated_once_at_the_end(void **state)
{
    (void)state;
    assert_int_equal(run(TINY_TRAINER_TWO, "tsplit", COMMON " --epochs 2 --validation-split 0.25 "
                         "--quiet --history tsplit.csv --save tsplit.ck"), 0);
    char *out = slurp("tsplit.out", NULL);
    assert_int_equal(count_lines(out), 1);
    assert_int_equal(run(TINY_TRAINER_TWO, "tsplit_eval", "evaluate --data " DATA " --limit 2000 "
                         "--threads 1 --load tsplit.ck"), 0);
    char *ev = slurp("tsplit_eval.out", NULL);
    char want[512];
    double loss, acc, top;
    assert_int_equal(sscanf(ev, "val_loss: %lf - val_accuracy: %lf - "
                                "val_sparse_top_k_categorical_accuracy: %lf", &loss, &acc, &top), 3);
    snprintf(want, sizeof want, "test_loss: %s", strchr(ev, ' ') + 1);
    /* "val_loss: A - val_accuracy: B - val_sparse...: C" -> test_ names */
    char *p;
    while ((p = strstr(want, "val_")) != NULL) {
        memmove(p + 5, p + 4, strlen(p + 4) + 1);
        memcpy(p, "test_", 5);
    }
    assert_string_equal(out, want);
    /* the history validated on the split, not on the test set */
    csv h;
    csv_read(&h, "tsplit.csv");
    assert_int_equal(h.count, 3);
    assert_true(field_number(h.rows[2], 4) != loss);
    free(h.text);
    /* without --quiet the line comes after the last epoch's */
    assert_int_equal(run(TINY_TRAINER_TWO, "tsplit_loud", COMMON " --epochs 1 "
                         "--validation-split 0.25"), 0);
    out = slurp("tsplit_loud.out", NULL);
    char *last = out + strlen(out) - 1;
    while (last > out && last[-1] != '\n')
        last--;
    assert_memory_equal(last, "test_loss: ", 11);
    assert_int_equal(count_lines(out), 3);
}

/* A CSV with no --test and no split: no validation at all. The history
 * has no val_ columns, the progress line no val_ values, and there is no
 * test line. */
static void test_training_without_validation(void **state)
{
    (void)state;
    char path[4300];
    snprintf(path, sizeof path, "%s/noval.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int j = 0; j < 784; j++)
        fprintf(f, "p%d,", j);
    fputs("label\n", f);
    for (int i = 0; i < 40; i++) {
        for (int j = 0; j < 784; j++)
            fprintf(f, "%g,", (double)((i * 7 + j * 13) % 256) / 255.0);
        fprintf(f, "%d\n", i % 10);
    }
    fclose(f);
    assert_int_equal(run(TINY_TRAINER, "noval", "--data noval.csv --threads 1 --epochs 2 "
                         "--history noval.csv.hist --save noval.ck"), 0);
    csv h;
    csv_read(&h, "noval.csv.hist");
    assert_int_equal(h.count, 3);
    assert_string_equal(h.rows[0], "epoch,loss,accuracy,seconds");
    char *out = slurp("noval.out", NULL);
    char part[256];
    snprintf(part, sizeof part, "2/2 [==============================] - ");
    assert_contains(out, part);
    snprintf(part, sizeof part, " - loss: %.4f - accuracy: %.4f\n", field_number(h.rows[2], 1),
             field_number(h.rows[2], 2));
    assert_contains(out, part);
    assert_null(strstr(out, "val_"));
    assert_null(strstr(out, "test_"));
    free(h.text);
    /* resuming keeps the columns */
    assert_int_equal(run(TINY_TRAINER, "noval_r", "--data noval.csv --threads 1 --epochs 3 "
                         "--history noval.csv.hist --resume noval.ck"), 0);
    csv_read(&h, "noval.csv.hist");
    assert_int_equal(h.count, 4);
    assert_string_equal(h.rows[0], "epoch,loss,accuracy,seconds");
    free(h.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_model_learns),
        cmocka_unit_test(test_plain_output_is_one_line_per_epoch),
        cmocka_unit_test(test_history_columns_and_rows),
        cmocka_unit_test(test_same_seed_gives_identical_runs),
        cmocka_unit_test(test_different_seed_differs),
        cmocka_unit_test(test_resume_is_bit_exact),
        cmocka_unit_test(test_resume_past_the_target_is_refused),
        cmocka_unit_test(test_evaluate_reproduces_last_epoch),
        cmocka_unit_test(test_predict_with_and_without_labels),
        cmocka_unit_test(test_refuses_checkpoint_of_another_model),
        cmocka_unit_test(test_refuses_damaged_checkpoint),
        cmocka_unit_test(test_bad_flags_exit_2),
        cmocka_unit_test(test_missing_or_wrong_data_exit_1),
        cmocka_unit_test(test_nan_loss_stops_training),
        cmocka_unit_test(test_last_batch_of_one_sample_is_trained),
        cmocka_unit_test(test_training_metrics_are_sample_weighted_means),
        cmocka_unit_test(test_quiet_and_help),
        cmocka_unit_test(test_live_bar_on_a_terminal),
        cmocka_unit_test(test_outputs_checked_before_training),
        cmocka_unit_test(test_symlinks_are_written_through),
        cmocka_unit_test(test_devices_stay_devices),
        cmocka_unit_test(test_second_trainer_on_one_checkpoint_is_refused),
        cmocka_unit_test(test_nonfinite_weights_name_the_layer),
        cmocka_unit_test(test_load_reads_at_most_a_checkpoint),
        cmocka_unit_test(test_numeric_flags_name_their_range),
        cmocka_unit_test(test_stale_temporaries_cleared_at_start),
        cmocka_unit_test(test_resume_refuses_impossible_fields),
        cmocka_unit_test(test_columns_follow_the_metrics),
        cmocka_unit_test(test_resume_keeps_the_columns),
        cmocka_unit_test(test_dropout_does_not_move_the_shuffles),
        cmocka_unit_test(test_resume_continues_the_dropout_stream),
        cmocka_unit_test(test_normalize_adapts_to_the_training_set),
        cmocka_unit_test(test_test_set_is_evaluated_once_at_the_end),
        cmocka_unit_test(test_training_without_validation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
