/*
 * test_data_npz.c: the .npz/.npy loader on the committed fixtures of
 * tests/runtime/data (written by make_npz.py with NumPy; its docstring
 * gives the formula of every value, computed here independently), the
 * data sources of seqrt_load_data and the validation split.
 *
 * Each failing load must return -1 with exactly the message asserted and
 * leave the dataset empty; from memory (seqrt_load_npz_mem) the same
 * bytes fail the same way, naming "<npz>".
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include "seqrt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES SEQC_SOURCE_DIR "/tests/runtime/data/"
#define MNIST_DIR SEQC_SOURCE_DIR "/data/mnist-digits"

SEQC_SCRATCH_GROUP("data_npz")

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    unsigned char *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *n = (size_t)size;
    return data;
}

static void assert_empty(const seqrt_dataset *d)
{
    assert_int_equal(d->count, 0);
    assert_null(d->pixels);
    assert_null(d->values);
    assert_null(d->targets);
    assert_int_equal(d->source[0], '\0');
}

static void load_ok(const char *name, const char *split, seqrt_dataset *d)
{
    seqrt_error err = {{0}};
    int rc = seqrt_load_npz(name, split, NULL, d, &err);
    if (rc != 0) {
        print_error("%s: %s\n", name, err.msg);
        fail();
    }
}

/* The file fails with exactly FILE<rest>; from memory, "<npz>"<rest>. */
static void expect_npz_error(const char *file, const char *rest)
{
    char path[512], want[1024];
    seqrt_dataset d;
    seqrt_error err = {{0}};
    snprintf(path, sizeof path, FIXTURES "%s", file);
    memset(&d, 0xAB, sizeof d);
    assert_int_equal(seqrt_load_npz(path, "train", NULL, &d, &err), -1);
    snprintf(want, sizeof want, "%s%s", path, rest);
    assert_string_equal(err.msg, want);
    assert_empty(&d);

    size_t n;
    unsigned char *bytes = slurp(path, &n);
    memset(&d, 0xAB, sizeof d);
    assert_int_equal(seqrt_load_npz_mem(bytes, n, "train", NULL, &d, &err), -1);
    snprintf(want, sizeof want, "<npz>%s", rest);
    assert_string_equal(err.msg, want);
    assert_empty(&d);
    free(bytes);
}

/* ------------------------------------------------------------- dtypes */

/* Every dtype, little- and big-endian: x of shape (2, 3) with the
 * formula of make_npz.py; uint8 stays bytes (scale 1/255), the rest are
 * float32 (scale 1). y = [0, 1]. */
static void test_every_dtype(void **state)
{
    (void)state;
    static const struct { const char *split; char kind; } cases[] = {
        {"u1", 'u'}, {"i1", 'i'}, {"i2", 'i'}, {"i2be", 'i'}, {"u2", 'u'},
        {"i4", 'i'}, {"i4be", 'i'}, {"i8", 'i'}, {"i8be", 'i'},
        {"f4", 'f'}, {"f4be", 'f'}, {"f8", 'f'}, {"f8be", 'f'},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        seqrt_dataset d;
        load_ok(FIXTURES "dtypes.npz", cases[c].split, &d);
        assert_int_equal(d.count, 2);
        assert_int_equal(d.ndims, 1);
        assert_int_equal(d.dims[0], 3);
        assert_int_equal(d.sample_size, 3);
        assert_int_equal(d.y_width, 1);
        assert_close(d.targets[0], 0, 0);
        assert_close(d.targets[1], 1, 0);
        int bytes = strcmp(cases[c].split, "u1") == 0;
        assert_int_equal(d.xtype, bytes ? SEQRT_X_U8 : SEQRT_X_F32);
        assert_close(d.scale, bytes ? 1.0 / 255.0 : 1.0, 1e-9);
        for (int i = 0; i < 6; i++) {
            double want = cases[c].kind == 'f' ? 0.5 * i - 1.25
                          : cases[c].kind == 'i' ? 3.0 * i - 5 : 3.0 * i;
            double got = bytes ? d.pixels[i] : d.values[i];
            if (got != want) {
                print_error("dtypes.npz %s: value %d is %g, want %g\n", cases[c].split, i,
                            got, want);
                fail();
            }
        }
        char src[600];
        snprintf(src, sizeof src, FIXTURES "dtypes.npz:x_%s.npy", cases[c].split);
        assert_string_equal(d.source, src);
        seqrt_dataset_free(&d);
    }
}

/* .npy header versions 2.0 and 3.0 (4-byte header length). */
static void test_header_versions(void **state)
{
    (void)state;
    seqrt_dataset d;
    load_ok(FIXTURES "versions.npz", "v2", &d);
    assert_close(d.values[5], 0.5 * 5 - 1.25, 0);
    assert_close(d.targets[1], 1, 0);
    seqrt_dataset_free(&d);
    load_ok(FIXTURES "versions.npz", "v3", &d);
    assert_close(d.values[5], 3.0 * 5 - 5, 0);
    assert_close(d.targets[0], 1, 0);
    seqrt_dataset_free(&d);
}

/* np.savez and np.savez_compressed of the same arrays give the same sets;
 * memory gives what the file gives. */
static void test_stored_and_compressed(void **state)
{
    (void)state;
    static const char *const files[] = {FIXTURES "stored.npz", FIXTURES "compressed.npz"};
    for (int f = 0; f < 2; f++) {
        seqrt_dataset tr, te, va;
        load_ok(files[f], "train", &tr);
        assert_int_equal(tr.count, 4);
        assert_int_equal(tr.ndims, 2);
        assert_int_equal(tr.dims[0], 2);
        assert_int_equal(tr.dims[1], 3);
        assert_int_equal(tr.xtype, SEQRT_X_U8);
        for (int i = 0; i < 24; i++)
            assert_int_equal(tr.pixels[i], i * 10 % 256);
        static const float y[4] = {0, 1, 2, 1};
        for (int i = 0; i < 4; i++)
            assert_close(tr.targets[i], y[i], 0);
        load_ok(files[f], "test", &te);
        assert_int_equal(te.count, 2);
        assert_int_equal(te.xtype, SEQRT_X_F32);
        assert_close(te.values[11], 11 * 0.25, 0);
        assert_close(te.targets[0], 2, 0);
        load_ok(files[f], "val", &va);
        assert_int_equal(va.count, 1);
        assert_close(va.values[5], 5, 0);
        assert_close(va.targets[0], 1, 0);

        size_t n;
        unsigned char *bytes = slurp(files[f], &n);
        seqrt_dataset mem;
        seqrt_error err = {{0}};
        assert_int_equal(seqrt_load_npz_mem(bytes, n, "train", NULL, &mem, &err), 0);
        assert_int_equal(mem.count, 4);
        assert_memory_equal(mem.pixels, tr.pixels, 24);
        assert_memory_equal(mem.targets, tr.targets, 4 * sizeof(float));
        assert_string_equal(mem.source, "<npz>:x_train.npy");
        seqrt_dataset_free(&mem);
        free(bytes);
        seqrt_dataset_free(&tr);
        seqrt_dataset_free(&te);
        seqrt_dataset_free(&va);
    }
}

/* y of shape (N, K): K targets per sample; an absent split returns 1. */
static void test_onehot_and_absent(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    load_ok(FIXTURES "onehot.npz", "train", &d);
    assert_int_equal(d.y_width, 3);
    static const float t[6] = {0, 0, 1, 1, 0, 0};
    for (int i = 0; i < 6; i++)
        assert_close(d.targets[i], t[i], 0);
    if (seqrt_dataset_check(&d, 6, 3, SEQRT_TARGET_ROWS, 1, &err) != 0) {
        print_error("%s\n", err.msg);
        fail();
    }
    seqrt_dataset_free(&d);
    memset(&d, 0xAB, sizeof d);
    assert_int_equal(seqrt_load_npz(FIXTURES "onehot.npz", "val", NULL, &d, &err), 1);
    assert_empty(&d);
}

/* ---------------------------------------------------------- bad files */

static void test_bad_files(void **state)
{
    (void)state;
    expect_npz_error("fortran.npz", ":x_train.npy: the array is in Fortran order "
                     "(column-major); save it in C order (np.ascontiguousarray(a))");
    expect_npz_error("object.npz", ":x_train.npy: an object array (dtype '|O', pickled "
                     "Python objects) cannot be read: save an array of numbers (uint8, "
                     "int8, int16, int32, int64, float32 or float64)");
    expect_npz_error("bool.npz", ":x_train.npy: dtype '|b1' (bool) is not supported: save "
                     "it as uint8 or float32 (y.astype('uint8'))");
    expect_npz_error("structured.npz", ":x_train.npy: a structured array (a dtype with "
                     "named fields) cannot be read: save one array of numbers per key");
    expect_npz_error("complex.npz", ":x_train.npy: dtype '<c8' is not supported (expected "
                     "uint8, int8, int16, int32, int64, float32 or float64)");
    expect_npz_error("truncated.npz", ":x_train.npy: truncated: shape (2, 3) is 6 values "
                     "of float32, the data holds 4");
    expect_npz_error("trailing.npz", ":x_train.npy: trailing data after the 6 values of "
                     "shape (2, 3)");
    expect_npz_error("y3d.npz", ":y_train.npy: shape (2, 1, 1): targets are (N,) class "
                     "numbers or values, or (N, K) rows");
    expect_npz_error("dims6.npz", ":x_train.npy: more than 5 dimensions (N and at most 4 "
                     "per sample)");
    expect_npz_error("not_npy.npz", ":x_train.npy: not a .npy array (no \\x93NUMPY magic "
                     "string)");
    expect_npz_error("crc.npz", ":x_train.npy: corrupt zip member: CRC error");
    expect_npz_error("empty.npz", ": not a zip archive (an .npz file is NumPy's zip of "
                     ".npy arrays, written by np.savez)");

    /* the counts of x and y: both members named */
    seqrt_dataset d;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_npz(FIXTURES "mismatch.npz", "train", NULL, &d, &err), -1);
    assert_string_equal(err.msg, FIXTURES "mismatch.npz:y_train.npy: 3 samples, but "
                        FIXTURES "mismatch.npz:x_train.npy has 2: the counts must agree");
}

/* What only the check finds: NaN inputs, a label out of range, no y. */
static void test_checked(void **state)
{
    (void)state;
    seqrt_dataset d;
    seqrt_error err = {{0}};
    load_ok(FIXTURES "nan.npz", "train", &d);
    assert_int_equal(seqrt_dataset_check(&d, 3, 2, SEQRT_TARGET_CLASS, 1, &err), -1);
    assert_string_equal(err.msg, FIXTURES "nan.npz:x_train.npy: sample 1, input 3 of 3 is "
                        "nan: inputs must be finite");
    seqrt_dataset_free(&d);
    load_ok(FIXTURES "label7.npz", "train", &d);
    assert_int_equal(seqrt_dataset_check(&d, 3, 5, SEQRT_TARGET_CLASS, 1, &err), -1);
    assert_string_equal(err.msg, FIXTURES "label7.npz:y_train.npy: sample 1 has label 7, but "
                        "the model has 5 classes (labels 0..4)");
    assert_int_equal(seqrt_dataset_check(&d, 784, 5, SEQRT_TARGET_CLASS, 1, &err), -1);
    assert_string_equal(err.msg, FIXTURES "label7.npz:x_train.npy has shape (2, 3): 3 values "
                        "per sample, the model's input takes 784");
    seqrt_dataset_free(&d);
    load_ok(FIXTURES "x_only.npz", "train", &d);
    assert_int_equal(d.y_width, 0);
    assert_int_equal(seqrt_dataset_check(&d, 3, 5, SEQRT_TARGET_CLASS, 0, &err), 0);
    assert_int_equal(seqrt_dataset_check(&d, 3, 5, SEQRT_TARGET_CLASS, 1, &err), -1);
    assert_string_equal(err.msg, FIXTURES "x_only.npz:x_train.npy: the data has no targets");
    seqrt_dataset_free(&d);
}

/* A .npy on its own, and a header that lies about its size. */
static void test_npy_mem(void **state)
{
    (void)state;
    /* a v1 header for shape (1000000000,) of float64 and 16 bytes of data */
    char hdr[128];
    const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }";
    size_t hl = strlen(dict);
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    hdr[8] = (char)(hl & 0xff);
    hdr[9] = (char)(hl >> 8);
    memcpy(hdr + 10, dict, hl);
    double two[2] = {1.5, -2};
    memcpy(hdr + 10 + hl, two, sizeof two);
    seqrt_array a;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_npy_mem(hdr, 10 + hl + 16, "lie.npy", NULL, &a, &err), -1);
    assert_string_equal(err.msg, "lie.npy: truncated: shape (1000000000,) is 1000000000 "
                        "values of float64, the data holds 2");
    /* the same header with shape (2,): read */
    const char *ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }          ";
    hl = strlen(ok);
    hdr[8] = (char)hl;
    memcpy(hdr + 10, ok, hl);
    memcpy(hdr + 10 + hl, two, sizeof two);
    assert_int_equal(seqrt_load_npy_mem(hdr, 10 + hl + 16, "ok.npy", NULL, &a, &err), 0);
    assert_int_equal(a.ndims, 1);
    assert_int_equal(a.count, 2);
    assert_false(a.is_u8);
    assert_close(a.f32[0], 1.5, 0);
    assert_close(a.f32[1], -2, 0);
    seqrt_array_free(&a);
    assert_int_equal(seqrt_load_npy_mem("\x93NUMPY\x04\x00", 8, NULL, NULL, &a, &err), -1);
    assert_string_equal(err.msg, "<npy>: truncated .npy header");
    assert_int_equal(seqrt_load_npy_mem("\x93NUMPY\x04\x00\x00\x00", 10, NULL, NULL, &a,
                                        &err), -1);
    assert_string_equal(err.msg, "<npy>: .npy format version 4.0 is not supported (1, 2 "
                        "and 3 are)");
    /* over the memory limit: refused as the values arrive */
    seqrt_load_opts lim = {.max_bytes = 4};
    assert_int_equal(seqrt_load_npy_mem(hdr, 10 + hl + 16, "ok.npy", &lim, &a, &err), -1);
    assert_string_equal(err.msg, "ok.npy: the data does not fit in the limit of 4 bytes (as "
                        "given); raise it with --max-data-bytes N");
}

/* ------------------------------------------------------- data sources */

static void test_load_data_npz(void **state)
{
    (void)state;
    seqrt_data_sets s;
    seqrt_error err = {{0}};
    seqrt_data_spec spec = {.data = FIXTURES "stored.npz"};
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), 0);
    assert_int_equal(s.train.count, 4);
    assert_int_equal(s.test.count, 2);
    assert_int_equal(s.val.count, 1);
    seqrt_data_sets_free(&s);
    assert_int_equal(s.train.count, 0);

    spec.data = FIXTURES "onehot.npz"; /* no test, no val */
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), 0);
    assert_int_equal(s.train.count, 2);
    assert_int_equal(s.test.count, 0);
    assert_int_equal(s.val.count, 0);
    seqrt_data_sets_free(&s);

    spec.data = FIXTURES "no_train.npz";
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    assert_string_equal(err.msg, FIXTURES "no_train.npz: no x_train.npy in the archive (seqc "
                        "reads the keys x_train, y_train and optionally x_test, y_test, "
                        "x_val, y_val: np.savez(path, x_train=..., y_train=...))");
    spec.data = FIXTURES "stored.npz";
    spec.test = "t.csv";
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    assert_string_equal(err.msg, "--test t.csv: --test goes with a CSV training file; "
                        FIXTURES "stored.npz is an .npz archive, which holds its own test set");
    spec.test = NULL;
    spec.csv.target = "y";
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    assert_string_equal(err.msg, "--target y: --target names CSV columns; "
                        FIXTURES "stored.npz is an .npz archive");
    spec = (seqrt_data_spec){.data = MNIST_DIR, .test = "t.csv"};
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    assert_string_equal(err.msg, "--test t.csv: --test goes with a CSV training file; "
                        MNIST_DIR " is a directory of IDX files, which holds its own test "
                        "set");
    spec = (seqrt_data_spec){.data = MNIST_DIR};
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), 0);
    assert_int_equal(s.train.count, 8000);
    assert_int_equal(s.test.count, 2000);
    assert_int_equal(s.val.count, 0);
    seqrt_data_sets_free(&s);
    spec.data = FIXTURES "nothing-here.csv";
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    assert_string_equal(err.msg, FIXTURES "nothing-here.csv: cannot open: No such file or "
                        "directory");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_load_data_csv(void **state)
{
    (void)state;
    char train[4300], test[4300], other[4300];
    scratch_path(train, sizeof train, "train.csv");
    scratch_path(test, sizeof test, "test.csv");
    scratch_path(other, sizeof other, "other.csv");
    write_text(train, "a,b,y\n1,2,0\n3,4,1\n5,6,0\n");
    write_text(test, "a,b,y\n7,8,1\n9,10,0\n11,12,1\n");
    write_text(other, "a,c,y\n7,8,1\n");
    seqrt_data_sets s;
    seqrt_error err = {{0}};
    seqrt_data_spec spec = {.data = train, .test = test};
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), 0);
    assert_int_equal(s.train.count, 3);
    assert_int_equal(s.test.count, 3);
    assert_close(s.test.values[1], 8, 0);
    assert_int_equal(s.val.count, 0);
    seqrt_data_sets_free(&s);
    spec.test = other;
    assert_int_equal(seqrt_load_data(&spec, NULL, &s, &err), -1);
    char want[9000];
    snprintf(want, sizeof want, "%s: the columns (a,c,y) differ from those of %s (a,b,y): "
             "the test set needs the training set's columns", other, train);
    assert_string_equal(err.msg, want);
    /* the limit covers both files: the least limit that takes the training
     * file alone is too little for both */
    spec.test = test;
    seqrt_load_opts lim = {.max_bytes = 1};
    seqrt_dataset alone;
    while (seqrt_load_csv(train, NULL, &lim, &alone, &err) != 0)
        lim.max_bytes++;
    seqrt_dataset_free(&alone);
    assert_int_equal(seqrt_load_data(&spec, &lim, &s, &err), -1);
    if (!strstr(err.msg, "held by the data loaded before")) {
        print_error("%s\n", err.msg);
        fail();
    }
}

/* Keras: split_at = floor(count * (1 - fraction)); the tail validates,
 * and a CSV's validation part keeps its line numbers. */
static void test_split(void **state)
{
    (void)state;
    char path[4300];
    scratch_path(path, sizeof path, "split.csv");
    write_text(path, "a,y\n0,0\n1,1\n2,0\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1\n");
    seqrt_dataset d, val;
    seqrt_error err = {{0}};
    assert_int_equal(seqrt_load_csv(path, NULL, NULL, &d, &err), 0);
    assert_int_equal(seqrt_dataset_split(&d, 0.25, &val, &err), 0);
    assert_int_equal(d.count, 7); /* floor(10 * 0.75) = 7 */
    assert_int_equal(val.count, 3);
    assert_close(val.values[0], 7, 0);
    assert_close(val.targets[2], 1, 0);
    assert_close(d.values[6], 6, 0);
    assert_int_equal(val.first_line, 9);
    val.values[0] = NAN;
    assert_int_equal(seqrt_dataset_check(&val, 1, 2, SEQRT_TARGET_CLASS, 1, &err), -1);
    char want[4400];
    snprintf(want, sizeof want, "%s:9: sample 0, input 1 of 1 is nan: inputs must be finite",
             path);
    assert_string_equal(err.msg, want);
    seqrt_dataset_free(&val);

    assert_int_equal(seqrt_dataset_split(&d, 0.9, &val, &err), -1);
    snprintf(want, sizeof want, "%s: a validation split of 0.9 of 7 samples leaves the "
             "training part empty", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(d.count, 7);
    assert_int_equal(seqrt_dataset_split(&d, 1.5, &val, &err), -1);
    assert_string_equal(err.msg, "validation split 1.5: it must be between 0 and 1 "
                        "(exclusive)");
    seqrt_dataset_free(&d);

    /* bytes (IDX) split too */
    assert_int_equal(seqrt_load_mnist_dir(MNIST_DIR, "t10k", &d, &err), 0);
    uint8_t last = d.pixels[1999 * 784 + 300];
    assert_int_equal(seqrt_dataset_split(&d, 0.2, &val, &err), 0);
    assert_int_equal(d.count, 1600);
    assert_int_equal(val.count, 400);
    assert_int_equal(val.pixels[399 * 784 + 300], last);
    assert_int_equal(val.first_line, 0);
    seqrt_dataset_free(&val);
    seqrt_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype),
        cmocka_unit_test(test_header_versions),
        cmocka_unit_test(test_stored_and_compressed),
        cmocka_unit_test(test_onehot_and_absent),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_checked),
        cmocka_unit_test(test_npy_mem),
        cmocka_unit_test(test_load_data_npz),
        cmocka_unit_test(test_load_data_csv),
        cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
