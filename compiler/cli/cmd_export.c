/*
 * cmd_export.c: seqc export, a trained model for deployment.
 *
 *   seqc export FILE --load CKPT [--format c|onnx] [-o NAME.c|NAME.onnx]
 *               [--no-fold] [--check-data PATH]
 *
 * 1. The model file is loaded, checked, lowered and run through the
 *    passes like `seqc build` does, so the structure hash and parameter
 *    layout are the trainer's.
 * 2. The checkpoint is read by the runtime's own reader
 *    (seqrt_checkpoint_load, runtime/src/loop/checkpoint.c) against a
 *    seqrt_model made from the IR (read_checkpoint: the one place that
 *    knows the format's reader): a checkpoint of another model, a changed
 *    model file or a damaged file is refused with the reader's message.
 * 3. The export plan folds batchnorm (export_plan.c) and says what it
 *    folded.
 * 4. Self-check: on the check data (--check-data, else the embedded
 *    digits data/mnist-digits for a 28x28 model), every sample through
 *    the plan in float (the exported C's arithmetic) and through the
 *    unfolded reference in double (export_ref.c); every output must agree
 *    within 1e-5 relative (|a - b| <= 1e-5 max(1, |b|)), or nothing is
 *    written. The worst difference is printed.
 * 5. The files are written atomically (NAME.h, then NAME.c; or NAME.onnx),
 *    after checking up front that no output is one of the inputs.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli/commands.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "back/export.h"
#include "front/frontend.h"
#include "ir/ir.h"
#include "loop/checkpoint.h"
#include "util/arena.h"
#include "util/fileio.h"

#ifndef SEQC_SOURCE_DATA_DIR
#define SEQC_SOURCE_DATA_DIR "data"
#endif

#define USE SEQC_USAGE_EXPORT

/* The self-check's bound on |folded - unfolded| / max(1, |unfolded|) */
#define EXPORT_CHECK_TOLERANCE 1e-5

typedef enum export_format { FORMAT_C, FORMAT_ONNX } export_format;

typedef struct export_args {
    const char   *file, *load, *out, *check_data;
    size_t        check_limit; /* samples checked at most; 0: all */
    export_format format;
    bool          no_fold;
} export_args;

static void help(void)
{
    printf("usage: seqc %s\n", USE);
    fputs("Writes a trained model (FILE and the checkpoint CKPT its trainer saved) for\n"
          "deployment. --format c (the default) writes NAME.c and NAME.h: C99 with the\n"
          "weights as static const floats, no allocation, nothing but libm; --format onnx\n"
          "writes NAME.onnx (opset 13, dynamic batch). Batchnorm is folded into the dense\n"
          "or conv2d before it (or the dense after it); --no-fold keeps it as a step.\n"
          "Before writing, the exported model is checked against the unfolded model on\n"
          "the check data: --check-data DIR (IDX, its t10k set), FILE.npz (x_test) or\n"
          "FILE.csv (target in the last column); default data/mnist-digits for a 28x28\n"
          "input; --check-limit N checks the first N samples only. Nothing is written\n"
          "unless every output agrees within 1e-5.\n",
          stdout);
}

static int parse_args(int argc, char **argv, export_args *a)
{
    memset(a, 0, sizeof *a);
    static const char *const valued[] = {"--load", "-o", "--format", "--check-data",
                                         "--check-limit"};
    for (int i = 1; i < argc;) {
        const char *s = argv[i], *val;
        if (cli_is_help(s)) {
            help();
            return -1;
        }
        int rc = cli_take_value("export", USE, argc, argv, &i, valued, 5, &val);
        if (rc == -2)
            return 2;
        if (rc >= 0) {
            if (val[0] == 0)
                return cli_usage_error("export", USE, "%s needs a value", valued[rc]);
            if (rc == 0)
                a->load = val;
            else if (rc == 1)
                a->out = val;
            else if (rc == 3)
                a->check_data = val;
            else if (rc == 4) {
                char *end;
                unsigned long long n = strtoull(val, &end, 10);
                if (*end || n == 0 || val[0] == '-')
                    return cli_usage_error("export", USE, "--check-limit %s: not a positive "
                                                          "number of samples", val);
                a->check_limit = (size_t)n;
            }
            else if (strcmp(val, "c") == 0)
                a->format = FORMAT_C;
            else if (strcmp(val, "onnx") == 0)
                a->format = FORMAT_ONNX;
            else
                return cli_usage_error("export", USE, "unknown format '%s' (c or onnx)", val);
            continue;
        }
        if (strcmp(s, "--no-fold") == 0)
            a->no_fold = true;
        else if (s[0] == '-' && s[1] != 0)
            return cli_usage_error("export", USE, "unknown option '%s'", s);
        else if (a->file)
            return cli_usage_error("export", USE, "more than one model file ('%s', '%s')",
                                   a->file, s);
        else
            a->file = s;
        i++;
    }
    if (!a->file)
        return cli_usage_error("export", USE, "no model file given");
    if (!a->load)
        return cli_usage_error("export", USE, "no checkpoint given (--load CKPT, saved by "
                                              "the trainer's --save)");
    return 0;
}

static ir_model *compile_model(arena *ar, const char *file)
{
    model *m = arena_alloc(ar, sizeof *m);
    const frontend_opts o = {MODEL_TO_TRAIN, NULL, 0};
    if (frontend_load_with(ar, file, &o, m) != 0)
        return NULL;
    ir_model *ir = ir_lower(ar, m, NULL);
    /* the exporters take the layers one by one; fusing batchnorm + relu +
     * maxpool2d is the trainer's memory saving and keeps the structure
     * hash, so the checkpoint matches either way */
    ir->no_block_fusion = true;
    if (ir_run_passes(ir, NULL) != 0)
        return NULL;
    return ir;
}

/*
 * The checkpoint's parameters, read by the runtime's reader against the
 * model as the trainer describes it (name, structure hash, counts, the
 * named blocks for its messages). The one place seqc reads a checkpoint:
 * a new format version changes the runtime's reader, not this.
 */
static float *read_checkpoint(arena *ar, const ir_model *ir, const char *path)
{
    seqrt_param_block *blocks = arena_array(ar, (size_t)ir->nparams + 1, sizeof *blocks);
    for (int i = 0; i < ir->nparams; i++) {
        const ir_param *p = &ir->params[i];
        blocks[i] = (seqrt_param_block){ir->ops[p->op].name, p->what, ir->ops[p->op].line,
                                        (size_t)p->offset, (size_t)p->count};
    }
    /* in offset order, as the trainer lists them */
    for (int i = 1; i < ir->nparams; i++)
        for (int j = i; j > 0 && blocks[j].offset < blocks[j - 1].offset; j--) {
            seqrt_param_block t = blocks[j];
            blocks[j] = blocks[j - 1];
            blocks[j - 1] = t;
        }
    seqrt_model m;
    memset(&m, 0, sizeof m);
    m.name = ir->name;
    m.source = ir->path;
    m.structure_hash = ir_structure_hash(ir);
    m.param_count = (size_t)ir->param_count;
    m.trainable_count = (size_t)ir->trainable_count;
    m.opt_state_count = (size_t)ir->opt_state_count;
    m.blocks = blocks;
    m.block_count = ir->nparams;
    m.input_size = (int)ir->input_size;
    m.outputs = (int)ir->classes;
    float *params = arena_array(ar, (size_t)ir->param_count + 1, sizeof *params);
    seqrt_error err;
    if (seqrt_checkpoint_load(path, &m, params, NULL, NULL, &err) != 0) {
        fprintf(stderr, "seqc export: error: %s\n", err.msg);
        return NULL;
    }
    return params;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The check data's path: --check-data, or the embedded digits for a
 * model that reads 28x28 images (the current directory's data/, then the
 * source tree's). NULL after an error. */
static const char *check_data_path(arena *ar, const export_args *a, const ir_model *ir)
{
    if (a->check_data)
        return a->check_data;
    if (ir->input_size == 784) {
        if (is_dir("data/mnist-digits"))
            return "data/mnist-digits";
        const char *src = arena_printf(ar, "%s/mnist-digits", SEQC_SOURCE_DATA_DIR);
        if (is_dir(src))
            return src;
    }
    fprintf(stderr, "seqc export: error: no data for the self-check of model '%s': give its "
                    "validation data with --check-data DIR|FILE.npz|FILE.csv\n",
            ir->name);
    return NULL;
}

/* The check set as the trainer's predict reads it: a directory's t10k
 * IDX files, an archive's x_test, a CSV file's rows (inputs only when it
 * has exactly the model's columns). */
static int load_check_set(const char *path, const ir_model *ir, seqrt_dataset *d)
{
    seqrt_error err;
    int rc;
    memset(d, 0, sizeof *d);
    if (is_dir(path)) {
        rc = seqrt_load_mnist_dir_opts(path, "t10k", NULL, d, &err);
    } else if (ends_with(path, ".npz")) {
        rc = seqrt_load_npz(path, "test", NULL, d, &err);
        if (rc == 1)
            rc = seqrt_fail(&err, "%s: no x_test.npy in the archive: the check reads x_test",
                            path);
    } else {
        seqrt_csv_opts csv = {0};
        rc = seqrt_load_csv(path, &csv, NULL, d, &err);
        if (rc == 0 && d->sample_size != (size_t)ir->input_size &&
            d->sample_size + (size_t)d->y_width == (size_t)ir->input_size) {
            seqrt_dataset_free(d);
            csv.no_target = 1;
            rc = seqrt_load_csv(path, &csv, NULL, d, &err);
        }
    }
    if (rc == 0 && d->sample_size != (size_t)ir->input_size)
        rc = seqrt_fail(&err, "%s: samples of %zu values, model '%s' reads %" PRId64, path,
                        d->sample_size, ir->name, ir->input_size);
    if (rc == 0 && d->count == 0)
        rc = seqrt_fail(&err, "%s: no samples to check with", path);
    if (rc != 0) {
        seqrt_dataset_free(d);
        fprintf(stderr, "seqc export: error: cannot read the check data: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Step 4 of the file's comment. 0 when the plan agrees with the model. */
static int self_check(arena *ar, const ex_plan *p, const float *params, const char *path,
                      size_t limit)
{
    const ir_model *ir = p->ir;
    seqrt_dataset d;
    if (load_check_set(path, ir, &d) != 0)
        return 1;
    int64_t in = ir->input_size, outs = ir->classes, rw = export_reference_width(ir);
    float *x = arena_array(ar, (size_t)in, sizeof *x);
    float *y = arena_array(ar, (size_t)outs, sizeof *y);
    float *b0 = arena_array(ar, (size_t)p->max_features, sizeof *b0);
    float *b1 = arena_array(ar, (size_t)p->max_features, sizeof *b1);
    double *ref = arena_array(ar, (size_t)outs, sizeof *ref);
    double *r0 = arena_array(ar, (size_t)rw, sizeof *r0);
    double *r1 = arena_array(ar, (size_t)rw, sizeof *r1);
    double worst = 0;
    size_t worst_i = 0, worst_j = 0;
    float worst_a = 0;
    double worst_b = 0;
    size_t count = limit && limit < d.count ? limit : d.count;
    for (size_t i = 0; i < count; i++) {
        for (int64_t k = 0; k < in; k++)
            x[k] = d.xtype == SEQRT_X_U8 ? (float)d.pixels[i * (size_t)in + (size_t)k] * d.scale
                                         : d.values[i * (size_t)in + (size_t)k];
        export_plan_eval(p, x, y, b0, b1);
        export_reference(ir, params, x, ref, r0, r1);
        for (int64_t j = 0; j < outs; j++) {
            double diff = fabs((double)y[j] - ref[j]) / fmax(1.0, fabs(ref[j]));
            if (!(diff <= worst)) { /* NaN counts as the worst */
                worst = isnan(diff) ? INFINITY : diff;
                worst_i = i;
                worst_j = (size_t)j;
                worst_a = y[j];
                worst_b = ref[j];
            }
        }
    }
    seqrt_dataset_free(&d);
    printf("self-check: %zu samples of %s: worst relative difference %.3g (sample %zu, "
           "output %zu: %.9g exported, %.9g unfolded)\n",
           count, path, worst, worst_i, worst_j, (double)worst_a, worst_b);
    if (!(worst <= EXPORT_CHECK_TOLERANCE)) {
        fprintf(stderr, "seqc export: error: the exported model differs from the trained "
                        "model by %.3g (more than %g) on sample %zu of %s: nothing written\n",
                worst, EXPORT_CHECK_TOLERANCE, worst_i, path);
        return 1;
    }
    return 0;
}

typedef struct c_job {
    const ex_plan     *p;
    const export_info *info;
    bool               header;
} c_job;

static int write_c(FILE *f, const void *ctx)
{
    const c_job *j = ctx;
    return j->header ? export_c_header(f, j->p, j->info) : export_c_source(f, j->p, j->info);
}

typedef struct bytes_job {
    const unsigned char *bytes;
    size_t               len;
} bytes_job;

static int write_bytes(FILE *f, const void *ctx)
{
    const bytes_job *j = ctx;
    return fwrite(j->bytes, 1, j->len, f) == j->len ? 0 : -1;
}

/* NAME.c -> NAME.h (NULL when out does not end in .c) */
static char *header_path(arena *ar, const char *out)
{
    if (!ends_with(out, ".c") || strlen(out) < 3 || out[strlen(out) - 3] == '/')
        return NULL;
    char *h = arena_strdup(ar, out);
    h[strlen(h) - 1] = 'h';
    return h;
}

static int run(arena *ar, const export_args *a)
{
    const char *out = a->out;
    size_t stem = path_stem_len(a->file);
    if (!out)
        out = arena_printf(ar, "%.*s%s", (int)stem, path_base(a->file),
                           a->format == FORMAT_C ? ".c" : ".onnx");
    const char *hdr = NULL;
    if (a->format == FORMAT_C && !(hdr = header_path(ar, out)))
        return cli_usage_error("export", USE, "-o %s: the C output's name ends in .c (its "
                                              "header gets the same name with .h)", out);
    const char *inputs[] = {a->file, a->load, a->check_data};
    const char *outputs[] = {out, hdr};
    char why[600];
    for (int k = 0; k < 2 && outputs[k]; k++)
        if (file_check_output(outputs[k], inputs, a->check_data ? 3 : 2, why, sizeof why)) {
            fprintf(stderr, "seqc export: error: cannot write %s: %s\n", outputs[k], why);
            return 1;
        }

    ir_model *ir = compile_model(ar, a->file);
    if (!ir)
        return 1;
    float *params = read_checkpoint(ar, ir, a->load);
    if (!params)
        return 1;
    ex_plan *p = export_plan(ar, ir, params, !a->no_fold, stdout);
    if (!p)
        return 1;
    printf("%s: %" PRId64 " weights to export (%" PRId64 " parameters in the checkpoint)\n",
           ir->name, p->weights, ir->param_count);
    const char *data = check_data_path(ar, a, ir);
    if (!data || self_check(ar, p, params, data, a->check_limit) != 0)
        return 1;

    const char *checkpoint = a->load;
    export_info info = {cli_version(), ir->path, checkpoint, path_base(hdr ? hdr : out)};
    if (a->format == FORMAT_C) {
        c_job h = {p, &info, true}, c = {p, &info, false};
        if (file_write_atomic(hdr, "seqc export", write_c, &h) ||
            file_write_atomic(out, "seqc export", write_c, &c))
            return 1;
        printf("wrote %s and %s\n", out, hdr);
        return 0;
    }
    size_t len = 0;
    unsigned char *bytes = export_onnx_bytes(p, &info, &len);
    if (!bytes) {
        fprintf(stderr, "seqc export: error: out of memory for the ONNX model\n");
        return 1;
    }
    bytes_job job = {bytes, len};
    int rc = file_write_atomic(out, "seqc export", write_bytes, &job);
    free(bytes);
    if (rc == 0)
        printf("wrote %s (%zu bytes, ONNX opset 13)\n", out, len);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    export_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    arena ar;
    arena_init(&ar);
    rc = run(&ar, &a);
    arena_free(&ar);
    return rc;
}
