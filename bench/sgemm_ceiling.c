/* bench/sgemm_ceiling.c: measures what OpenBLAS's cblas_sgemm can do on this
 * machine, the ceiling the benchmark compares the trainer against.
 *
 * It times a large square GEMM (2048^3 by default, best of a few repetitions)
 * and every GEMM one training step of a Sequential dense network makes at a
 * given batch size: for each dense layer in->out,
 *   forward  Y[B,out]  = X[B,in]   * W[in,out]     (M=B,   N=out, K=in)
 *   weights  dW[in,out] = X^T[in,B] * dY[B,out]    (M=in,  N=out, K=B)
 *   inputs   dX[B,in]  = dY[B,out] * W^T[out,in]   (M=B,   N=in,  K=out)
 * (no input gradient for the first layer), with each requested thread count
 * (openblas_set_num_threads).
 *
 * Besides the table it prints lines run.sh parses:
 *   CONFIG <openblas_get_config()> CORE <openblas_get_corename()>
 *   CEILING threads=T gflops=G
 *   STEP threads=T us=U gflops=G   (all GEMMs of one step, back to back)
 *
 * Build: cc -O2 bench/sgemm_ceiling.c $(pkg-config --cflags --libs openblas)
 * Usage: sgemm_ceiling [--config] [--threads 1,2] [--batch 32]
 *                      [--dims 784,128,64,10] [--size 2048]
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_DIMS = 16, MAX_THREADS = 8, MAX_SHAPES = 3 * MAX_DIMS };

/* One GEMM: C[M,N] = op(A) * op(B), row-major. */
typedef struct {
    char name[48];
    int m, n, k;
    int trans_a, trans_b;
} gemm_shape;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *alloc_filled(size_t count, unsigned *state)
{
    /* Round up so aligned_alloc's size is a multiple of the alignment. */
    size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        fprintf(stderr, "sgemm_ceiling: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    for (size_t i = 0; i < count; i++) {
        *state = *state * 1664525u + 1013904223u;
        p[i] = (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return p;
}

static void run_gemm(const gemm_shape *s, const float *a, const float *b, float *c)
{
    int lda = s->trans_a ? s->m : s->k;
    int ldb = s->trans_b ? s->k : s->n;
    cblas_sgemm(CblasRowMajor, s->trans_a ? CblasTrans : CblasNoTrans,
                s->trans_b ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f, a, lda,
                b, ldb, 0.0f, c, s->n);
}

static double shape_flops(const gemm_shape *s)
{
    return 2.0 * s->m * s->n * s->k;
}

/* Seconds for one pass over shapes[0..count) run back to back: the best
 * over `reps` timed rounds, each round repeating the pass often enough
 * (>= 20 ms) for the clock to be meaningful. */
static double time_calls(const gemm_shape *shapes, int count, float *a, float *b, float *c,
                         int reps)
{
    int inner = 1;
    for (;;) { /* calibrate the inner loop; this also warms up */
        double t0 = now_seconds();
        for (int i = 0; i < inner; i++)
            for (int j = 0; j < count; j++)
                run_gemm(&shapes[j], a, b, c);
        if (now_seconds() - t0 >= 0.02 || inner >= (1 << 20))
            break;
        inner *= 2;
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        for (int i = 0; i < inner; i++)
            for (int j = 0; j < count; j++)
                run_gemm(&shapes[j], a, b, c);
        double per = (now_seconds() - t0) / inner;
        if (per < best)
            best = per;
    }
    return best;
}

static int parse_list(const char *text, int *out, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0)
            return -1;
        out[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return *p ? -1 : n;
}

static void usage(void)
{
    fprintf(stderr, "usage: sgemm_ceiling [--config] [--threads 1,2] [--batch 32] "
                    "[--dims 784,128,64,10] [--size 2048]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int threads[MAX_THREADS] = {1, 2}, nthreads = 2;
    int dims[MAX_DIMS] = {784, 128, 64, 10}, ndims = 4;
    int batch = 32, size = 2048, config_only = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--config")) {
            config_only = 1;
        } else if (!strcmp(arg, "--threads") && val) {
            nthreads = parse_list(val, threads, MAX_THREADS);
            i++;
        } else if (!strcmp(arg, "--dims") && val) {
            ndims = parse_list(val, dims, MAX_DIMS);
            i++;
        } else if (!strcmp(arg, "--batch") && val) {
            batch = atoi(val);
            i++;
        } else if (!strcmp(arg, "--size") && val) {
            size = atoi(val);
            i++;
        } else {
            usage();
        }
    }
    if (nthreads < 1 || ndims < 2 || batch < 1 || size < 1)
        usage();

    const char *coretype = getenv("OPENBLAS_CORETYPE");
    const char *l2 = getenv("OPENBLAS_L2_SIZE");
    printf("CONFIG %s CORE %s\n", openblas_get_config(), openblas_get_corename());
    printf("env OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n", coretype ? coretype : "(unset)",
           l2 ? l2 : "(unset)");
    if (config_only)
        return 0;

    /* The model's shapes. */
    gemm_shape shapes[MAX_SHAPES];
    int nshapes = 0;
    for (int l = 0; l + 1 < ndims; l++) {
        int in = dims[l], out = dims[l + 1];
        gemm_shape *s = &shapes[nshapes++];
        *s = (gemm_shape){"", batch, out, in, 0, 0};
        snprintf(s->name, sizeof s->name, "fwd L%d %dx%d*%dx%d", l + 1, batch, in, in, out);
        s = &shapes[nshapes++];
        *s = (gemm_shape){"", in, out, batch, 1, 0};
        snprintf(s->name, sizeof s->name, "dW  L%d %dx%d*%dx%d", l + 1, in, batch, batch, out);
        if (l > 0) {
            s = &shapes[nshapes++];
            *s = (gemm_shape){"", batch, in, out, 0, 1};
            snprintf(s->name, sizeof s->name, "dX  L%d %dx%d*%dx%d", l + 1, batch, out, out,
                     in);
        }
    }

    /* Buffers big enough for the square GEMM and every model shape. */
    size_t need = (size_t)size * size;
    for (int i = 0; i < nshapes; i++) {
        size_t mk = (size_t)shapes[i].m * shapes[i].k, kn = (size_t)shapes[i].k * shapes[i].n;
        size_t mn = (size_t)shapes[i].m * shapes[i].n;
        if (mk > need) need = mk;
        if (kn > need) need = kn;
        if (mn > need) need = mn;
    }
    unsigned seed = 12345u;
    float *a = alloc_filled(need, &seed), *b = alloc_filled(need, &seed);
    float *c = alloc_filled(need, &seed);

    double step_flops = 0;
    for (int i = 0; i < nshapes; i++)
        step_flops += shape_flops(&shapes[i]);

    for (int t = 0; t < nthreads; t++) {
        openblas_set_num_threads(threads[t]);
        printf("\nthreads=%d (openblas_get_num_threads()=%d)\n", threads[t],
               openblas_get_num_threads());
        printf("  %-28s %6s %6s %6s %10s %10s\n", "shape", "M", "N", "K", "us/call", "GFLOP/s");

        gemm_shape square = {"", size, size, size, 0, 0};
        snprintf(square.name, sizeof square.name, "square %d^3", size);
        double sec = time_calls(&square, 1, a, b, c, 5);
        double ceiling = shape_flops(&square) / sec * 1e-9;
        printf("  %-28s %6d %6d %6d %10.1f %10.1f\n", square.name, size, size, size, sec * 1e6,
               ceiling);

        for (int i = 0; i < nshapes; i++) {
            double s = time_calls(&shapes[i], 1, a, b, c, 5);
            printf("  %-28s %6d %6d %6d %10.2f %10.1f\n", shapes[i].name, shapes[i].m,
                   shapes[i].n, shapes[i].k, s * 1e6, shape_flops(&shapes[i]) / s * 1e-9);
        }
        double step = time_calls(shapes, nshapes, a, b, c, 5);
        printf("  %-28s %6s %6s %6s %10.2f %10.1f\n", "one step (all of the above)", "", "", "",
               step * 1e6, step_flops / step * 1e-9);
        printf("CEILING threads=%d gflops=%.1f\n", threads[t], ceiling);
        printf("STEP threads=%d us=%.2f gflops=%.1f\n", threads[t], step * 1e6,
               step_flops / step * 1e-9);
    }
    free(a);
    free(b);
    free(c);
    return 0;
}
